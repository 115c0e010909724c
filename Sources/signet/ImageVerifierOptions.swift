import ArgumentParser
import Foundation
import SignetPolicy
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

    /// Reads image data (`imageRegistry` context entries, `image.GetMetadata`) from registries
    /// with the same registry options.
    func makeImageDataProvider() throws -> any ImageDataProvider {
        RegistryImageDataProvider(client: try registry.makeClient())
    }

    /// The same verifier from option groups a command declares on its own (`serve`).
    static func makeVerifier(registry: RegistryOptions, vault: VaultLoginFlags) throws -> CosignImageVerifier {
        let environment = vault.applied(to: ProcessInfo.processInfo.environment)
        let keys = KMSOptions.makeKeyProviderRegistry(base: KeyOptions.registry(environment: environment), environment: environment)
        return CosignImageVerifier(client: try registry.makeClient(), keyProviders: keys)
    }
}
