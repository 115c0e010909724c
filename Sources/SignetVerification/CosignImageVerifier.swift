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
    /// Reads the Secrets a request names (`registrySecrets`: pull secrets, policy credentials);
    /// nil: requests are verified with `client`'s own credentials only.
    public let secrets: (any RegistrySecretSource)?

    public init(client: RegistryClient, keyProviders: KeyProviderRegistry,
                signatures: ImageSignatureVerifier = ImageSignatureVerifier(), secrets: (any RegistrySecretSource)? = nil) {
        self.client = client
        self.keyProviders = keyProviders
        self.signatures = signatures
        self.secrets = secrets
    }

    /// The same verifier reading request Secrets from `source` (`serve` passes the API server's).
    public func with(secrets source: (any RegistrySecretSource)?) -> CosignImageVerifier {
        CosignImageVerifier(client: client, keyProviders: keyProviders, signatures: signatures, secrets: source)
    }

    /// GETs the manifest and hashes its bytes (the registry's digest header is not trusted).
    public func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest {
        if let digest = reference.digest { return digest }
        return try await client.getManifest(reference).digest
    }

    /// The same, reaching the registry with the Secrets' credentials too.
    public func resolveDigest(_ reference: Reference, registrySecrets: [RegistrySecretReference]) async throws -> SignetOCI.Digest {
        if let digest = reference.digest { return digest }
        return try await client(for: registrySecrets).getManifest(reference).digest
    }

    /// The registry client for a request: the shared one when it names no Secret (or there is
    /// no source), else a client of its own whose credentials are the Secrets' over the
    /// verifier's. Its own client also has its own token cache, so a bearer token obtained with
    /// one namespace's Secret never serves another request.
    func client(for registrySecrets: [RegistrySecretReference]) async throws -> RegistryClient {
        guard !registrySecrets.isEmpty, let secrets else { return client }
        let extra = try await secrets.credentials(for: registrySecrets)
        if extra.auths.isEmpty { return client }
        return client.with(credentials: client.credentials.merging(extra))
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
        // Reads made with other credentials are never shared through the memo.
        let credentialScope = request.registrySecrets.credentialScope
        let client = try await memo.value("client|\(credentialScope)") { try await self.client(for: request.registrySecrets) }
        let scoped = CosignImageVerifier(client: client, keyProviders: keyProviders, signatures: signatures, secrets: nil)
        let digest: SignetOCI.Digest
        do {
            digest = try await memo.value("resolve|\(credentialScope)|\(request.reference)") { try await scoped.resolveDigest(request.reference) }
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
                                              scope: "\(request.reference.repositoryName)|\(request.signatureRepository ?? "")|\(credentialScope)")
        if let predicateType = request.predicateType {
            return try await scoped.verifyAttestation(predicateType, digest: digest, request: request, source: source,
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
        let credentialScope = request.registrySecrets.credentialScope
        let manifest: Data? = try await memo.value("att|\(credentialScope)|\(attRef)") {
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
            let predicates = outcome.attestations.compactMap { try? JSONValue(json: $0.statement.predicate.encoded()) }
            var result = ImageVerificationResult(status: .verified, digest: digest.description, message: "", payload: predicates.first)
            result.predicates = predicates
            return result
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
