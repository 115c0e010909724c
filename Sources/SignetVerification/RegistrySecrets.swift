import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives

/// Where the registry credentials of `ImageVerificationRequest.registrySecrets` come from: the
/// Kubernetes API server in `serve` (`KubernetesRegistrySecrets`, SignetAdmission), the resources
/// given on the command line in `apply`/`test` (`StaticRegistrySecrets`).
public protocol RegistrySecretSource: Sendable {
    /// The credentials the Secrets hold, the first Secret winning for a registry. A Secret that
    /// does not exist, or is not of a docker config type, is skipped (as go-containerregistry's
    /// Kubernetes keychain, which Kyverno uses). Throws only when the Secrets cannot be read
    /// (transport) or one holds junk (`SignetOCIError.invalidFormat`: a verification failure).
    func credentials(for secrets: [RegistrySecretReference]) async throws -> CredentialStore
}

/// Turning Secrets into credentials, the same for every source.
public enum RegistrySecretParser {
    /// Largest docker config accepted from one Secret (decoded).
    public static let maxConfigSize = 64 << 10

    /// The `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` Secret types.
    public static let dockerConfigJSON = "kubernetes.io/dockerconfigjson"
    public static let dockerConfig = "kubernetes.io/dockercfg"

    /// The credentials of one Secret object, or nil when it is not a docker config Secret. Only
    /// `auths` entries are kept: a Secret's `credsStore`/`credHelpers` would make signet run a
    /// program a tenant names, so they are dropped. Errors never contain the Secret's data.
    public static func credentials(ofSecret secret: JSONValue, name: String) throws -> CredentialStore? {
        let type = secret["type"]?.stringValue ?? ""
        let field: String
        switch type {
        case dockerConfigJSON: field = ".dockerconfigjson"
        case dockerConfig: field = ".dockercfg"
        default: return nil
        }
        let raw: Data
        if let b64 = secret["data"]?[field]?.stringValue {
            guard b64.utf8.count <= maxConfigSize * 2, let decoded = Data(base64Encoded: b64) else {
                throw SignetOCIError(.invalidFormat, "secret \(name): \(field) is not base64 or too large")
            }
            raw = decoded
        } else if let text = secret["stringData"]?[field]?.stringValue {
            raw = Data(text.utf8)
        } else {
            throw SignetOCIError(.invalidFormat, "secret \(name) has no \(field) data")
        }
        guard raw.count <= maxConfigSize else {
            throw SignetOCIError(.invalidFormat, "secret \(name): \(field) is larger than \(maxConfigSize) bytes")
        }
        let parsed: CredentialStore
        do { parsed = try CredentialStore(dockerConfig: raw) } catch {
            throw SignetOCIError(.invalidFormat, "secret \(name): \(field) is not a docker config")
        }
        return CredentialStore(auths: parsed.auths)
    }

    /// Stores merged so that the first one wins for a registry.
    public static func merge(_ stores: [CredentialStore]) -> CredentialStore {
        stores.reversed().reduce(CredentialStore()) { $0.merging($1) }
    }
}

extension Array where Element == RegistrySecretReference {
    /// The Secrets by namespace and name, as one part of a cache or memo key: what was read (or
    /// verified) with one set of Secrets' credentials is never reused for another.
    public var credentialScope: String { map(\.description).joined(separator: ",") }
}

/// Secrets given as resources (`signet apply`/`test`, as Kyverno's CLI reads Secrets from the
/// resources): matched by namespace and name; a reference without namespace (a cluster-wide
/// policy's `credentials.secrets`) matches a Secret of that name in any namespace.
public struct StaticRegistrySecrets: RegistrySecretSource {
    /// The docker config Secrets found, by namespace and name.
    public let secrets: [RegistrySecretReference: CredentialStore]

    public init(secrets: [RegistrySecretReference: CredentialStore]) { self.secrets = secrets }

    /// The docker config Secrets among `resources` (other objects are ignored); junk Secrets throw.
    public init(resources: [JSONValue]) throws {
        var found: [RegistrySecretReference: CredentialStore] = [:]
        for r in resources where r["kind"]?.stringValue == "Secret" && r["apiVersion"]?.stringValue == "v1" {
            guard let name = r["metadata"]?["name"]?.stringValue else { continue }
            let namespace = r["metadata"]?["namespace"]?.stringValue ?? "default"
            if let store = try RegistrySecretParser.credentials(ofSecret: r, name: "\(namespace)/\(name)") {
                found[RegistrySecretReference(namespace: namespace, name: name)] = store
            }
        }
        secrets = found
    }

    public var isEmpty: Bool { secrets.isEmpty }

    public func credentials(for refs: [RegistrySecretReference]) async throws -> CredentialStore {
        RegistrySecretParser.merge(refs.prefix(RegistrySecretReference.maxPerRequest).compactMap(store(for:)))
    }

    /// The references of `refs` no given Secret answers (for the CLI's diagnostic).
    public func missing(_ refs: [RegistrySecretReference]) -> [RegistrySecretReference] {
        refs.filter { store(for: $0) == nil }
    }

    /// The Secret `ref` names: by namespace and name, or by name alone without a namespace.
    func store(for ref: RegistrySecretReference) -> CredentialStore? {
        ref.namespace != nil ? secrets[ref] : secrets.first(where: { $0.key.name == ref.name })?.value
    }
}

extension CosignImageVerifier: ResourceSecretsVerifier {
    /// The verifier with the docker config Secrets of `resources` (`signet test`); itself when
    /// there are none.
    public func withSecrets(fromResources resources: [JSONValue]) throws -> any ImageVerifier {
        let secrets = try StaticRegistrySecrets(resources: resources)
        return secrets.isEmpty ? self : with(secrets: secrets)
    }
}
