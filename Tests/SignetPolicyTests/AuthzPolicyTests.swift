import Testing
import SignetPrimitives
@testable import SignetPolicy

/// Envoy / HTTP authorization ValidatingPolicies (`evaluation.mode: Envoy|HTTP`), as Kyverno's CLI
/// evaluates `envoyPayloads` / `httpPayloads` (cmd/cli/kubectl-kyverno/processor/authz_processor.go).
@Suite struct AuthzPolicyTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var mode: String
        var spec: String
        var payload: String
        var status: RuleStatus
        var message: String
        var description: String { name }
    }

    static let envoyRequest = #"{"attributes":{"request":{"http":{"method":"GET","path":"/api","headers":{"x-user":"alice"}}},"contextExtensions":{"tenant":"a"}}}"#
    static let httpRequest = #"{"attributes":{"method":"POST","path":"/admin","host":"example.com","header":{"X-User":["alice","bob"]},"query":{"q":["1"]}}}"#

    static let cases: [Case] = [
        Case(name: "envoy allowed", mode: "Envoy", spec: "validations:\n  - expression: envoy.Allowed().WithHeader('x-a', 'b').Response()",
             payload: envoyRequest, status: .pass, message: "request allowed"),
        Case(name: "envoy denied with code", mode: "Envoy",
             spec: "validations:\n  - expression: \"object.attributes.request.http.headers['x-user'] == 'alice' ? envoy.Denied(403).WithBody('no').Response() : null\"",
             payload: envoyRequest, status: .fail, message: "request denied with status code 403"),
        Case(name: "envoy proto field names and defaults", mode: "Envoy",
             spec: "validations:\n  - expression: \"object.attributes.context_extensions.tenant == 'a' && object.attributes.request.http.host == '' ? envoy.Allowed().Response().WithMessage('ok') : null\"",
             payload: envoyRequest, status: .pass, message: "request allowed"),
        Case(name: "envoy null responses skip", mode: "Envoy", spec: "validations:\n  - expression: \"null\"",
             payload: envoyRequest, status: .skip, message: "request does not match"),
        Case(name: "envoy match condition not met", mode: "Envoy",
             spec: "matchConditions:\n  - name: post\n    expression: object.attributes.request.http.method == 'POST'\n  validations:\n  - expression: envoy.Denied(401).Response()",
             payload: envoyRequest, status: .skip, message: "request does not match"),
        Case(name: "envoy first non-null response wins", mode: "Envoy",
             spec: "variables:\n  - name: get\n    expression: object.attributes.request.http.method == 'GET'\n  validations:\n  - expression: \"variables.get ? null : envoy.Denied(403).Response()\"\n  - expression: envoy.Allowed().Response()",
             payload: envoyRequest, status: .pass, message: "request allowed"),
        Case(name: "http header lookup is canonical", mode: "HTTP",
             spec: "validations:\n  - expression: \"object.attributes.Header('x-user') == ['alice', 'bob'] && object.attributes.QueryParam('q') == ['1'] ? http.Allowed().Response() : http.Denied('no').Response()\"",
             payload: httpRequest, status: .pass, message: "request allowed"),
        Case(name: "http denied reason", mode: "HTTP",
             spec: "validations:\n  - expression: \"object.attributes.path.startsWith('/admin') ? http.Denied('admin only').Response() : null\"",
             payload: httpRequest, status: .fail, message: "request denied, reason: admin only"),
        Case(name: "http zero values", mode: "HTTP",
             spec: "validations:\n  - expression: \"object.attributes.fragment == '' && object.attributes.contentLength == 0 && size(object.attributes.body) == 0 ? http.Allowed().Response() : null\"",
             payload: httpRequest, status: .pass, message: "request allowed"),
        Case(name: "error under failurePolicy Fail", mode: "HTTP", spec: "validations:\n  - expression: object.attributes.nope",
             payload: httpRequest, status: .error, message: ""),
        Case(name: "error under failurePolicy Ignore", mode: "HTTP", spec: "failurePolicy: Ignore\n  validations:\n  - expression: object.attributes.nope",
             payload: httpRequest, status: .skip, message: "request does not match"),
        Case(name: "non-response result is an error", mode: "HTTP", spec: "validations:\n  - expression: \"true\"",
             payload: httpRequest, status: .error, message: "rule result is expected to be http.CheckResponse"),
    ]

    static func policy(_ c: Case) throws -> ValidatingPolicy {
        let yaml = """
        apiVersion: policies.kyverno.io/v1alpha1
        kind: ValidatingPolicy
        metadata:
          name: authz
        spec:
          evaluation:
            mode: \(c.mode)
          \(c.spec)
        """
        let doc = try #require(try YAMLDocuments.parse(yaml).first?.objectValue)
        return try #require(ValidatingPolicyLoader.policy(from: doc))
    }

    @Test(arguments: cases) func evaluates(_ c: Case) throws {
        let engine = CELPolicyEngine(policies: [try Self.policy(c)])
        #expect(engine.diagnostics.isEmpty, "\(engine.diagnostics)")
        let kind: KyvernoAuthzLibrary.PayloadKind = c.mode == "Envoy" ? .envoy : .http
        let results = engine.evaluate(authzPayload: try JSONValue(json: c.payload), kind: kind)
        let rule = try #require(results.first?.rules.first)
        #expect(rule.rule == "authz")
        #expect(rule.status == c.status, "\(rule.message)")
        if !c.message.isEmpty { #expect(rule.message == c.message) }
        // authorization policies never apply to admission requests or JSON payloads
        #expect(engine.evaluate(jsonPayload: try JSONValue(json: c.payload)).isEmpty)
        // and an Envoy policy ignores HTTP requests (and the reverse)
        #expect(engine.evaluate(authzPayload: try JSONValue(json: c.payload), kind: kind == .envoy ? .http : .envoy).isEmpty)
    }

    @Test(arguments: [("content-type", "Content-Type"), ("X-USER", "X-User"), ("a b", "a b"), ("", "")])
    func canonicalHeaderKey(_ input: String, _ expected: String) {
        #expect(KyvernoAuthzLibrary.canonicalMIMEHeaderKey(input) == expected)
    }

    @Test func hostileNesting() throws {
        var v: JSONValue = ["attributes": [:]]
        for _ in 0..<500 { v = ["attributes": v] }
        // bounded: deep payloads are cut, never recursed without limit
        _ = KyvernoAuthzLibrary.envoyObject(v)
        _ = KyvernoAuthzLibrary.httpObject(v)
    }

    @Test func unknownModeIsDiagnosed() throws {
        let p = try Self.policy(Case(name: "bad", mode: "GRPC", spec: "validations:\n  - expression: \"true\"", payload: "{}", status: .error, message: ""))
        #expect(p.diagnostics.contains { $0.path.contains("spec.evaluation.mode") })
    }
}
