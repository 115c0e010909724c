import Testing
import SignetPrimitives
@testable import SignetPolicy

/// `{{ }}` substitution and condition operators (Kyverno pkg/engine/variables semantics).
@Suite struct VariablesTests {
    static let pod: JSONValue = .object([
        "apiVersion": "v1", "kind": "Pod",
        "metadata": .object(["name": "p", "namespace": "ns", "labels": .object(["app": "web"])]),
        "spec": .object(["containers": .array([.object(["name": "c", "image": "ghcr.io/org/app:1.2"])]),
                         "replicas": .integer(3)]),
    ])
    static let ctx = VariableContext(resource: pod, admission: AdmissionInfo(operation: .create, username: "system:serviceaccount:kube-system:builder"))

    @Test(arguments: [
        ("{{request.object.metadata.name}}", JSONValue.string("p")),
        ("name-{{ request.object.metadata.name }}", .string("name-p")),
        ("{{request.object.spec.replicas}}", .integer(3)),
        ("n={{request.object.spec.replicas}}", .string("n=3")),
        ("{{ request.object.metadata.labels.missing || 'dflt' }}", .string("dflt")),
        ("\\{{ not.a.variable }}", .string("{{ not.a.variable }}")),
        ("{{request.operation}}", .string("CREATE")),
        ("{{serviceAccountName}}/{{serviceAccountNamespace}}", .string("builder/kube-system")),
        ("{{images.containers.c.registry}} {{images.containers.c.tag}} {{images.containers.c.name}}", .string("ghcr.io 1.2 app")),
        ("{{ to_upper('{{request.object.metadata.name}}') }}", .string("P")),
    ])
    func substitutes(_ input: String, _ expected: JSONValue) throws {
        #expect(try Variables.substitute(string: input, in: VariablesTests.ctx) == expected)
    }

    /// Kyverno's go-jmespath reports a missing key (`Unknown key "nope" in path`), in patterns
    /// and in conditions alike; an explicit null is a value.
    @Test func unknownKeyIsAnErrorInEveryMode() throws {
        #expect(throws: SignetPolicyError.self) { try Variables.substitute(string: "{{request.object.nope}}", in: VariablesTests.ctx) }
        #expect(throws: SignetPolicyError.self) { try Variables.substitute(string: "{{request.object.nope}}", in: VariablesTests.ctx, mode: .conditions) }
        #expect(try Variables.substitute(string: "{{request.object.spec.containers[5]}}", in: VariablesTests.ctx) == .null)
        #expect(try Variables.substitute(string: "x={{request.object.spec.containers[5]}}", in: VariablesTests.ctx) == .string("x=null"))
    }

    @Test(arguments: [
        (JSONValue.string("web"), ConditionOperator.equals, JSONValue.string("w*"), true),
        (.string("web"), .notEquals, .string("web"), false),
        (.string("a"), .anyIn, .array(["b", "a"]), true),
        (.array(["a", "c"]), .allIn, .array(["a", "b"]), false),
        (.array(["a", "c"]), .anyNotIn, .array(["a", "b"]), true),
        (.array(["x", "y"]), .allNotIn, .array(["a", "b"]), true),
        (.integer(5), .greaterThan, .integer(3), true),
        (.string("2Gi"), .greaterThan, .string("1500Mi"), true),
        (.string("1h"), .lessThan, .string("30m"), false),
        (.string("1.10.0"), .greaterThanOrEquals, .string("1.9.3"), true),
        (.integer(4), .anyIn, .array(["1-5"]), true),
    ])
    func operators(_ key: JSONValue, _ op: ConditionOperator, _ value: JSONValue, _ expected: Bool) {
        #expect(ConditionOperators.apply(op, key: key, value: value) == expected)
    }
}
