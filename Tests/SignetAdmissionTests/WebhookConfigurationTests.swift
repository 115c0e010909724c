import Foundation
import Logging
import SignetPolicy
import SignetTestSupport
import Testing
@testable import SignetAdmission

@Suite("Webhook configurations derived from policies")
struct WebhookConfigurationTests {
    /// A policy with one rule; `body` is the rule's YAML after `match` (indented 6).
    static func policy(_ name: String, failurePolicy: String? = nil, timeout: Int? = nil, kind: String = "ClusterPolicy",
                       match: [String], body: [String]) -> String {
        var lines = ["apiVersion: kyverno.io/v1", "kind: \(kind)", "metadata:", "  name: \(name)"]
        if kind == "Policy" { lines.append("  namespace: team-a") }
        lines += ["spec:", "  validationFailureAction: Enforce"]
        if let failurePolicy { lines.append("  failurePolicy: \(failurePolicy)") }
        if let timeout { lines.append("  webhookTimeoutSeconds: \(timeout)") }
        lines += ["  rules:", "    - name: r", "      match:"] + match.map { "        " + $0 } + body.map { "      " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    static let validateBody = ["validate:", "  message: m", "  pattern:", "    metadata:", "      labels:", "        team: \"?*\""]
    static let verifyBody = ["verifyImages:", "  - imageReferences: [\"*\"]", "    attestors:", "      - entries:",
                             "          - keys:", "              kms: hashivault://cosign"]
    static let podMatch = ["any:", "  - resources:", "      kinds: [Pod]"]

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policies: [String]
        /// `webhook name failurePolicy timeout` then one line per rule: `group/version scope OPS resources`.
        var mutating: [String]
        var validating: [String]
        var testDescription: String { name }
    }

    static func summary(_ webhooks: [WebhookConfigurationBuilder.Webhook]) -> [String] {
        webhooks.flatMap { w in
            ["\(w.name) \(w.path) \(w.failurePolicy) \(w.timeoutSeconds)"] + w.rules.map {
                "\($0.group)/\($0.version) \($0.scope) \($0.operations.joined(separator: ",")) \($0.resources.joined(separator: ","))"
            }
        }
    }

    static let cases: [Case] = [
        .init(name: "verifyImages on Pods: both webhooks, autogen controllers, Fail",
              policies: [policy("p", match: podMatch, body: verifyBody)],
              mutating: ["mutate-fail.signet.dev /mutate/fail Fail 10",
                         "/v1 Namespaced CREATE,UPDATE pods,pods/ephemeralcontainers,replicationcontrollers",
                         "apps/v1 Namespaced CREATE,UPDATE daemonsets,deployments,replicasets,statefulsets",
                         "batch/v1 Namespaced CREATE,UPDATE cronjobs,jobs"],
              validating: ["validate-fail.signet.dev /validate/fail Fail 10",
                           "/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT pods,pods/ephemeralcontainers,replicationcontrollers",
                           "apps/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT daemonsets,deployments,replicasets,statefulsets",
                           "batch/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT cronjobs,jobs"]),
        .init(name: "verifyDigest and required off: no validating webhook",
              policies: [policy("p", match: podMatch, body: verifyBody + ["    verifyDigest: false", "    required: false"])],
              mutating: ["mutate-fail.signet.dev /mutate/fail Fail 10",
                         "/v1 Namespaced CREATE,UPDATE pods,pods/ephemeralcontainers,replicationcontrollers",
                         "apps/v1 Namespaced CREATE,UPDATE daemonsets,deployments,replicasets,statefulsets",
                         "batch/v1 Namespaced CREATE,UPDATE cronjobs,jobs"],
              validating: []),
        .init(name: "Ignore and Fail policies get one webhook each; the largest timeout wins",
              policies: [policy("a", failurePolicy: "Ignore", timeout: 15, match: ["any:", "  - resources:", "      kinds: [ConfigMap]"], body: validateBody),
                         policy("b", timeout: 4, match: ["any:", "  - resources:", "      kinds: [Namespace]"], body: validateBody),
                         policy("c", failurePolicy: "Ignore", timeout: 25, match: ["any:", "  - resources:", "      kinds: [Secret]"], body: validateBody)],
              mutating: [],
              validating: ["validate-ignore.signet.dev /validate/ignore Ignore 25",
                           "/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT configmaps,secrets",
                           "validate-fail.signet.dev /validate/fail Fail 10",
                           "/v1 * CREATE,UPDATE,DELETE,CONNECT namespaces"]),
        .init(name: "operations in match replace the defaults; exclude.any kinds-only entries narrow",
              policies: [policy("p", match: ["any:", "  - resources:", "      kinds: [Service, apps/v1/Deployment]",
                                             "      operations: [CREATE, DELETE]"],
                                body: ["exclude:", "  any:", "    - resources:", "        kinds: [Service]", "        operations: [DELETE]"] + validateBody)],
              mutating: [],
              validating: ["validate-fail.signet.dev /validate/fail Fail 10",
                           "/v1 Namespaced CREATE services",
                           "apps/v1 Namespaced CREATE,DELETE deployments"]),
        .init(name: "exclude with a namespace does not narrow the webhook",
              policies: [policy("p", match: ["any:", "  - resources:", "      kinds: [Service]"],
                                body: ["exclude:", "  any:", "    - resources:", "        kinds: [Service]", "        namespaces: [dev]"] + validateBody)],
              mutating: [],
              validating: ["validate-fail.signet.dev /validate/fail Fail 10", "/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT services"]),
        .init(name: "wildcards and subresources",
              policies: [policy("p", match: ["any:", "  - resources:", "      kinds: [\"*\", Deployment/scale]"], body: validateBody),
                         policy("q", kind: "Policy", match: ["any:", "  - resources:", "      kinds: [\"*/status\"]"], body: validateBody)],
              mutating: [],
              validating: ["validate-fail.signet.dev /validate/fail Fail 10",
                           "*/* * CREATE,UPDATE,DELETE,CONNECT *",
                           "*/* Namespaced CREATE,UPDATE,DELETE,CONNECT */status",
                           "apps/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT deployments/scale"]),
        .init(name: "admission false and no rules: empty configurations",
              policies: [policy("p", match: podMatch, body: validateBody).replacingOccurrences(of: "  validationFailureAction: Enforce", with: "  admission: false\n  background: true")],
              mutating: [], validating: []),
    ]

    static func load(_ yamls: [String]) throws -> [ClusterPolicy] {
        try yamls.flatMap { y in
            let policies = try PolicyLoader().load(yaml: y).policies
            for p in policies where p.isInvalid {
                throw SignetAdmissionError(.policy, "invalid test policy \(p.name): \(p.diagnostics)")
            }
            return policies
        }
    }

    @Test(arguments: cases)
    func webhooks(_ c: Case) throws {
        let result = try WebhookConfigurationBuilder().build(try Self.load(c.policies))
        #expect(Self.summary(result.mutating) == c.mutating)
        #expect(Self.summary(result.validating) == c.validating)
    }

    /// An ImageValidatingPolicy gets the validate webhook, and the mutate webhook (CREATE and
    /// UPDATE only) when `mutateDigest` is on, as Kyverno registers it.
    @Test(arguments: [true, false])
    func imageValidatingPolicyWebhooks(mutateDigest: Bool) throws {
        let yaml = """
            apiVersion: policies.kyverno.io/v1
            kind: ImageValidatingPolicy
            metadata:
              name: check-images
            spec:
              validationConfigurations:
                mutateDigest: \(mutateDigest)
              matchConstraints:
                resourceRules:
                  - apiGroups: [""]
                    apiVersions: [v1]
                    operations: [CREATE, UPDATE, DELETE]
                    resources: [pods]
              matchImageReferences:
                - glob: "registry.example/*"
              attestors:
                - name: k
                  cosign:
                    key:
                      kms: hashivault://cosign
                    ctlog:
                      insecureIgnoreTlog: true
              validations:
                - expression: "images.containers.all(i, verifyImageSignatures(i, [attestors.k]) > 0)"
            """
        let loaded = try PolicyLoader().load(yaml: yaml)
        let policy = try #require(loaded.imageValidatingPolicies.first)
        let result = try WebhookConfigurationBuilder().build([], imagePolicies: [policy])
        #expect(Self.summary(result.validating).contains("/v1 * CREATE,UPDATE,DELETE pods,replicationcontrollers"),
                "\(Self.summary(result.validating))")
        let mutating = Self.summary(result.mutating)
        #expect(mutating.contains("/v1 * CREATE,UPDATE pods,replicationcontrollers") == mutateDigest, "\(mutating) \(policy.validationConfiguration)")
    }

    @Test func aCustomKindNeedsItsResourceAndTheErrorNamesTheField() throws {
        let yaml = Self.policy("tekton", match: ["any:", "  - resources:", "      kinds: [PipelineRun]"], body: Self.validateBody)
        let error = #expect(throws: SignetAdmissionError.self) { try WebhookConfigurationBuilder().build(try Self.load([yaml])) }
        #expect(error?.message == "policy tekton, rule r: spec.rules[0].match kind 'PipelineRun' is not a built-in kind; name its resource with --resource PipelineRun=GROUP/VERSION/RESOURCE[:Namespaced|Cluster]")
        var options = WebhookConfigurationBuilder.Options()
        options.extraResources["PipelineRun"] = try .init(parsing: "tekton.dev/v1/pipelineruns:Namespaced")
        let result = try WebhookConfigurationBuilder(options: options).build(try Self.load([yaml]))
        #expect(Self.summary(result.validating).last == "tekton.dev/v1 Namespaced CREATE,UPDATE,DELETE,CONNECT pipelineruns")
        #expect(throws: SignetAdmissionError.self) { try WebhookConfigurationBuilder.APIResource(parsing: "pipelineruns") }
        #expect(throws: SignetAdmissionError.self) { try WebhookConfigurationBuilder.APIResource(parsing: "a/b/c:Global") }
    }

    @Test func theYAMLNamesTheServiceOrURLAndTheCABundle() throws {
        var options = WebhookConfigurationBuilder.Options()
        options.url = "https://signet.example.com:8443/"
        options.caBundle = "Q0EK"
        options.excludedNamespaces = ["kube-system", "monitoring"]
        let builder = WebhookConfigurationBuilder(options: options)
        let yaml = builder.yaml(try builder.build(try Self.load([Self.policy("p", match: Self.podMatch, body: Self.verifyBody)])))
        #expect(yaml.contains("      url: \"https://signet.example.com:8443/mutate/fail\"\n      caBundle: Q0EK\n"))
        #expect(yaml.contains("      url: \"https://signet.example.com:8443/validate/fail\"\n"))
        #expect(yaml.contains("values: [\"kube-system\", \"monitoring\", \"signet-system\"]"))
        #expect(yaml.contains("reinvocationPolicy: IfNeeded"))
        #expect(!yaml.contains("service:"))
    }

    /// deploy/base/webhooks.yaml is what `signet webhook-config --policies deploy/base/policies` prints.
    @Test func theDeployedWebhookConfigurationMatchesTheDeployedPolicies() throws {
        let root = RepositoryPaths.root
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let set = try PolicyStore(directory: root.appendingPathComponent("deploy/base/policies").path, logger: logger).load()
        let builder = WebhookConfigurationBuilder()
        let expected = builder.yaml(try builder.build(set.policies.map(\.policy)))
        let text = try String(contentsOf: root.appendingPathComponent("deploy/base/webhooks.yaml"), encoding: .utf8)
        let body = text.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") }.joined(separator: "\n")
        #expect(body == expected, "deploy/base/webhooks.yaml is stale: regenerate it with signet webhook-config --policies deploy/base/policies")
    }

    @Test func theCommandPrintsTheConfigurationsAndRejectsBadInput() throws {
        let root = RepositoryPaths.root
        let ok = try CommandRunner.signet(["webhook-config", "--policies", root.appendingPathComponent("deploy/base/policies").path])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("kind: MutatingWebhookConfiguration") && ok.stdout.contains("path: /validate/fail"))
        let bad = try CommandRunner.signet(["webhook-config", "--policies", "/nonexistent-dir"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("policy directory /nonexistent-dir does not exist"))
        let badResource = try CommandRunner.signet(["webhook-config", "--policies", root.appendingPathComponent("deploy/base/policies").path,
                                                    "--resource", "nonsense"])
        #expect(badResource.status != 0)
        #expect(badResource.stderr.contains("invalid --resource 'nonsense'"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-wc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let certs = try WebhookCertificates.generate(dnsNames: ["signet-webhook.signet-system.svc"])
        try certs.write(to: dir)
        let output = dir.appendingPathComponent("webhooks.yaml").path
        let withCA = try CommandRunner.signet(["webhook-config", "--policies", root.appendingPathComponent("deploy/base/policies").path,
                                               "--ca-bundle-file", dir.appendingPathComponent("ca.crt").path, "-o", output])
        #expect(withCA.status == 0, "\(withCA.stderr)")
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.components(separatedBy: "caBundle: \(certs.caBundle)\n").count == 3)  // both webhooks
        let notPEM = try CommandRunner.signet(["webhook-config", "--policies", root.appendingPathComponent("deploy/base/policies").path,
                                               "--ca-bundle-file", output])
        #expect(notPEM.status != 0)
        #expect(notPEM.stderr.contains("is not a PEM certificate"))
    }
}
