import Testing
import SignetPrimitives
@testable import SignetPolicy

/// ValidatingPolicy `auditAnnotations` as Kyverno evaluates them (pkg/cel/policies/vpol/compiler/
/// policy.go): after the validations, on pass and on fail; empty or null values add nothing; an
/// error or a non-string value makes the result an error.
@Suite struct CELAuditAnnotationTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var validation: String
        var valueExpression: String
        var status: RuleStatus
        var annotations: [String: String]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "pass", validation: "true", valueExpression: "object.spec.containers[0].image", status: .pass, annotations: ["image": "nginx:1"]),
        Case(name: "fail keeps annotations", validation: "false", valueExpression: "object.metadata.name", status: .fail, annotations: ["image": "p"]),
        Case(name: "empty value omitted", validation: "true", valueExpression: "''", status: .pass, annotations: [:]),
        Case(name: "null value omitted", validation: "true", valueExpression: "null", status: .pass, annotations: [:]),
        Case(name: "error is a rule error", validation: "true", valueExpression: "object.nope", status: .error, annotations: [:]),
        Case(name: "non-string is a rule error", validation: "true", valueExpression: "1", status: .error, annotations: [:]),
    ]

    @Test(arguments: cases) func evaluates(_ c: Case) throws {
        let yaml = """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: annotate
        spec:
          validationActions: [Audit]
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: ["v1"]
                operations: ["CREATE"]
                resources: ["pods"]
          validations:
            - expression: "\(c.validation)"
          auditAnnotations:
            - key: image
              valueExpression: "\(c.valueExpression)"
        """
        let doc = try #require(try YAMLDocuments.parse(yaml).first?.objectValue)
        let engine = CELPolicyEngine(policies: [try #require(ValidatingPolicyLoader.policy(from: doc))])
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
                              "spec": ["containers": [["name": "c", "image": "nginx:1"]]]]
        let rule = try #require(engine.evaluate(pod, admission: AdmissionInfo()).first?.rules.first)
        #expect(rule.status == c.status, "\(rule.message)")
        #expect(rule.auditAnnotations == c.annotations)
        if c.status == .error { #expect(rule.message.contains("failed to evaluate auditAnnotation 'image'")) }
    }
}
