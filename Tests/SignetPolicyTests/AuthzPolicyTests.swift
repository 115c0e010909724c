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

    /// A case for an Envoy (HTTP) mode policy evaluating `envoyRequest` (`httpRequest`).
    static func envoy(_ name: String, spec: String, _ status: RuleStatus, _ message: String) -> Case {
        Case(name: name, mode: "Envoy", spec: spec, payload: envoyRequest, status: status, message: message)
    }
    static func http(_ name: String, spec: String, _ status: RuleStatus, _ message: String) -> Case {
        Case(name: name, mode: "HTTP", spec: spec, payload: httpRequest, status: status, message: message)
    }

    static let cases: [Case] = [
        envoy("envoy allowed", spec: "validations:\n  - expression: envoy.Allowed().WithHeader('x-a', 'b').Response()",
             .pass, "request allowed"),
        envoy("envoy denied with code",
             spec: "validations:\n  - expression: \"object.attributes.request.http.headers['x-user'] == 'alice' ? envoy.Denied(403).WithBody('no').Response() : null\"",
             .fail, "request denied with status code 403"),
        envoy("envoy proto field names and defaults",
             spec: "validations:\n  - expression: \"object.attributes.context_extensions.tenant == 'a' && object.attributes.request.http.host == '' ? envoy.Allowed().Response().WithMessage('ok') : null\"",
             .pass, "request allowed"),
        envoy("envoy null responses skip", spec: "validations:\n  - expression: \"null\"",
             .skip, "request does not match"),
        envoy("envoy match condition not met",
             spec: "matchConditions:\n  - name: post\n    expression: object.attributes.request.http.method == 'POST'\n  validations:\n  - expression: envoy.Denied(401).Response()",
             .skip, "request does not match"),
        envoy("envoy first non-null response wins",
             spec: "variables:\n  - name: get\n    expression: object.attributes.request.http.method == 'GET'\n  validations:\n  - expression: \"variables.get ? null : envoy.Denied(403).Response()\"\n  - expression: envoy.Allowed().Response()",
             .pass, "request allowed"),
        http("http header lookup is canonical",
             spec: "validations:\n  - expression: \"object.attributes.Header('x-user') == ['alice', 'bob'] && object.attributes.QueryParam('q') == ['1'] ? http.Allowed().Response() : http.Denied('no').Response()\"",
             .pass, "request allowed"),
        http("http denied reason",
             spec: "validations:\n  - expression: \"object.attributes.path.startsWith('/admin') ? http.Denied('admin only').Response() : null\"",
             .fail, "request denied, reason: admin only"),
        http("http zero values",
             spec: "validations:\n  - expression: \"object.attributes.fragment == '' && object.attributes.contentLength == 0 && size(object.attributes.body) == 0 ? http.Allowed().Response() : null\"",
             .pass, "request allowed"),
        http("error under failurePolicy Fail", spec: "validations:\n  - expression: object.attributes.nope",
             .error, ""),
        http("error under failurePolicy Ignore", spec: "failurePolicy: Ignore\n  validations:\n  - expression: object.attributes.nope",
             .skip, "request does not match"),
        http("non-response result is an error", spec: "validations:\n  - expression: \"true\"",
             .error, "rule result is expected to be http.CheckResponse"),
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
        func depth(_ j: JSONValue) -> Int {
            switch j {
            case .object(let o): return 1 + (o.values.map(depth).max() ?? 0)
            case .array(let a): return 1 + (a.map(depth).max() ?? 0)
            default: return 0
            }
        }
        #expect(depth(v) > KyvernoAuthzLibrary.maxDepth)
        #expect(depth(KyvernoAuthzLibrary.snakeCased(v, depth: 0)) <= KyvernoAuthzLibrary.maxDepth)
    }

    @Test func unknownModeIsDiagnosed() throws {
        let p = try Self.policy(Case(name: "bad", mode: "GRPC", spec: "validations:\n  - expression: \"true\"", payload: "{}", status: .error, message: ""))
        #expect(p.diagnostics.contains { $0.path.contains("spec.evaluation.mode") })
    }
}
