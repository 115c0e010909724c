import ArgumentParser
import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives
import SignetVerification

/// What `apply` and `test` need to run verifyImages rules for real: registry access and Vault
/// logins for `kms:` keys. The same verifier (`CosignImageVerifier`) serves the webhook.
struct ImageVerifierOptions: ParsableArguments {
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var vault: VaultLoginFlags

    /// The verifier verifyImages rules call: signatures read from the registry, keys from
    /// `publicKeys` PEMs or through the KMS providers (`hashivault://`, `openbao://`).
    func makeVerifier() throws -> any ImageVerifier {
        try Self.makeVerifier(registry: registry, vault: vault)
    }

    /// The verifier for `apply`: registry credential Secrets (`imagePullSecrets`, policy
    /// `credentials.secrets`) come from the docker config Secrets among `resources`, as Kyverno's
    /// CLI reads them (there is no API server); a pull secret not given is named on stderr.
    func makeVerifier(resources: [JSONValue]) throws -> any ImageVerifier {
        let secrets: StaticRegistrySecrets
        do { secrets = try StaticRegistrySecrets(resources: resources) } catch { throw CLIError("\(error)") }
        for r in resources {
            for missing in secrets.missing(RegistrySecretReference.imagePullSecrets(of: r)) {
                let name = r["metadata"]?["name"]?.stringValue ?? ""
                FileHandle.standardError.write(Data("warning: \(r["kind"]?.stringValue ?? "")/\(name): image pull secret \(missing) is not among the resources; its registries are reached with signet's own credentials\n".utf8))
            }
        }
        return try Self.makeVerifier(registry: registry, vault: vault).with(secrets: secrets.isEmpty ? nil : secrets)
    }

    /// Reads image data (`imageRegistry` context entries, `image.GetMetadata`) from registries
    /// with the same registry options.
    func makeImageDataProvider() throws -> any ImageDataProvider {
        RegistryImageDataProvider(client: try registry.makeClient())
    }

    /// The same verifier from option groups a command declares on its own (`serve`).
    /// `transport`: the registry connection pools (`serve` owns one and closes it on shutdown).
    static func makeVerifier(registry: RegistryOptions, vault: VaultLoginFlags,
                             transport: RegistryTransport = .shared) throws -> CosignImageVerifier {
        let environment = vault.applied(to: ProcessInfo.processInfo.environment)
        let keys = KMSOptions.makeKeyProviderRegistry(base: KeyOptions.registry(environment: environment), environment: environment)
        return CosignImageVerifier(client: try registry.makeClient(transport: transport), keyProviders: keys)
    }
}
