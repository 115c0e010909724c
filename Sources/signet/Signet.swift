import ArgumentParser

/// The `signet` command: cosign-compatible signing and verification, a Kyverno-compatible policy
/// engine, and the admission webhook that enforces it.
@main
struct Signet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signet",
        abstract: "Sign container images, verify them, and enforce Kyverno policies on Kubernetes.",
        version: BuildInfo.version,
        subcommands: [
            // Registry (issue 2)
            DigestCommand.self, SaveCommand.self, LoadCommand.self,
            // Keys and signatures (issue 3)
            GenerateKeyPairCommand.self, ImportKeyPairCommand.self, PublicKeyCommand.self,
            SignCommand.self, VerifyCommand.self, AttachCommand.self,
            AttestCommand.self, VerifyAttestationCommand.self,
            TriangulateCommand.self, TreeCommand.self, CleanCommand.self, PruneCommand.self,
            // Policies (issue 5)
            ApplyCommand.self, TestCommand.self, MigrateCommand.self,
            // Admission webhook (issue 6)
            ServeCommand.self, CertCommand.self, WebhookConfigCommand.self,
            // Expression languages for policy authors (issues 12, 15)
            CELCommand.self, JPCommand.self,
            // Day-2 operations (issue 16)
            CopyCommand.self, SignBlobCommand.self, VerifyBlobCommand.self,
            VersionCommand.self, CompletionCommand.self,
        ]
    )
}
