import Foundation
import Testing
@testable import SignetPolicy
import SignetPrimitives

/// One Pod Security Standards check with a passing and a failing pod (Fixtures/pod-security/controls.yaml).
struct PodSecurityControlCase: Sendable, CustomTestStringConvertible {
    var check: String
    var level: PodSecurityLevel
    var reason: String
    var pass: JSONValue
    var fail: JSONValue
    var fields: [String]
    var detail: String
    var testDescription: String { check }

    static func load() -> [PodSecurityControlCase] {
        guard let url = Bundle.module.url(forResource: "Fixtures/pod-security/controls", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8),
              let docs = try? YAMLDocuments.parse(text), let list = docs.first?.arrayValue else { return [] }
        return list.map { c in
            PodSecurityControlCase(check: c["check"]?.stringValue ?? "", level: PodSecurityLevel(rawValue: c["level"]?.stringValue ?? "baseline") ?? .baseline,
                                   reason: c["reason"]?.stringValue ?? "", pass: c["pass"] ?? .null, fail: c["fail"] ?? .null,
                                   fields: (c["fields"]?.arrayValue ?? []).compactMap(\.stringValue), detail: c["detail"]?.stringValue ?? "")
        }
    }
}

func psPod(_ spec: JSONValue, kind: String = "Pod", annotations: [String: JSONValue] = [:], name: String = "p", namespace: String = "default") -> JSONValue {
    ["apiVersion": "v1", "kind": .string(kind), "metadata": ["name": .string(name), "namespace": .string(namespace), "annotations": .object(annotations)], "spec": spec]
}

@Suite struct PodSecurityTests {
    static let cases = PodSecurityControlCase.load()

    @Test func fixtureCoversEveryCheck() {
        #expect(Set(Self.cases.map(\.check)) == Set(PSS.checks.map(\.id)))
    }

    @Test(arguments: PodSecurityControlCase.load())
    func control(_ c: PodSecurityControlCase) throws {
        let rule = PodSecurityRule(level: c.level)
        let passing = try PodSecurity.evaluate(rule, resource: psPod(c.pass))
        #expect(!passing.failures.contains { $0.id == c.check })
        let failing = try PodSecurity.evaluate(rule, resource: psPod(c.fail))
        let f = try #require(failing.failures.first { $0.id == c.check })
        #expect(f.reason == c.reason)
        #expect(f.detail == c.detail)
        #expect((f.errors ?? []).map(\.formatted) == c.fields)
    }

    @Test func baselineSkipsRestrictedChecks() throws {
        let r = try PodSecurity.evaluate(PodSecurityRule(level: .baseline), resource: psPod(["containers": [["name": "a", "image": "x"]]]))
        #expect(r.allowed)
        let s = try PodSecurity.evaluate(PodSecurityRule(level: .restricted), resource: psPod(["containers": [["name": "a", "image": "x"]]]))
        #expect(s.failures.map(\.id) == ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"])
    }

    /// Kyverno's `evaluatePSS` skips only non-baseline checks at `baseline`: `privileged` runs every
    /// check (as `restricted` does), and a version older than every implementation of a check
    /// still runs its first one.
    @Test func kyvernoLevelAndVersionQuirks() throws {
        let bare = psPod(["containers": [["name": "a", "image": "x"]]])
        let p = try PodSecurity.evaluate(PodSecurityRule(level: .privileged), resource: bare)
        let r = try PodSecurity.evaluate(PodSecurityRule(level: .restricted), resource: bare)
        #expect(p == r)
        let old = try PodSecurity.evaluate(PodSecurityRule(level: .restricted, versionText: "v1.0"), resource: bare)
        #expect(old.failures.map(\.id).contains("allowPrivilegeEscalation"))
    }

    /// Versions select each check's implementation (`evaluatePSS`): sysctls allowed at v1.27+, seccomp
    /// annotations before v1.19, and the first implementation when every one is newer.
    @Test(arguments: [("v1.26", true), ("v1.27", false), ("latest", false)])
    func sysctlVersions(_ version: String, _ fails: Bool) throws {
        let spec: JSONValue = ["securityContext": ["sysctls": [["name": "net.ipv4.ip_local_reserved_ports", "value": "1"]]], "containers": [["name": "a", "image": "x"]]]
        let r = try PodSecurity.evaluate(PodSecurityRule(level: .baseline, versionText: version), resource: psPod(spec))
        #expect(r.failures.contains { $0.id == "sysctls" } == fails)
    }

    @Test func seccompAnnotationsBeforeV119() throws {
        let pod = psPod(["containers": [["name": "a", "image": "x"]]], annotations: ["seccomp.security.alpha.kubernetes.io/pod": "unconfined"])
        let old = try PodSecurity.evaluate(PodSecurityRule(level: .baseline, versionText: "v1.18"), resource: pod)
        #expect(old.failures.first?.detail == "forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\"")
        #expect(try PodSecurity.evaluate(PodSecurityRule(level: .baseline, versionText: "v1.19"), resource: pod).allowed)
    }

    @Test(arguments: ["latest", "", "v1.0", "v1.32", "v1.99"])
    func versionsParse(_ s: String) { #expect(PodSecurityVersion(parsing: s) != nil) }

    @Test(arguments: ["v2.1", "1.20", "v1.", "v1.01", "v1.x", "v1.999999999999999999999"])
    func versionsReject(_ s: String) { #expect(PodSecurityVersion(parsing: s) == nil) }

    @Test func controllersUseTheirTemplate() throws {
        let template: JSONValue = ["metadata": ["labels": ["a": "b"]], "spec": ["hostPID": true, "containers": [["name": "a", "image": "x"]]]]
        let deploy: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"], "spec": ["template": template]]
        let r = try PodSecurity.evaluate(PodSecurityRule(level: .baseline), resource: deploy)
        #expect(r.failures.map(\.id) == ["hostNamespaces"])
        #expect(PodSecurity.format(r.failures, kind: "Deployment") == "(Forbidden reason: host namespaces, field error list: [spec.template.spec.hostPID is forbidden, forbidden values found: true])")
        let cron: JSONValue = ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "c"], "spec": ["jobTemplate": ["spec": ["template": template]]]]
        let c = try PodSecurity.evaluate(PodSecurityRule(level: .baseline), resource: cron)
        #expect(PodSecurity.format(c.failures, kind: "CronJob").contains("spec.jobTemplate.spec.template.spec.hostPID"))
        #expect(throws: SignetPolicyError.self) { try PodSecurity.evaluate(PodSecurityRule(level: .baseline), resource: ["kind": "Service"]) }
    }

    // MARK: - Exclusions (Kyverno pkg/pss)

    static let hostPathPod = psPod(["volumes": [["name": "h", "hostPath": ["path": "/var/lib1"]]], "containers": [["name": "a", "image": "nginx"]]])

    @Test func podLevelExclusionWithValues() throws {
        let ok = PodSecurityRule(level: .baseline, exclude: [PodSecurityExclusion(controlName: "HostPath Volumes", restrictedField: "spec.volumes[*].hostPath", values: ["/var/lib*"])])
        #expect(try PodSecurity.evaluate(ok, resource: Self.hostPathPod).allowed)
        let other = PodSecurityRule(level: .baseline, exclude: [PodSecurityExclusion(controlName: "HostPath Volumes", restrictedField: "spec.volumes[*].hostPath", values: ["/etc"])])
        #expect(!(try PodSecurity.evaluate(other, resource: Self.hostPathPod).allowed))
        let wrongControl = PodSecurityRule(level: .baseline, exclude: [PodSecurityExclusion(controlName: "Host Namespaces")])
        #expect(!(try PodSecurity.evaluate(wrongControl, resource: Self.hostPathPod).allowed))
    }

    @Test func containerLevelExclusionByImage() throws {
        let spec: JSONValue = ["containers": [["name": "a", "image": "nginx", "securityContext": ["privileged": true]],
                                              ["name": "b", "image": "busybox", "securityContext": ["privileged": true]]]]
        let one = PodSecurityRule(level: .baseline, exclude: [PodSecurityExclusion(controlName: "Privileged Containers", images: ["nginx"])])
        let r = try PodSecurity.evaluate(one, resource: psPod(spec))
        #expect(r.failures.first?.errors?.map(\.field) == ["spec.containers[1].securityContext.privileged"])
        let both = PodSecurityRule(level: .baseline, exclude: [PodSecurityExclusion(controlName: "Privileged Containers", images: ["nginx", "busy*"])])
        #expect(try PodSecurity.evaluate(both, resource: psPod(spec)).allowed)
    }

    @Test func seccompExclusionAtBothLevels() throws {
        // library pod-security/subrule/restricted/restricted-exclude-seccomp
        let rule = PodSecurityRule(level: .restricted, exclude: [PodSecurityExclusion(controlName: "Seccomp"), PodSecurityExclusion(controlName: "Seccomp", images: ["*"])])
        let good: JSONValue = ["securityContext": ["seccompProfile": ["type": "Unconfined"]],
                               "containers": [["name": "c", "image": "busybox:1.28", "securityContext": ["allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": ["drop": ["ALL"]]]]]]
        #expect(try PodSecurity.evaluate(rule, resource: psPod(good)).allowed)
        let bad: JSONValue = ["securityContext": ["seccompProfile": ["type": "Unconfined"]],
                              "containers": [["name": "c", "image": "busybox:1.28", "securityContext": ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]]]]]
        #expect(try PodSecurity.evaluate(rule, resource: psPod(bad)).failures.map(\.id) == ["runAsNonRoot"])
    }

    // MARK: - Rules through the engine

    static let policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: psa
    spec:
      rules:
      - name: baseline
        match:
          any:
          - resources:
              kinds: [Pod]
        validate:
          failureAction: Enforce
          podSecurity:
            level: baseline
            version: latest
    """

    @Test func engineRuleMessagesAndAutogen() throws {
        let p = try loadPolicy(Self.policy)
        #expect(!p.isInvalid)
        #expect(p.effectiveRules.map(\.name) == ["baseline", "autogen-baseline", "autogen-cronjob-baseline"])
        let engine = PolicyEngine(policies: [p])
        let pass = engine.validate(psPod(["containers": [["name": "a", "image": "x"]]])).policies[0].rules
        #expect(pass.map(\.status) == [.pass])
        #expect(pass.first?.message == "Validation rule 'baseline' passed.")
        let fail = engine.validate(Self.hostPathPod).policies[0].rules
        #expect(fail.first?.status == .fail)
        #expect(fail.first?.message == "Validation rule 'baseline' failed. It violates PodSecurity \"baseline:latest\": (Forbidden reason: hostPath volumes, field error list: [spec.volumes[0].hostPath is forbidden, forbidden values found: /var/lib1])")
        let deploy: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "default"],
                                 "spec": ["template": ["spec": ["hostNetwork": true, "containers": [["name": "a", "image": "x"]]]]]]
        let d = engine.validate(deploy).policies[0].rules
        #expect(d.map(\.rule) == ["autogen-baseline"])
        #expect(d.first?.status == .fail)
    }

    @Test func exceptionsWithPodSecurityExcludeControls() throws {
        let p = try loadPolicy(Self.policy)
        let exDoc = try #require(try YAMLDocuments.parse("""
        apiVersion: kyverno.io/v2
        kind: PolicyException
        metadata: {name: e, namespace: ns}
        spec:
          exceptions: [{policyName: psa, ruleNames: [baseline]}]
          match: {any: [{resources: {namespaces: [staging]}}]}
          podSecurity:
          - controlName: HostPath Volumes
            restrictedField: spec.volumes[*].hostPath
            values: [/var/lib1]
        """).first)
        let ex = try #require(PolicyException(document: exDoc))
        #expect(ex.diagnostics.isEmpty)
        let engine = PolicyEngine(policies: [p], exceptions: [ex])
        let staging = psPod(["volumes": [["name": "h", "hostPath": ["path": "/var/lib1"]]], "containers": [["name": "a", "image": "x"]]], namespace: "staging")
        let r = engine.validate(staging).policies[0].rules[0]
        #expect(r.status == .skip)
        #expect(r.exceptions == ["ns/e"])
        #expect(engine.validate(Self.hostPathPod).policies[0].rules[0].status == .fail)
        let privileged = psPod(["volumes": [["name": "h", "hostPath": ["path": "/var/lib1"]]], "containers": [["name": "a", "image": "x", "securityContext": ["privileged": true]]]], namespace: "staging")
        let still = engine.validate(privileged).policies[0].rules[0]
        #expect(still.status == .fail)
        #expect(!still.message.contains("hostPath"))
    }

    @Test func preconditionsRunBeforeTheChecks() throws {
        let yaml = Self.policy.replacingOccurrences(of: "    validate:\n", with: """
            preconditions:
              all:
              - key: "{{ request.object.metadata.labels.psa || '' }}"
                operator: Equals
                value: "on"
            validate:

        """)
        let engine = PolicyEngine(policies: [try loadPolicy(yaml)])
        let skipped = engine.validate(Self.hostPathPod).policies[0].rules.first
        #expect(skipped?.status == .skip)
        #expect(skipped?.message.hasPrefix("preconditions not met") == true)
        var labelled = Self.hostPathPod
        if case .object(var o) = labelled, case .object(var m)? = o["metadata"] { m["labels"] = ["psa": "on"]; o["metadata"] = .object(m); labelled = .object(o) }
        #expect(engine.validate(labelled).policies[0].rules.first?.status == .fail)
    }

    @Test func deleteIsSkippedAndExistingViolationsAllowed() throws {
        let engine = PolicyEngine(policies: [try loadPolicy(Self.policy)])
        var del = AdmissionInfo()
        del.operation = .delete
        #expect(engine.validate(Self.hostPathPod, admission: del).policies[0].rules.isEmpty)
        var upd = AdmissionInfo()
        upd.operation = .update
        upd.oldObject = Self.hostPathPod
        #expect(engine.validate(Self.hostPathPod, admission: upd).policies[0].rules.first?.status == .skip)
    }

    @Test(arguments: [
        ("level: superuser", "level"),
        ("level: baseline\n        version: v2", "version"),
        ("level: baseline\n        exclude: [{controlName: Volume Types}]", "exclude[0].controlName"),
        ("level: restricted\n        exclude: [{controlName: Capabilities}]", "exclude[0].controlName"),
        ("level: baseline\n        exclude: [{controlName: Host Namespaces, images: [x]}]", "exclude[0].controlName"),
        ("level: baseline\n        exclude: [{controlName: Sysctls, restrictedField: 'spec.securityContext.sysctls[*].name'}]", "exclude[0].values"),
        ("level: baseline\n        exclude: [{controlName: Nope}]", "exclude[0].controlName"),
    ])
    func invalidRules(_ body: String, _ path: String) throws {
        let yaml = Self.policy.replacingOccurrences(of: "level: baseline\n        version: latest", with: body)
        let p = try loadPolicy(yaml)
        #expect(p.isInvalid)
        #expect(p.diagnostics.contains { $0.severity == .error && $0.path.hasSuffix("podSecurity." + path) })
    }

    @Test func hostileInputDoesNotTrap() throws {
        // wrong types everywhere, huge indexes in field paths, many containers
        let weird: JSONValue = ["securityContext": "x", "volumes": [1, ["name": 2, "hostPath": ["path": 3]]],
                                "containers": .array((0..<300).map { i in ["name": .string("c\(i)"), "image": "nginx", "securityContext": ["privileged": true, "capabilities": ["add": [1, "SYS_ADMIN"]]], "ports": [["hostPort": 1.5]]] })]
        let rule = PodSecurityRule(level: .restricted, exclude: [PodSecurityExclusion(controlName: "Privileged Containers", images: ["*"]),
                                                                PodSecurityExclusion(controlName: "Capabilities", images: ["ngin?"])])
        let r = try PodSecurity.evaluate(rule, resource: psPod(weird))
        #expect(!r.failures.contains { $0.id == "privileged" })
        #expect(PodSecurity.FieldShape("spec.containers[99999999999999999999999].x", containerLevel: true).index == 0)
    }
}
