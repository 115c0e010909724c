import ArgumentParser
import Foundation
import Logging
import SignetAdmission

/// `signet webhook-config --policies DIR`: the webhook configurations the policies need.
struct WebhookConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-config",
        abstract: "Print the Mutating- and ValidatingWebhookConfiguration the policies need.",
        discussion: """
            Derives the webhooks from the policies as Kyverno's webhook controller does: one \
            webhook per failurePolicy (/validate/fail, /validate/ignore, /mutate/fail, \
            /mutate/ignore), timeoutSeconds from the policies' webhookTimeoutSeconds (at least \
            --default-timeout, at most 30), rules from the kinds and operations of match (autogen \
            included). Kinds that are not built into Kubernetes need --resource.
            """)

    @Option(name: .customLong("policies"), help: "Directory of Kyverno ClusterPolicy files.")
    var policies: String

    @Option(name: .customLong("namespace"), help: "Namespace of signet's Service (never sent to the webhook).")
    var namespace: String = "signet-system"

    @Option(name: .customLong("service"), help: "Name of signet's Service.")
    var service: String = "signet-webhook"

    @Option(name: .customLong("service-port"), help: "Port of signet's Service.")
    var servicePort: Int = 443

    @Option(name: .customLong("url"), help: "Call the webhook at this https:// URL instead of a Service.")
    var url: String?

    @Option(name: .customLong("ca-bundle-file"), help: "PEM CA certificate of the webhook (signet cert's ca.crt): set as caBundle.")
    var caBundleFile: String?

    @Option(name: .customLong("exclude-namespace"), help: "A namespace never sent to the webhook (repeatable; default kube-system).")
    var excludeNamespaces: [String] = []

    @Option(name: .customLong("default-timeout"), help: "Smallest timeoutSeconds (Kyverno's --webhookTimeout).")
    var defaultTimeout: Int = 10

    @Option(name: .customLong("resource"), help: "KIND=GROUP/VERSION/RESOURCE[:Namespaced|Cluster] for a custom resource kind (repeatable).")
    var resources: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        guard (1...30).contains(defaultTimeout) else { throw ValidationError("--default-timeout must be 1-30 seconds") }
        guard (1...65535).contains(servicePort) else { throw ValidationError("--service-port must be 1-65535") }
        if let url, !url.lowercased().hasPrefix("https://") { throw ValidationError("--url must be an https:// URL") }
    }

    func run() async throws {
        var options = WebhookConfigurationBuilder.Options()
        options.serviceNamespace = namespace
        options.serviceName = service
        options.servicePort = servicePort
        options.url = url
        options.defaultTimeoutSeconds = defaultTimeout
        if !excludeNamespaces.isEmpty { options.excludedNamespaces = excludeNamespaces }
        if let caBundleFile {
            guard let data = FileManager.default.contents(atPath: caBundleFile) else {
                throw CLIError("cannot read --ca-bundle-file \(caBundleFile)")
            }
            guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                throw CLIError("--ca-bundle-file \(caBundleFile) is not a PEM certificate")
            }
            options.caBundle = data.base64EncodedString()
        }
        for spec in resources {
            guard let eq = spec.firstIndex(of: "="), !spec[..<eq].isEmpty else {
                throw CLIError("invalid --resource '\(spec)' (want KIND=GROUP/VERSION/RESOURCE[:Namespaced|Cluster])")
            }
            do {
                options.extraResources[String(spec[..<eq])] = try .init(parsing: String(spec[spec.index(after: eq)...]))
            } catch {
                throw CLIError("\(error)")
            }
        }
        var logger = Logger(label: "signet.webhook-config")
        logger.logLevel = .error
        let store = PolicyStore(directory: policies, logger: logger)
        let yaml: String
        do {
            let set = try store.load()
            let builder = WebhookConfigurationBuilder(options: options)
            yaml = builder.yaml(try builder.build(set.policies.map(\.policy), validatingPolicies: set.celEngine?.policies ?? [],
                                                      imagePolicies: set.celEngine?.imagePolicies ?? []))
        } catch {
            throw CLIError("\(error)")
        }
        if let output {
            do {
                try Data(yaml.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CLIError("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            print(yaml, terminator: "")
        }
    }
}
