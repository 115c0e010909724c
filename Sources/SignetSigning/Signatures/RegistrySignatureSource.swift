import Foundation
import SignetOCI

/// The signatures of an image in a registry: the `sha256-HEX.sig` tag in the image's repository
/// (or a signature repository) and the image's OCI 1.1 referrers of the Sigstore bundle type.
public struct RegistrySignatureSource: SignatureSource {
    public let client: RegistryClient
    /// The image's repository (payloads name it; bundles are referrers there).
    public let imageRepository: Reference
    public let signatureRepository: SignatureRepository?

    public init(client: RegistryClient, imageRepository: Reference, signatureRepository: SignatureRepository? = nil) {
        self.client = client
        self.imageRepository = imageRepository.repositoryOnly
        self.signatureRepository = signatureRepository
    }

    var storageRepository: Reference { signatureRepository?.repository ?? imageRepository }

    public func classicSignatureManifest(for image: Digest) async throws -> Data? {
        let ref = try SignatureStore.signatureReference(image: imageRepository, digest: image, signatureRepository: signatureRepository)
        do {
            return try await client.getManifest(ref, accept: [.ociManifest, .dockerManifest]).bytes
        } catch let error as SignetOCIError where error.code == .notFound {
            return nil
        }
    }

    public func bundleReferrers(for image: Digest) async throws -> [Descriptor] {
        do {
            return try await client.referrers(storageRepository.withDigest(image), artifactType: .sigstoreBundle)
        } catch let error as SignetOCIError where error.code == .notFound {
            return []
        }
    }

    public func manifest(_ digest: Digest) async throws -> Data {
        try await client.getManifest(storageRepository.withDigest(digest)).bytes
    }

    public func blob(_ digest: Digest, maxSize: Int) async throws -> Data {
        do {
            return try await client.getBlob(storageRepository, digest: digest, maxSize: maxSize)
        } catch let error as SignetOCIError where error.code == .sizeMismatch {
            throw SignetSigningError(.limitExceeded, "blob \(digest) is larger than the cap of \(maxSize) bytes per payload", underlying: error)
        }
    }
}

extension ImageSignatureVerifier {
    /// Verifies the signatures of `image` in a registry with `verifier`.
    ///
    /// The outcome's `imageDigest` is the digest that was verified: callers (the admission webhook)
    /// must pin the workload to exactly that digest and key any cache by it, never by tag
    /// (FORMATS.md section 6). Content is addressed by that digest, so a registry that lies about a
    /// tag cannot make an unsigned manifest pass.
    ///
    /// A tag is resolved to its digest first (a missing tag or digest is `.noSuchImage`, exit 11); a
    /// digest reference is used as given, without asking the registry for it. Signatures are read
    /// from `signatureRepository` when given, else from the image's repository.
    public func verify(image: Reference, verifier: any SignatureVerifier, annotations: [String: String] = [:],
                       signatureRepository: SignatureRepository? = nil, client: RegistryClient) async throws -> VerificationOutcome {
        let digest: Digest
        if let given = image.digest {
            digest = given
        } else {
            guard let descriptor = try await client.headManifest(image) else {
                return VerificationOutcome(kind: .noSuchImage, imageDigest: nil)
            }
            digest = descriptor.digest
        }
        let source = RegistrySignatureSource(client: client, imageRepository: image, signatureRepository: signatureRepository)
        return try await verify(imageDigest: digest, source: source, verifier: verifier, annotations: annotations)
    }
}
