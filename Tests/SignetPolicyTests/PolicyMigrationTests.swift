import Foundation
import Testing
import SignetOCI
@testable import SignetPolicy
import SignetPrimitives

/// `signet migrate`: ClusterPolicy verifyImages → ImageValidatingPolicy, checked by applying the
/// old and the new policy to the same resources (what `migrate --check` is meant to do).
@Suite struct PolicyMigrationTests {
    static func seed() throws -> ClusterPolicy {
        let text = try SeedPolicyTests.load("container-image-policy.yaml")
        return try #require(try PolicyLoader().load(yaml: text).policies.first)
    }

    /// Loads the migrated documents back.
    static func reloadAll(_ out: PolicyMigration.Output) throws -> PolicyLoader.Result {
        let yaml = out.documents.map { $0.jsonString(sortedKeys: true, escapeHTML: false) }.joined(separator: "\n---\n")
        return try PolicyLoader().load(yaml: yaml)
    }

    static func reload(_ out: PolicyMigration.Output) throws -> [ImageValidatingPolicy] { try reloadAll(out).imageValidatingPolicies }

    /// The seed's ClusterPolicy converts completely: its verifyImages rule to an
    /// ImageValidatingPolicy, its registry pattern to a ValidatingPolicy.
    /// `signet migrate` prints block YAML (`YAMLEmitter`) that reads back to the same documents:
    /// Kubernetes key order, ambiguous strings quoted, multi-line strings as literal blocks.
    @Test func migratedDocumentsPrintAsYAMLThatReadsBack() throws {
        let out = PolicyMigration.migrate(try Self.seed())
        let text = try YAMLEmitter.documents(out.documents)
        #expect(try YAMLDocuments.parse(text) == out.documents)
        #expect(text.hasPrefix("apiVersion: policies.kyverno.io/v1\nkind: ValidatingPolicy\nmetadata:\n"), "\(text)")
        #expect(text.contains("\n---\napiVersion: "))
        let tricky: JSONValue = ["kind": "X", "a": ["true", "1", "null", "", "- x", "multi\nline\n", "#c", "x: y"], "n": 1.5, "i": 7, "b": false, "z": .null]
        let printed = try YAMLEmitter.document(tricky)
        let reread = try YAMLDocuments.parse(printed)
        #expect(reread == [tricky], "\(reread)")
        #expect(printed.hasPrefix("kind: X\n"))
        #expect(printed.contains("|"), "multi-line strings are literal blocks: \(printed)")
        var deep: JSONValue = "leaf"
        for _ in 0..<100 { deep = .array([deep]) }
        #expect(throws: SignetPolicyError.self) { try YAMLEmitter.document(deep) }
    }

    @Test func seedConvertsCompletely() throws {
        let out = PolicyMigration.migrate(try Self.seed())
        #expect(out.diagnostics.isEmpty, "\(out.diagnostics)")
        #expect(out.isComplete)
        #expect(out.convertedRules == ["check-registry", "check-image-signature"])
        let all = try Self.reloadAll(out)
        #expect(all.validatingPolicies.count == 1)
        #expect(all.validatingPolicies.first?.validations.first?.expression
                == "(has(object.spec) && (has(object.spec.containers) && object.spec.containers.all(e2, (has(e2.image) && string(e2.image).matches('^127[.]0[.]0[.]1:5000/.*$')))))")
        #expect(all.validatingPolicies.first?.isInvalid == false)
        let policies = all.imageValidatingPolicies
        let p = try #require(policies.first)
        #expect(!p.isInvalid, "\(p.diagnostics)")
        #expect(p.diagnostics.isEmpty, "\(p.diagnostics)")
        #expect(p.attestors.first?.kind == .cosignKey(CosignKeyAttestor(key: .kms("hashivault://cosign"), insecureIgnoreTlog: true)))
        #expect(p.matchImageReferences == [.glob("127.0.0.1:5000/*")])
        #expect(p.failurePolicy == .fail && p.validationActions == [.deny] && p.base.webhookTimeoutSeconds == 30)
        #expect(CELPolicyEngine(policies: [], imagePolicies: policies).diagnostics.isEmpty)
    }

    /// Old and new give the same decision on signed, unsigned, other-registry and Deployment resources.
    @Test(arguments: [
        ("127.0.0.1:5000/app:signed", "Pod", false), ("127.0.0.1:5000/app:unsigned", "Pod", true),
        ("127.0.0.1:5000/app:signed", "Deployment", false), ("127.0.0.1:5000/app:unsigned", "Deployment", true),
        ("docker.io/library/ubuntu:22.04", "Pod", true), ("docker.io/library/ubuntu:22.04", "Deployment", true),
    ])
    func sameDecisions(image: String, kind: String, blocked: Bool) async throws {
        let seed = try Self.seed()
        let migrated = try Self.reloadAll(PolicyMigration.migrate(seed))
        let verifier = FakeVerifier(signed: ["127.0.0.1:5000/app:signed": ["hashivault://cosign"]])
        let old = PolicyEngine(policies: [seed], verifier: verifier)
        let new = PolicyEngine(policies: [], verifier: verifier,
                               celEngine: CELPolicyEngine(policies: migrated.validatingPolicies, imagePolicies: migrated.imageValidatingPolicies))
        let container: JSONValue = ["name": "c", "image": .string(image)]
        let resource: JSONValue = kind == "Pod"
            ? ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"], "spec": ["containers": [container]]]
            : ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "default"],
               "spec": ["template": ["spec": ["containers": [container]]]]]
        let o = await old.evaluate(resource)
        let n = await new.evaluate(resource)
        #expect(o.blocked == blocked, "\(o.blockMessage)")
        #expect(n.blocked == blocked, "\(n.blockMessage)")
        #expect(o.patches == n.patches)
    }

    /// `migrate --check` reports no difference for the seed, and a difference for a wrong migration.
    @Test func checkFindsDifferences() async throws {
        let seed = try Self.seed()
        let out = PolicyMigration.migrate(seed)
        let migrated = try Self.reloadAll(out)
        let verifier = FakeVerifier(signed: ["127.0.0.1:5000/app:signed": ["hashivault://cosign"]])
        let pods: [JSONValue] = ["signed", "unsigned"].map { tag in
            ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(tag), "namespace": "default"],
             "spec": ["containers": [["name": "c", "image": .string("127.0.0.1:5000/app:\(tag)")]]]]
        }
        #expect(await PolicyMigration.check(seed, migrated: migrated, convertedRules: out.convertedRules, resources: pods, verifier: verifier).isEmpty)
        var wrong = migrated
        wrong.imageValidatingPolicies[0].base.validationActions = [.audit]
        let diffs = await PolicyMigration.check(seed, migrated: wrong, convertedRules: out.convertedRules, resources: pods, verifier: verifier)
        #expect(diffs.map(\.resource.name) == ["unsigned"])
        #expect(diffs.first?.description.contains("ClusterPolicy blocks, migrated policies allow") == true)
    }

    static let patternCases: [(String, String, Bool)] = [
        (#"{"spec": {"containers": [{"image": "ghcr.io/*"}]}}"#, #"{"spec": {"containers": [{"image": "ghcr.io/a:1"}, {"image": "ghcr.io/b"}]}}"#, true),
        (#"{"spec": {"containers": [{"image": "ghcr.io/*"}]}}"#, #"{"spec": {"containers": [{"image": "ghcr.io/a:1"}, {"image": "evil.io/ghcr.io/b"}]}}"#, false),
        (#"{"spec": {"containers": [{"image": "ghcr.io/*"}]}}"#, #"{"metadata": {}}"#, false),
        (#"{"metadata": {"labels": {"team": "?*"}}}"#, #"{"metadata": {"labels": {"team": "blue"}}}"#, true),
        (#"{"metadata": {"labels": {"team": "?*"}}}"#, #"{"metadata": {"labels": {"team": ""}}}"#, false),
        (#"{"spec": {"hostNetwork": false}}"#, #"{"spec": {"hostNetwork": true}}"#, false),
        (#"{"spec": {"replicas": 3}}"#, #"{"spec": {"replicas": 3}}"#, true),
        (#"{"metadata": {"name": "*"}}"#, #"{"metadata": {"name": "x"}}"#, true),
    ]

    /// Converted patterns decide like the pattern engine on these resources.
    @Test(arguments: patternCases)
    func patternConversionAgreesWithThePatternEngine(pattern: String, resource: String, passes: Bool) throws {
        let pv = try JSONValue(json: pattern)
        guard case .object(var o) = try JSONValue(json: resource) else { Issue.record("not an object"); return }
        o["apiVersion"] = "v1"
        o["kind"] = "Pod"
        let rv = JSONValue.object(o)
        #expect((Pattern(pv).match(rv) == .pass) == passes)
        let expr = try #require(PolicyMigration.celCondition("object", pv, depth: 0))
        let vpol: JSONValue = ["apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": ["name": "v"],
                               "spec": ["matchConstraints": ["resourceRules": [["apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]]]],
                                        "validations": [["expression": .string(expr)]]]]
        let loaded = try PolicyLoader().load(yaml: vpol.jsonString(sortedKeys: true, escapeHTML: false))
        let engine = CELPolicyEngine(policies: loaded.validatingPolicies)
        #expect(engine.diagnostics.isEmpty, "\(engine.diagnostics)")
        let status = engine.evaluate(rv, admission: AdmissionInfo()).first?.rules.first?.status
        #expect(status == (passes ? .pass : .fail), "\(expr)")
    }

    @Test(arguments: [#"{"spec": {"=(hostNetwork)": false}}"#, #"{"spec": {"replicas": ">2"}}"#, #"{"a": "x|y"}"#,
                      #"{"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}"#, #"{"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}"#])
    func unconvertiblePatterns(pattern: String) throws {
        #expect(PolicyMigration.celCondition("object", try JSONValue(json: pattern), depth: 0) == nil)
    }

    @Test func unsupportedPartsAreNamed() throws {
        let yaml = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: p}
        spec:
          rules:
          - name: r
            match:
              any:
              - resources: {kinds: [Pod], namespaces: [prod]}
            exclude:
              any:
              - resources: {kinds: [Pod], names: [x]}
            verifyImages:
            - imageReferences: ["ghcr.io/*"]
              skipImageReferences: ["ghcr.io/skip/*"]
              attestors:
              - count: 1
                entries:
                - keys: {secret: {name: k, namespace: n}, rekor: {ignoreTlog: true}}
                - keys: {publicKeys: "-----BEGIN PUBLIC KEY-----\\nKEY-A\\n-----END PUBLIC KEY-----"}
        """
        let p = try #require(try PolicyLoader().load(yaml: yaml).policies.first)
        let out = PolicyMigration.migrate(p)
        let text = out.diagnostics.map(\.description).joined(separator: "\n")
        for expected in ["exclude", "namespaces", "skipImageReferences", "secret-held keys", "transparency log"] {
            #expect(text.contains(expected), "\(expected) in \(text)")
        }
        #expect(!out.isComplete)
        #expect(out.documents.count == 1)
    }

    /// Attestation `conditions` (JMESPath) are named, `imageRegistryCredentials.secrets` carried
    /// over as `credentials.secrets` (read in the same namespace).
    @Test func attestationConditionsAreNamedAndCredentialsCarried() throws {
        let yaml = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: p}
        spec:
          validationFailureAction: Enforce
          rules:
          - name: r
            match:
              any:
              - resources: {kinds: [Pod]}
            verifyImages:
            - imageReferences: ["ghcr.io/*"]
              imageRegistryCredentials: {secrets: [regcred]}
              attestations:
              - type: https://slsa.dev/provenance/v1
                attestors:
                - entries:
                  - keys: {kms: "hashivault://k", rekor: {ignoreTlog: true}}
                conditions:
                - all:
                  - key: "{{ builder.id }}"
                    operator: Equals
                    value: ci
        """
        let p = try #require(try PolicyLoader().load(yaml: yaml).policies.first)
        #expect(!p.isInvalid && p.rules.first?.unsupported.isEmpty == true, "\(p.diagnostics)")
        let out = PolicyMigration.migrate(p)
        let text = out.diagnostics.map(\.description).joined(separator: "\n")
        #expect(text.contains("attestations[0].conditions"), "\(text)")
        #expect(!out.isComplete)
        let ivpol = try #require(out.documents.first { $0["kind"]?.stringValue == "ImageValidatingPolicy" })
        #expect(ivpol["spec"]?["credentials"]?["secrets"] == ["regcred"])
    }
}
