import SignetKMS
import SignetOCI
import SignetPolicy
import SignetSigning

/// Resolves a tag to the digest of the manifest the registry serves for it, re-hashing the
/// manifest (never trusting a digest header). The webhook resolves every tag once per admission
/// with it, then looks the digest up in its cache before verifying.
public protocol DigestResolver: Sendable {
    func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest
    /// The same with the credentials of `registrySecrets` (pull secrets). Defaults to ignoring them.
    func resolveDigest(_ reference: Reference, registrySecrets: [RegistrySecretReference]) async throws -> SignetOCI.Digest
}

extension DigestResolver {
    public func resolveDigest(_ reference: Reference, registrySecrets: [RegistrySecretReference]) async throws -> SignetOCI.Digest {
        try await resolveDigest(reference)
    }
}

/// The one classification of what went wrong in a verification (README, "Errors and failures"),
/// shared by the CLI and the webhook.
///
/// Transport problems — the registry or the KMS could not be asked (connection, timeout, 5xx,
/// 429, a credential helper that failed) — are `.error`, which the policy's failurePolicy decides. Everything
/// about the artifacts and references (no or bad signatures, junk layers, unparsable manifests,
/// unknown keys, a registry refusing access with 401/403) is `.notVerified`: a verification failure, never a pass.
public enum VerificationErrors {
    /// The typed result for `error`, thrown while verifying `image`.
    public static func result(for error: any Error, image: Reference) -> ImageVerificationResult {
        switch error {
        case let e as SignetOCIError:
            switch e.code {
            case .transport, .tooManyRequests, .credentials, .io, .insecureRegistry:
                return .error(e.message)
            case .unauthorized:
                // The registry answered: it refuses these credentials (none, or a pull secret
                // without access). As Kyverno (only network errors are rule errors), a failure:
                // failurePolicy Ignore must not admit an image nobody could verify.
                return .notVerified(e.message)
            case .registryError:
                if let status = e.status, status < 500 { return .notVerified(e.message) }
                return .error(e.message)
            case .notFound:
                return .notVerified("image \(image) not found")
            default:
                return .notVerified(e.message)
            }
        case let e as SignetKMSError:
            switch e.code {
            case .unreachable, .sealed, .server, .loginFailed, .permissionDenied:
                return .error(e.message)
            default:
                return .notVerified(e.message)
            }
        case let e as SignetSigningError:
            switch e.code {
            case .registry, .io, .authenticationFailed:
                if let underlying = e.underlying { return result(for: underlying, image: image) }
                return .error(e.message)
            default:
                return .notVerified(e.message)
            }
        default:
            // Anything else is from the transport libraries (HTTP client, NIO, TLS), a cancellation
            // or a caller's own configuration error: the question could not be asked.
            let text = "\(error)"
            return .error(text.isEmpty ? "verification failed" : text)
        }
    }

    /// A short label of the layer `error` came from, for metrics (`registry`, `kms`, `signing`,
    /// `other`): never the message, which may name images or hosts.
    public static func layer(of error: any Error) -> String {
        switch error {
        case is SignetOCIError: return "registry"
        case is SignetKMSError: return "kms"
        case is SignetSigningError: return "signing"
        default: return "other"
        }
    }
}
