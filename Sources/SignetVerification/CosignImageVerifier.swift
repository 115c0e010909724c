import Foundation
import SignetOCI
import SignetPolicy
import SignetSigning
import SignetPrimitives

/// SignetPolicy's `ImageVerifier` over a real registry: cosign signatures (classic `.sig` tags and
/// v3 bundles) checked with SignetSigning, public keys parsed from the policy, `kms:` keys resolved
/// through a `KeyProviderRegistry` (SignetKMS registers `hashivault` and `openbao`).
///
/// Does no caching itself: `VerificationService` resolves the tag, looks the digest up in its cache
/// and calls `verify` only on a miss, with the reference pinned to that digest.
public struct CosignImageVerifier: ImageVerifier, DigestResolver {
    public let client: RegistryClient
    public let keyProviders: KeyProviderRegistry
    public let signatures: ImageSignatureVerifier

    public init(client: RegistryClient, keyProviders: KeyProviderRegistry,
                signatures: ImageSignatureVerifier = ImageSignatureVerifier()) {
        self.client = client
        self.keyProviders = keyProviders
        self.signatures = signatures
    }

    /// GETs the manifest and hashes its bytes (the registry's digest header is not trusted).
    public func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest {
        if let digest = reference.digest { return digest }
        return try await client.getManifest(reference).digest
    }

    public func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult {
        await verify(request, memo: VerificationMemo())
    }

    /// Verifies one request; registry reads go through `memo`, shared with the other keys of the
    /// same image. Never throws: errors are classified (`VerificationErrors`), so a
    /// hostile registry's junk is a verification failure, and only transport is an error.
    public func verify(_ request: ImageVerificationRequest, memo: VerificationMemo) async -> ImageVerificationResult {
        do {
            return try await verifyThrowing(request, memo: memo)
        } catch {
            return VerificationErrors.result(for: error, image: request.reference)
        }
    }

    func verifyThrowing(_ request: ImageVerificationRequest, memo: VerificationMemo) async throws -> ImageVerificationResult {
        let digest: SignetOCI.Digest
        do {
            digest = try await memo.value("resolve|\(request.reference)") { try await resolveDigest(request.reference) }
        } catch let error as SignetOCIError where error.code == .notFound {
            return .notVerified("image \(request.reference) not found")
        }
        let verifier: any SignatureVerifier
        switch request.key {
        case .publicKey(let pem):
            verifier = try PublicKey(pemRepresentation: pem)
        case .kms(let uri):
            verifier = try await keyProviders.verifier(for: uri)
        }
        let signatureRepository = try request.signatureRepository.map { try SignatureRepository(parsing: $0) }
        let registrySource = RegistrySignatureSource(client: client, imageRepository: request.reference, signatureRepository: signatureRepository)
        let source = MemoizingSignatureSource(base: registrySource, memo: memo,
                                              scope: "\(request.reference.repositoryName)|\(request.signatureRepository ?? "")")
        if let predicateType = request.predicateType {
            return try await verifyAttestation(predicateType, digest: digest, request: request, source: source,
                                               signatureRepository: signatureRepository, verifier: verifier, memo: memo)
        }
        let outcome = try await signatures.verify(imageDigest: digest, source: source, verifier: verifier,
                                                  annotations: request.annotations)
        if outcome.isVerified { return .verified(digest: digest.description) }
        switch outcome.kind {
        case .noSignatures: return .notVerified("no signatures found", digest: digest.description)
        case .noSuchImage: return .notVerified("image \(request.reference) not found", digest: digest.description)
        default:
            // Kyverno's wording first; the reasons on one line.
            let reasons = outcome.rejections.prefix(3).map(\.reason).joined(separator: "; ")
            return .notVerified(reasons.isEmpty ? "no matching signatures" : "no matching signatures: \(reasons)",
                                digest: digest.description)
        }
    }
}

extension CosignImageVerifier {
    /// An attestation request: a DSSE attestation (`.att` layer or bundle referrer) of
    /// `predicateType` whose statement names the digest and verifies with the key.
    func verifyAttestation(_ predicateType: String, digest: SignetOCI.Digest, request: ImageVerificationRequest,
                           source: any SignatureSource, signatureRepository: SignatureRepository?,
                           verifier: any SignatureVerifier, memo: VerificationMemo) async throws -> ImageVerificationResult {
        let attRef = try SignatureStore.signatureReference(image: request.reference, digest: digest, kind: .attestation,
                                                           signatureRepository: signatureRepository)
        let client = self.client
        let manifest: Data? = try await memo.value("att|\(attRef)") {
            do {
                return try await client.getManifest(attRef, accept: [.ociManifest, .dockerManifest]).bytes
            } catch let error as SignetOCIError where error.code == .notFound {
                return nil
            }
        }
        let outcome = try await ImageAttestationVerifier(limits: signatures.limits).verify(
            imageDigest: digest, attestationManifest: manifest, source: source, verifier: verifier, predicateType: predicateType)
        if outcome.isVerified {
            // The verified statement's predicate travels with the result (ImageValidatingPolicy `extractPayload`).
            let payload = outcome.attestations.first.flatMap { try? JSONValue(json: $0.statement.predicate.encoded()) }
            return ImageVerificationResult(status: .verified, digest: digest.description, message: "", payload: payload)
        }
        if outcome.kind == .noSignatures { return .notVerified("no matching attestations: no attestations found", digest: digest.description) }
        let reasons = outcome.rejections.prefix(3).map(\.reason).joined(separator: "; ")
        return .notVerified(reasons.isEmpty ? "no matching attestations" : "no matching attestations: \(reasons)", digest: digest.description)
    }
}

/// A `SignatureSource` whose reads are kept in a `VerificationMemo`: the keys of one image read
/// its signature manifest, referrers and blobs once.
struct MemoizingSignatureSource: SignatureSource {
    let base: any SignatureSource
    let memo: VerificationMemo
    /// Which repositories the reads come from (the memo is shared by one image's requests, whose
    /// signature repositories may differ).
    let scope: String

    func classicSignatureManifest(for image: SignetOCI.Digest) async throws -> Data? {
        try await memo.value("\(scope)|sig|\(image)") { try await base.classicSignatureManifest(for: image) }
    }

    func bundleReferrers(for image: SignetOCI.Digest) async throws -> [Descriptor] {
        try await memo.value("\(scope)|referrers|\(image)") { try await base.bundleReferrers(for: image) }
    }

    func manifest(_ digest: SignetOCI.Digest) async throws -> Data {
        try await memo.value("\(scope)|manifest|\(digest)") { try await base.manifest(digest) }
    }

    func blob(_ digest: SignetOCI.Digest, maxSize: Int) async throws -> Data {
        try await memo.value("\(scope)|blob|\(digest)|\(maxSize)") { try await base.blob(digest, maxSize: maxSize) }
    }
}
