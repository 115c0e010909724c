import ArgumentParser
import Foundation
import SignetAdmission

/// `signet cert --dns NAME... --out-dir D`: a CA and a serving certificate for the webhook.
struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Write a CA and a TLS certificate for the webhook.",
        discussion: """
            Writes ca.crt, tls.crt and tls.key (ECDSA P-256) into --out-dir and prints the base64 \
            caBundle for the ValidatingWebhookConfiguration and MutatingWebhookConfiguration. Name \
            the Service's DNS names, e.g. --dns signet-webhook.signet-system.svc \
            --dns signet-webhook.signet-system.svc.cluster.local.
            """)

    @Option(name: .customLong("dns"), parsing: .upToNextOption, help: "DNS names (or IP addresses) of the webhook Service.")
    var dnsNames: [String] = []

    @Option(name: .customLong("out-dir"), help: "Directory for ca.crt, tls.crt and tls.key.")
    var outDir: String

    @Option(name: .customLong("days"), help: "Validity in days.")
    var days: Int = 365

    func validate() throws {
        guard !dnsNames.isEmpty else { throw ValidationError("at least one --dns name is required") }
        guard days > 0 else { throw ValidationError("--days must be positive") }
    }

    func run() async throws {
        let certificates = try WebhookCertificates.generate(dnsNames: dnsNames, validity: .seconds(days * 86_400))
        try certificates.write(to: URL(fileURLWithPath: outDir))
        FileHandle.standardError.write(Data("wrote \(outDir)/ca.crt, \(outDir)/tls.crt, \(outDir)/tls.key\n".utf8))
        print(certificates.caBundle)
    }
}
