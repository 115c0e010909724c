import Testing
@testable import SignetPolicy
import SignetPrimitives

func loadPolicy(_ yaml: String, strict: Bool = false) throws -> ClusterPolicy {
    let r = try PolicyLoader(strict: strict).load(yaml: yaml)
    guard let p = r.policies.first else { throw SignetPolicyError(.invalidPolicy, "no policy in test yaml") }
    return p
}

func pod(name: String = "p", namespace: String = "default", labels: [String: JSONValue] = [:], annotations: [String: JSONValue] = [:], images: [String]) -> JSONValue {
    ["apiVersion": "v1", "kind": "Pod",
     "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels), "annotations": .object(annotations)],
     "spec": ["containers": .array(images.enumerated().map { ["name": .string("c\($0.offset)"), "image": .string($0.element)] })]]
}

let latestPolicy = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-latest
spec:
  validationFailureAction: Enforce
  rules:
  - name: no-latest
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "Using a mutable image tag e.g. 'latest' is not allowed"
      pattern:
        spec:
          containers:
          - image: "!*:latest"
"""

@Suite struct ValidateTests {
    @Test func passAndFailMessages() throws {
        let engine = PolicyEngine(policies: [try loadPolicy(latestPolicy)])
        let ok = engine.validate(pod(images: ["nginx:1.25"]))
        #expect(ok.policies[0].rules.map(\.message) == ["validation rule 'no-latest' passed."])
        let bad = engine.validate(pod(images: ["nginx:1.25", "busybox:latest"]))
        let r = bad.policies[0].rules[0]
        #expect(r.status == .fail)
        #expect(r.message == "validation error: Using a mutable image tag e.g. 'latest' is not allowed. rule no-latest failed at path /spec/containers/1/image/")
        #expect(bad.blocked)
    }

    @Test func messageWithoutTextAndWithDot() throws {
        let noMsg = latestPolicy.replacingOccurrences(of: "      message: \"Using a mutable image tag e.g. 'latest' is not allowed\"\n", with: "")
        let e1 = PolicyEngine(policies: [try loadPolicy(noMsg)])
        #expect(e1.validate(pod(images: ["a:latest"])).policies[0].rules[0].message == "validation error: rule no-latest failed at path /spec/containers/0/image/")
        let dot = latestPolicy.replacingOccurrences(of: "is not allowed\"", with: "is not allowed.\"")
        let e2 = PolicyEngine(policies: [try loadPolicy(dot)])
        #expect(e2.validate(pod(images: ["a:latest"])).policies[0].rules[0].message == "validation error: Using a mutable image tag e.g. 'latest' is not allowed. rule no-latest failed at path /spec/containers/0/image/")
    }

    @Test func anyPatternMessages() throws {
        let yaml = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: any}
        spec:
          rules:
          - name: r
            match: {any: [{resources: {kinds: [Pod]}}]}
            validate:
              message: need one
              anyPattern:
              - spec: {hostNetwork: false}
              - metadata: {labels: {app: "?*"}}
        """
        let engine = PolicyEngine(policies: [try loadPolicy(yaml)])
        let pass = engine.validate(pod(labels: ["app": "x"], images: ["a"])).policies[0].rules[0]
        #expect(pass.message == "validation rule 'r' anyPattern[1] passed.")
        let fail = engine.validate(pod(images: ["a"])).policies[0].rules[0]
        #expect(fail.status == .fail)
        #expect(fail.message == "validation error: need one. rule r[0] failed at path /spec/hostNetwork/ rule r[1] failed at path /metadata/labels/app/")
    }

    @Test func auditDoesNotBlockButWarns() throws {
        let engine = PolicyEngine(policies: [try loadPolicy(latestPolicy.replacingOccurrences(of: "Enforce", with: "audit"))])
        let r = engine.validate(pod(images: ["a:latest"]))
        #expect(!r.blocked)
        #expect(r.policies[0].rules[0].failureAction == .audit)
        #expect(r.warnings.count == 1)
    }

    @Test func blockMessageEnvelope() throws {
        let engine = PolicyEngine(policies: [try loadPolicy(latestPolicy)])
        let r = engine.validate(pod(name: "web", images: ["a:latest"]))
        #expect(r.blockMessage == "\n\nresource Pod/default/web was blocked due to the following policies \n\ndisallow-latest:\n  no-latest: 'validation error: Using a mutable image tag e.g. ''latest'' is not allowed. rule no-latest failed at path /spec/containers/0/image/'\n")
    }

    @Test(arguments: [("plain", "plain"), ("a: b", "'a: b'"), ("true", "\"true\""), ("x #y", "'x #y'"), ("-x", "-x"), ("- x", "'- x'"), ("it's", "it's")])
    func yamlScalars(_ s: String, _ expected: String) {
        #expect(BlockMessage.scalar(s, indent: 2) == expected)
    }
}

@Suite struct FailureActionTests {
    static let yaml = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: fa}
    spec:
      validationFailureAction: Audit
      validationFailureActionOverrides:
      - action: Enforce
        namespaces: [prod-*]
      rules:
      - name: plain
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate: {pattern: {metadata: {labels: {team: "?*"}}}}
      - name: rule-level
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          failureAction: Enforce
          failureActionOverrides:
          - action: Audit
            namespaces: [dev]
          pattern: {metadata: {labels: {team: "?*"}}}
    """

    @Test(arguments: [("default", "plain", FailureAction.audit), ("prod-eu", "plain", .enforce), ("default", "rule-level", .enforce), ("dev", "rule-level", .audit), ("prod-eu", "rule-level", .enforce)])
    func resolution(_ ns: String, _ rule: String, _ expected: FailureAction) throws {
        let engine = PolicyEngine(policies: [try loadPolicy(FailureActionTests.yaml)])
        let r = engine.validate(pod(namespace: ns, images: ["a"]))
        #expect(r.policies[0].rules.first { $0.rule == rule }?.failureAction == expected)
    }
}

@Suite struct MatchTests {
    static func policy(_ match: String, exclude: String = "") -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: m}
        spec:
          rules:
          - name: r
            match: \(match)
        \(exclude.isEmpty ? "" : "    exclude: \(exclude)\n")    validate: {pattern: {metadata: {name: "*"}}}
        """
    }

    struct Case: Sendable, CustomStringConvertible {
        let match: String
        let exclude: String
        let admission: AdmissionInfo
        let matches: Bool
        var description: String { "\(match) / \(exclude)" }
    }

    static let admin = AdmissionInfo(username: "alice", groups: ["devs"], clusterRoles: ["cluster-admin"])
    static let cases: [Case] = [
        .init(match: "{resources: {kinds: [Pod]}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [v1/Pod]}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [apps/v1/Deployment]}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: ['*']}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [P*]}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [Pod], names: [we*]}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [Pod], names: [db*]}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: [Pod], namespaces: [prod]}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: [Pod], selector: {matchLabels: {app: web}}}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [Pod], selector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: [Pod], annotations: {owner: 't*'}}}", exclude: "", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: prod}}}}", exclude: "", admission: .init(namespaceLabels: ["env": "prod"]), matches: true),
        .init(match: "{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: prod}}}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: [Pod], operations: [UPDATE]}}", exclude: "", admission: .init(), matches: false),
        .init(match: "{any: [{resources: {kinds: [Deployment]}}, {resources: {kinds: [Pod]}}]}", exclude: "", admission: .init(), matches: true),
        .init(match: "{all: [{resources: {kinds: [Pod]}}, {resources: {kinds: [Pod], namespaces: [prod]}}]}", exclude: "", admission: .init(), matches: false),
        // user info: ignored in match without request info (CLI), enforced with it
        .init(match: "{any: [{resources: {kinds: [Pod]}, clusterRoles: [cluster-admin]}]}", exclude: "", admission: .init(), matches: true),
        .init(match: "{any: [{resources: {kinds: [Pod]}, clusterRoles: [cluster-admin]}]}", exclude: "", admission: admin, matches: true),
        .init(match: "{any: [{resources: {kinds: [Pod]}, subjects: [{kind: User, name: bob}]}]}", exclude: "", admission: admin, matches: false),
        .init(match: "{any: [{resources: {kinds: [Pod]}, subjects: [{kind: Group, name: dev*}]}]}", exclude: "", admission: admin, matches: true),
        // exclude
        .init(match: "{resources: {kinds: [Pod]}}", exclude: "{any: [{resources: {namespaces: [default]}}]}", admission: .init(), matches: false),
        .init(match: "{resources: {kinds: [Pod]}}", exclude: "{any: [{clusterRoles: [cluster-admin]}]}", admission: .init(), matches: true),
        .init(match: "{resources: {kinds: [Pod]}}", exclude: "{any: [{clusterRoles: [cluster-admin]}]}", admission: admin, matches: false),
        .init(match: "{resources: {kinds: [Pod]}}", exclude: "{all: [{resources: {namespaces: [default]}}, {resources: {names: [nope]}}]}", admission: .init(), matches: true),
    ]

    @Test(arguments: cases)
    func matching(_ c: Case) throws {
        let p = try loadPolicy(MatchTests.policy(c.match, exclude: c.exclude))
        #expect(!p.isInvalid, "\(p.diagnostics)")
        guard !p.isInvalid else { return }
        let engine = PolicyEngine(policies: [p])
        let r = engine.validate(pod(name: "web", labels: ["app": "web"], annotations: ["owner": "team-a"], images: ["a"]), admission: c.admission)
        #expect(!r.policies[0].rules.isEmpty == c.matches)
    }

    @Test func subresourceKinds() throws {
        let p = try loadPolicy(MatchTests.policy("{resources: {kinds: [Deployment/scale]}}"))
        let scale: JSONValue = ["apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": ["name": "d", "namespace": "default"], "spec": ["replicas": 2]]
        var a = AdmissionInfo(subresource: "scale")
        a.requestKind = ("apps", "v1", "Deployment")
        #expect(PolicyEngine(policies: [p]).validate(scale, admission: a).policies[0].rules.count == 1)
        #expect(PolicyEngine(policies: [p]).validate(scale).policies[0].rules.isEmpty)
    }

    @Test(arguments: [("Pod", "*", "*", "Pod", ""), ("v1/Pod", "*", "v1", "Pod", ""), ("apps/v1/Deployment", "apps", "v1", "Deployment", ""),
                      ("Deployment/scale", "*", "*", "Deployment", "scale"), ("networking.k8s.io/v1/Ingress", "networking.k8s.io", "v1", "Ingress", ""),
                      ("*/*", "*", "*", "*", "*"), ("v1beta1/CronJob", "*", "v1beta1", "CronJob", "")])
    func kindSelectors(_ raw: String, _ g: String, _ v: String, _ k: String, _ s: String) {
        let sel = KindSelector(raw)
        #expect([sel.group, sel.version, sel.kind, sel.subresource] == [g, v, k, s])
    }
}

@Suite struct AutogenTests {
    static let base = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: ag
      ANNOTATIONS
    spec:
      rules:
      - name: check
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate: {pattern: {spec: {containers: [{image: "!*:latest"}]}}}
    """

    @Test(arguments: [
        ("", ["check", "autogen-check", "autogen-cronjob-check"]),
        ("annotations: {pod-policies.kyverno.io/autogen-controllers: none}", ["check"]),
        ("annotations: {pod-policies.kyverno.io/autogen-controllers: 'Deployment,StatefulSet'}", ["check", "autogen-check"]),
        ("annotations: {pod-policies.kyverno.io/autogen-controllers: CronJob}", ["check", "autogen-cronjob-check"]),
    ])
    func ruleNames(_ ann: String, _ names: [String]) throws {
        let p = try loadPolicy(AutogenTests.base.replacingOccurrences(of: "ANNOTATIONS", with: ann))
        #expect(p.effectiveRules.map(\.name) == names)
    }

    @Test func controllerKindsAndTemplates() throws {
        let p = try loadPolicy(AutogenTests.base.replacingOccurrences(of: "ANNOTATIONS", with: ""))
        #expect(p.effectiveRules[1].match.any[0].resources.kinds.map(\.raw) == ["apps/v1/DaemonSet", "apps/v1/Deployment", "batch/v1/Job", "apps/v1/ReplicaSet", "v1/ReplicationController", "apps/v1/StatefulSet"])
        let engine = PolicyEngine(policies: [p])
        let deploy: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "default"],
                                 "spec": ["template": ["spec": ["containers": [["image": "x:latest"]]]]]]
        let r = engine.validate(deploy).policies[0].rules
        #expect(r.map(\.rule) == ["autogen-check"])
        #expect(r[0].message == "validation error: rule autogen-check failed at path /spec/template/spec/containers/0/image/")
        let cron: JSONValue = ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "c", "namespace": "default"],
                               "spec": ["jobTemplate": ["spec": ["template": ["spec": ["containers": [["image": "x:1"]]]]]]]]
        #expect(engine.validate(cron).policies[0].rules.map(\.status) == [.pass])
    }

    @Test func noAutogenWithSelectorsOrSeveralKinds() throws {
        let sel = try loadPolicy(AutogenTests.base.replacingOccurrences(of: "ANNOTATIONS", with: "").replacingOccurrences(of: "kinds: [Pod]", with: "kinds: [Pod], selector: {matchLabels: {a: b}}"))
        #expect(sel.effectiveRules.count == 1)
        let many = try loadPolicy(AutogenTests.base.replacingOccurrences(of: "ANNOTATIONS", with: "").replacingOccurrences(of: "kinds: [Pod]", with: "kinds: [Pod, Service]"))
        #expect(many.effectiveRules.count == 1)
    }
}

@Suite struct LoaderTests {
    @Test func defaults() throws {
        let p = try loadPolicy(latestPolicy)
        #expect(p.failurePolicy == .fail)
        #expect(p.webhookTimeoutSeconds == 10)
        #expect(p.background)
        #expect(p.validationFailureAction == .enforce)
        let audit = try loadPolicy(latestPolicy.replacingOccurrences(of: "  validationFailureAction: Enforce\n", with: ""))
        #expect(audit.validationFailureAction == .audit)
    }

    @Test func webhookConfigurationTakesPrecedence() throws {
        let p = try loadPolicy(latestPolicy.replacingOccurrences(of: "  validationFailureAction: Enforce\n", with: """
              validationFailureAction: Enforce
              failurePolicy: Fail
              webhookTimeoutSeconds: 5
              webhookConfiguration:
                failurePolicy: Ignore
                timeoutSeconds: 20
                matchConditions:
                  - name: not-system
                    expression: "!request.userInfo.username.startsWith('system:')"

            """))
        #expect(!p.isInvalid)
        #expect(p.failurePolicy == .ignore)
        #expect(p.webhookTimeoutSeconds == 20)
        #expect(p.diagnostics.contains { $0.severity == .warning && $0.path.hasSuffix("spec.webhookConfiguration.matchConditions") })
    }

    @Test(arguments: [
        ("  webhookConfiguration:\n    timeoutSeconds: 0\n", "spec.webhookConfiguration.timeoutSeconds"),
        ("  webhookConfiguration:\n    failurePolicy: Sometimes\n", "spec.webhookConfiguration.failurePolicy"),
        ("  webhookTimeoutSeconds: 31\n", "spec.webhookTimeoutSeconds"),
        ("  failurePolicy: Maybe\n", "spec.failurePolicy"),
        ("  validationFailureAction: Block\n", "spec.validationFailureAction"),
    ])
    func invalidSpecFields(_ line: String, _ path: String) throws {
        let p = try loadPolicy(latestPolicy.replacingOccurrences(of: "  validationFailureAction: Enforce\n", with: line))
        #expect(p.isInvalid)
        #expect(p.diagnostics.contains { $0.severity == .error && $0.path.hasSuffix(path) })
    }

    @Test func badAnchorsAndOperators() throws {
        let p = try loadPolicy(latestPolicy.replacingOccurrences(of: "- image: \"!*:latest\"", with: "- Y(image): \"=>1\""))
        #expect(p.isInvalid)
        let q = try loadPolicy(latestPolicy.replacingOccurrences(of: "- image: \"!*:latest\"", with: "- image: \"=>1\""))
        #expect(q.diagnostics.contains { $0.message.contains("unknown operator") })
        let e = try loadPolicy(latestPolicy.replacingOccurrences(of: "containers:\n          - image: \"!*:latest\"", with: "^(containers): {image: x}"))
        #expect(e.diagnostics.contains { $0.message.contains("existence anchor") })
    }

    @Test func unsupportedFieldsAreDiagnosedAndNeverPass() throws {
        let yaml = latestPolicy.replacingOccurrences(of: "    validate:\n", with: "    imageExtractorz:\n      Pod:\n      - path: /spec/x\n    validate:\n")
        let p = try loadPolicy(yaml)
        #expect(!p.isInvalid)
        #expect(p.diagnostics.contains { $0.severity == .warning && $0.path.hasSuffix("spec.rules[0].imageExtractorz") })
        let r = PolicyEngine(policies: [p]).validate(pod(images: ["a:1"])).policies[0].rules[0]
        #expect(r.status == .error)
        #expect(r.message.contains("not supported"))
        let strict = try loadPolicy(yaml, strict: true)
        #expect(strict.isInvalid)
    }

    @Test func listsAndMultipleDocuments() throws {
        let doc = "apiVersion: v1\nkind: List\nitems:\n" + latestPolicy.split(separator: "\n").enumerated().map { ($0.offset == 0 ? "- " : "  ") + $0.element }.joined(separator: "\n")
        let r = try PolicyLoader().load(yaml: doc + "\n---\n" + latestPolicy.replacingOccurrences(of: "disallow-latest", with: "second"))
        #expect(r.policies.map(\.name) == ["disallow-latest", "second"])
    }

    @Test func yamlScalarsResolveLikeKubernetes() throws {
        let v = try YAMLDocuments.parse("a: yes\nb: '1'\nc: 1\nd: 1.5\ne: ~\nf: 0x10\ng: 1e3\nh: v1\n")[0]
        #expect(v == ["a": true, "b": "1", "c": 1, "d": .number(1.5), "e": .null, "f": 16, "g": .number(1000), "h": "v1"])
    }

    @Test func jsonRoundTrip() throws {
        let v = try JSONValue(json: #"{"a":[1,2.5,"x\n\u00e9",true,null],"b":{}}"#)
        #expect(v == ["a": [1, .number(2.5), "x\né", true, nil], "b": [:]])
        #expect(try JSONValue(json: v.jsonString) == v)
    }
}
