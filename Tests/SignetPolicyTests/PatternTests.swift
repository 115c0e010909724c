import Testing
@testable import SignetPolicy
import SignetPrimitives

/// Scalar pattern semantics (pkg/engine/pattern): operators, ranges, quantities, durations, globs.
@Suite struct ScalarPatternTests {
    struct Case: CustomStringConvertible, Sendable {
        let pattern: JSONValue
        let value: JSONValue?
        let expected: Bool
        var description: String { "\(pattern.jsonString) vs \(value?.jsonString ?? "<missing>") -> \(expected)" }
    }

    static let cases: [Case] = [
        // strings and globs: `*` spans `/`, `?` is one character
        .init(pattern: "nginx", value: "nginx", expected: true),
        .init(pattern: "nginx", value: "nginx2", expected: false),
        .init(pattern: "*:*", value: "nginx:1.2", expected: true),
        .init(pattern: "*:*", value: "nginx", expected: false),
        .init(pattern: "registry.io/*", value: "registry.io/a/b:c", expected: true),
        .init(pattern: "?*", value: "", expected: false),
        .init(pattern: "?*", value: "x", expected: true),
        .init(pattern: "?*", value: nil, expected: false),
        .init(pattern: "a?c", value: "abc", expected: true),
        .init(pattern: "a?c", value: "ac", expected: false),
        .init(pattern: "!*:latest", value: "nginx:latest", expected: false),
        .init(pattern: "!*:latest", value: "nginx:1.0", expected: true),
        // alternatives and conjunctions
        .init(pattern: "IfNotPresent|Always", value: "Always", expected: true),
        .init(pattern: "IfNotPresent | Always", value: "Never", expected: false),
        .init(pattern: ">1 & <5", value: 3, expected: true),
        .init(pattern: ">1 & <5", value: 5, expected: false),
        // numbers: pattern numbers are float64; values int64, float64 or numeric strings
        .init(pattern: 2, value: 2, expected: true),
        .init(pattern: 2, value: .number(2.0), expected: true),
        .init(pattern: 2, value: "2", expected: true),
        .init(pattern: 2, value: 3, expected: false),
        .init(pattern: .number(2.5), value: 2, expected: false),
        // operators with quantities and durations
        .init(pattern: ">0", value: 10, expected: true),
        .init(pattern: ">0", value: 0, expected: false),
        .init(pattern: ">0", value: nil, expected: false),
        .init(pattern: "<=1Gi", value: "512Mi", expected: true),
        .init(pattern: "<=1Gi", value: "2Gi", expected: false),
        .init(pattern: ">=100m", value: "0.1", expected: true),
        .init(pattern: "<1h", value: "30m", expected: true),
        .init(pattern: ">10s", value: "1m", expected: true),
        .init(pattern: "!0", value: 0, expected: false),
        .init(pattern: "!0", value: 1, expected: true),
        // ranges
        .init(pattern: "1-10", value: 5, expected: true),
        .init(pattern: "1-10", value: 11, expected: false),
        .init(pattern: "1!-10", value: 11, expected: true),
        .init(pattern: "1!-10", value: 5, expected: false),
        .init(pattern: "30000-32767", value: 30080, expected: true),
        .init(pattern: "1Mi-1Gi", value: "512Mi", expected: true),
        // booleans only equal booleans
        .init(pattern: true, value: true, expected: true),
        .init(pattern: true, value: "true", expected: false),
        .init(pattern: false, value: nil, expected: false),
        .init(pattern: "false", value: false, expected: true),
        // null pattern: missing, "", 0, false
        .init(pattern: nil, value: nil, expected: true),
        .init(pattern: nil, value: "", expected: true),
        .init(pattern: nil, value: 0, expected: true),
        .init(pattern: nil, value: false, expected: true),
        .init(pattern: nil, value: "x", expected: false),
        // numbers as strings in glob comparisons use Go's %E form for float64
        .init(pattern: "8*", value: .number(80), expected: true),
    ]

    @Test(arguments: cases)
    func scalar(_ c: Case) {
        #expect(ScalarPattern(c.pattern).validate(c.value) == c.expected)
    }

    @Test(arguments: [
        (">=5", ScalarPattern.Op.moreEqual), ("<=5", .lessEqual), (">5", .more), ("<5", .less), ("!5", .notEqual),
        ("5", .equal), ("1-5", .inRange), ("1!-5", .notInRange), ("a-b", .equal), ("-5", .equal), ("!-5", .notEqual),
    ])
    func operatorParsing(_ p: String, _ op: ScalarPattern.Op) {
        #expect(ScalarPattern.operatorOf(p) == op)
    }

    @Test(arguments: [("300ms", 300_000_000), ("1.5h", 5_400_000_000_000), ("2h45m", 9_900_000_000_000), ("0", 0), ("-1s", -1_000_000_000)] as [(String, Int64)])
    func goDurations(_ s: String, _ ns: Int64) {
        #expect((try? GoDuration(parsing: s))?.nanoseconds == ns)
    }

    @Test(arguments: ["10", "s", "1x", "", "1000000000000000000000s"])
    func notDurations(_ s: String) { #expect((try? GoDuration(parsing: s)) == nil) }

    @Test(arguments: [("1Gi", "1024Mi"), ("1k", "1000"), ("500m", "0.5"), ("1e3", "1k")])
    func equalQuantities(_ a: String, _ b: String) throws {
        #expect(try Quantity(parsing: a) == Quantity(parsing: b))
    }

    /// Issue 10 (3): these trapped (`abs(Int.min)`); a comparison on them is simply false.
    @Test(arguments: ["1e-9223372036854775808", "1e9223372036854775807", "9999999999999999999999999999999Ei", "-0.00000000000000000000001n"])
    func hostileQuantitiesCompareWithoutTrapping(_ value: String) {
        let pattern = Pattern(["memory": "<=1Gi"])
        _ = pattern.match(["memory": .string(value)])
    }
}

/// Wildcards (go-wildcard 1.0 semantics).
@Suite struct WildcardTests {
    @Test(arguments: [
        ("*", "", true), ("*", "a/b", true), ("a*", "a/b/c", true), ("*.io/*", "evil.com/x.io/y", true),
        ("?", "a", true), ("?", "", false), ("a?", "ab", true), ("a?", "abc", false), ("", "", true), ("", "a", false),
        ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("kube-*", "kube-system", true), ("é*", "été", true),
    ])
    func match(_ p: String, _ s: String, _ expected: Bool) {
        #expect(Wildcard.match(p, s) == expected)
    }
}

/// Map/array/anchor semantics of whole patterns, with Kyverno's paths.
@Suite struct PatternMatchTests {
    static func pod(_ containers: [JSONValue], extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: [String: JSONValue] = ["containers": .array(containers)]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "labels": ["app": "web"]], "spec": .object(spec)]
    }

    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let pattern: JSONValue
        let resource: JSONValue
        let expected: Pattern.Outcome
        var description: String { name }
    }

    static let cases: [Case] = [
        .init(name: "first array element applies to every element",
              pattern: ["spec": ["containers": [["image": "!*:latest"]]]],
              resource: pod([["image": "a:1"], ["image": "b:latest"]]),
              expected: .fail(path: "/spec/containers/1/image/", message: "")),
        .init(name: "empty resource array passes",
              pattern: ["spec": ["containers": [["image": "*:*"]]]],
              resource: pod([]), expected: .pass),
        .init(name: "keys absent from the pattern are ignored",
              pattern: ["metadata": ["labels": ["app": "web"]]],
              resource: pod([["image": "a", "name": "x"]]), expected: .pass),
        .init(name: "star requires the key",
              pattern: ["spec": ["hostname": "*"]],
              resource: pod([]), expected: .fail(path: "/spec/", message: "")),
        .init(name: "conditional anchor mismatch skips",
              pattern: ["spec": ["containers": [["(name)": "special", "image": "x"]]]],
              resource: pod([["name": "a", "image": "y"]]), expected: .skip(message: "")),
        .init(name: "conditional anchor match then fail",
              pattern: ["spec": ["containers": [["(name)": "special", "image": "x"]]]],
              resource: pod([["name": "special", "image": "y"]]), expected: .fail(path: "/spec/containers/0/image/", message: "")),
        .init(name: "equality anchor: absent passes",
              pattern: ["spec": ["=(hostNetwork)": false]],
              resource: pod([]), expected: .pass),
        .init(name: "equality anchor: present must match",
              pattern: ["spec": ["=(hostNetwork)": false]],
              resource: pod([], extra: ["hostNetwork": true]), expected: .fail(path: "/spec/hostNetwork/", message: "")),
        .init(name: "negation anchor: present fails",
              pattern: ["spec": ["X(hostPID)": "null"]],
              resource: pod([], extra: ["hostPID": true]), expected: .fail(path: "/spec/hostPID/", message: "")),
        .init(name: "negation anchor: absent passes",
              pattern: ["spec": ["X(hostPID)": "null"]],
              resource: pod([]), expected: .pass),
        .init(name: "existence anchor: one element must match",
              pattern: ["spec": ["^(containers)": [["image": "nginx*"]]]],
              resource: pod([["image": "a"], ["image": "nginx:1"]]), expected: .pass),
        .init(name: "existence anchor: none matches",
              pattern: ["spec": ["^(containers)": [["image": "nginx*"]]]],
              resource: pod([["image": "a"]]), expected: .fail(path: "/spec/containers/", message: "")),
        .init(name: "global anchor mismatch skips the rule",
              pattern: ["spec": ["containers": [["<(image)": "special*", "imagePullPolicy": "Always"]]]],
              resource: pod([["image": "nginx", "imagePullPolicy": "IfNotPresent"]]), expected: .skip(message: "")),
        .init(name: "global anchor match enforces siblings",
              pattern: ["spec": ["containers": [["<(image)": "special*", "imagePullPolicy": "Always"]]]],
              resource: pod([["image": "special:1", "imagePullPolicy": "IfNotPresent"]]), expected: .fail(path: "/spec/containers/0/imagePullPolicy/", message: "")),
        .init(name: "different structures fail at the path",
              pattern: ["spec": ["securityContext": ["runAsNonRoot": true]]],
              resource: pod([]), expected: .fail(path: "/spec/securityContext/", message: "")),
        .init(name: "wildcard label keys expand against the resource",
              pattern: ["metadata": ["labels": ["app*": "?*"]]],
              resource: pod([]), expected: .pass),
        .init(name: "conditional anchor on a key missing from every element skips",
              pattern: ["spec": ["containers": [["(securityContext)": ["privileged": true]]], "hostname": "x"]],
              resource: pod([["image": "a"]]), expected: .skip(message: "")),
    ]

    static func kind(_ o: Pattern.Outcome) -> String {
        switch o {
        case .pass: return "pass"
        case .fail(let p, _): return "fail@" + p
        case .skip: return "skip"
        case .error: return "error"
        }
    }

    @Test(arguments: cases)
    func outcome(_ c: Case) {
        #expect(PatternMatchTests.kind(Pattern(c.pattern).match(c.resource)) == PatternMatchTests.kind(c.expected))
    }

    @Test func skipMessageNamesTheAnchor() {
        let r = Pattern(["spec": ["containers": [["(name)": "special", "image": "x"]]]]).match(PatternMatchTests.pod([["name": "a", "image": "y"]]))
        guard case .skip(let m) = r else { Issue.record("expected skip, got \(r)"); return }
        #expect(m.contains("conditional anchor mismatch: resource value 'a' does not match 'special' at path /spec/containers/0/name/"))
    }
}
