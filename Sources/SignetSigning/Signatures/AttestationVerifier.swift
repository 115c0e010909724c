import Foundation
import SignetOCI

/// One attestation that verified: the envelope, the statement it signs, and where it was stored.
public struct VerifiedAttestation: Sendable, Hashable {
    public let format: SignatureFormat
    /// The DSSE envelope (from the `.att` layer or the bundle).
    public let envelope: DSSEEnvelope
    /// The parsed in-toto statement.
    public let statement: InTotoStatement
    /// The `.att` layer blob or the bundle blob.
    public let blobDigest: Digest

    public init(format: SignatureFormat, envelope: DSSEEnvelope, statement: InTotoStatement, blobDigest: Digest) {
        self.format = format
        self.envelope = envelope
        self.statement = statement
        self.blobDigest = blobDigest
    }

    /// What `cosign verify-attestation` prints for it: the envelope JSON.
    public var outputJSON: Data { ImageAttester.encode(envelope) }
}

/// The result of verifying the attestations of an image. "Did not verify" is a value, not an error.
public struct AttestationOutcome: Sendable {
    /// Same kinds (and exit codes) as signature verification.
    public let kind: VerificationOutcome.Kind
    public let imageDigest: Digest?
    /// Verified attestations of the requested predicate type.
    public let attestations: [VerifiedAttestation]
    /// Candidates that did not count, with reasons (wrong key, wrong subject, other predicate type...).
    public let rejections: [SignatureRejection]

    public init(kind: VerificationOutcome.Kind, imageDigest: Digest?, attestations: [VerifiedAttestation] = [],
                rejections: [SignatureRejection] = []) {
        self.kind = kind
        self.imageDigest = imageDigest
        self.attestations = attestations
        self.rejections = rejections
    }

    public var isVerified: Bool { kind == .verified }

    /// cosign's exit codes: 0, 10 none found, 11 no such image, 12 none matching.
    public var exitCode: Int32 { VerificationOutcome(kind: kind, imageDigest: imageDigest).exitCode }

    /// A lowercase message in cosign's words.
    public var message: String {
        switch kind {
        case .verified: "verified \(attestations.count) attestation(s)"
        case .noSignatures: "no matching attestations: no attestations found"
        case .noSuchImage: "image tag not found"
        case .noMatchingSignatures:
            "no matching attestations: " + rejections.map(\.description).joined(separator: "\n ")
        }
    }
}

/// One candidate's result.
enum AttestationCheck: Sendable {
    case success(VerifiedAttestation)
    case failure(SignatureRejection)
}

/// Verifies cosign attestations: DSSE layers of the `sha256-HEX.att` image and cosign v3 Sigstore
/// bundles attached as referrers (whose statement is not cosign's sign predicate).
///
/// Every candidate must: be a DSSE envelope of in-toto payload type, verify over its PAE with the
/// key, carry a statement whose subject names the image digest, and (when asked) have exactly the
/// requested predicate type — a type that is absent never "verifies" (cosign CVE-2022-35929).
public struct ImageAttestationVerifier: Sendable {
    public var limits: SignatureLimits

    public init(limits: SignatureLimits = .default) {
        self.limits = limits
    }

    /// Verifies the attestations of `image` in a registry; a tag is resolved first.
    public func verify(image: Reference, verifier: any SignatureVerifier, predicateType: String?,
                       signatureRepository: SignatureRepository? = nil, client: RegistryClient) async throws -> AttestationOutcome {
        let digest: Digest
        if let given = image.digest {
            digest = given
        } else {
            guard let descriptor = try await client.headManifest(image) else {
                return AttestationOutcome(kind: .noSuchImage, imageDigest: nil)
            }
            digest = descriptor.digest
        }
        let source = RegistrySignatureSource(client: client, imageRepository: image, signatureRepository: signatureRepository)
        let attRef = try SignatureStore.signatureReference(image: image, digest: digest, kind: .attestation,
                                                           signatureRepository: signatureRepository)
        let manifest: Data?
        do {
            manifest = try await client.getManifest(attRef, accept: [.ociManifest, .dockerManifest]).bytes
        } catch let error as SignetOCIError where error.code == .notFound {
            manifest = nil
        }
        return try await verify(imageDigest: digest, attestationManifest: manifest, source: source,
                                verifier: verifier, predicateType: predicateType)
    }

    /// Verifies the `.att` manifest (if any) and the bundle referrers `source` holds for `imageDigest`.
    public func verify(imageDigest: Digest, attestationManifest: Data?, source: any SignatureSource,
                       verifier: any SignatureVerifier, predicateType: String?) async throws -> AttestationOutcome {
        var checks: [AttestationCheck] = []
        if let attestationManifest {
            let image = try SignatureImage(parsingManifest: attestationManifest, maxLayers: limits.maxLayers)
            for layer in image.layers {
                checks.append(try await checkLayer(layer, imageDigest: imageDigest, source: source, verifier: verifier))
            }
        }
        let referrers = try await source.bundleReferrers(for: imageDigest)
        guard referrers.count <= limits.maxLayers else {
            throw SignetSigningError(.limitExceeded, "image has \(referrers.count) bundle referrers, more than the cap of \(limits.maxLayers)")
        }
        for referrer in referrers {
            // Signature bundles (cosign's sign predicate) are not attestations.
            if referrer.annotations?[SigstoreBundle.predicateTypeAnnotation] == InTotoStatement.cosignSignPredicateType { continue }
            if let check = try await checkBundle(referrer, imageDigest: imageDigest, source: source, verifier: verifier) {
                checks.append(check)
            }
        }
        if checks.isEmpty { return AttestationOutcome(kind: .noSignatures, imageDigest: imageDigest) }
        var verified: [VerifiedAttestation] = []
        var rejected: [SignatureRejection] = []
        var foundTypes: [String] = []
        for check in checks {
            switch check {
            case .success(let attestation):
                if let predicateType, attestation.statement.predicateType != predicateType {
                    foundTypes.append(attestation.statement.predicateType)
                    continue
                }
                verified.append(attestation)
            case .failure(let rejection): rejected.append(rejection)
            }
        }
        if verified.isEmpty, let predicateType, !foundTypes.isEmpty {
            rejected.append(SignatureRejection(format: .cosign, blobDigest: nil,
                reason: "none of the attestations matched the predicate type: \(predicateType), found: \(foundTypes.joined(separator: ","))"))
        }
        return AttestationOutcome(kind: verified.isEmpty ? .noMatchingSignatures : .verified, imageDigest: imageDigest,
                                  attestations: verified, rejections: rejected)
    }

    func checkLayer(_ layer: SignatureLayer, imageDigest: Digest, source: any SignatureSource,
                    verifier: any SignatureVerifier) async throws -> AttestationCheck {
        func reject(_ reason: String) -> AttestationCheck {
            .failure(SignatureRejection(format: .cosign, blobDigest: layer.digest, reason: reason))
        }
        guard layer.mediaType == .inTotoDSSE else { return reject("layer media type \(layer.mediaType) is not \(MediaType.inTotoDSSE)") }
        guard layer.size <= Int64(limits.maxPayloadBytes) else {
            throw SignetSigningError(.limitExceeded,
                "attestation \(layer.digest) has \(layer.size) bytes, more than the cap of \(limits.maxPayloadBytes) bytes per payload")
        }
        let blob: Data
        do { blob = try await source.blob(layer.digest, maxSize: limits.maxPayloadBytes) } catch let error as SignetOCIError {
            return reject("attestation blob: \(error.message)")
        }
        guard layer.digest.matches(blob) else { return reject("attestation does not match the layer digest") }
        let envelope: DSSEEnvelope
        do { envelope = try JSONDecoder().decode(DSSEEnvelope.self, from: blob) } catch {
            return reject("attestation is not a dsse envelope")
        }
        return try await check(envelope, format: .cosign, blobDigest: layer.digest, imageDigest: imageDigest, verifier: verifier)
    }

    /// nil when the referrer is a signature bundle (not an attestation).
    func checkBundle(_ referrer: Descriptor, imageDigest: Digest, source: any SignatureSource,
                     verifier: any SignatureVerifier) async throws -> AttestationCheck? {
        func reject(_ reason: String, _ digest: Digest? = referrer.digest) -> AttestationCheck {
            .failure(SignatureRejection(format: .sigstoreBundle, blobDigest: digest, reason: reason))
        }
        let manifest: ImageManifest
        do { manifest = try ImageManifest(decoding: try await source.manifest(referrer.digest)) } catch let error as SignetOCIError {
            return reject("bundle manifest: \(error.message)")
        }
        // The referrers list comes from the registry: the manifest itself must name this image.
        guard manifest.subject?.digest == imageDigest else { return reject("bundle manifest subject is not \(imageDigest)") }
        guard let layer = manifest.layers.first, layer.mediaType == .sigstoreBundle else {
            return reject("bundle manifest has no layer of media type \(MediaType.sigstoreBundle)")
        }
        guard layer.size <= Int64(limits.maxPayloadBytes) else {
            throw SignetSigningError(.limitExceeded,
                "sigstore bundle \(layer.digest) has \(layer.size) bytes, more than the cap of \(limits.maxPayloadBytes) bytes per payload")
        }
        let data: Data
        do { data = try await source.blob(layer.digest, maxSize: limits.maxPayloadBytes) } catch let error as SignetOCIError {
            return reject("bundle blob: \(error.message)", layer.digest)
        }
        let bundle: SigstoreBundle
        do { bundle = try SigstoreBundle(parsing: data) } catch let error as SignetSigningError {
            return reject(error.message, layer.digest)
        }
        guard case .dsseEnvelope(let envelope) = bundle.content else { return nil }
        let result = try await check(envelope, format: .sigstoreBundle, blobDigest: layer.digest, imageDigest: imageDigest, verifier: verifier)
        if case .success(let attestation) = result, attestation.statement.predicateType == InTotoStatement.cosignSignPredicateType {
            return nil
        }
        return result
    }

    func check(_ envelope: DSSEEnvelope, format: SignatureFormat, blobDigest: Digest, imageDigest: Digest,
               verifier: any SignatureVerifier) async throws -> AttestationCheck {
        func reject(_ reason: String) -> AttestationCheck {
            .failure(SignatureRejection(format: format, blobDigest: blobDigest, reason: reason))
        }
        guard envelope.payloadType == DSSEEnvelope.inTotoPayloadType else {
            return reject("dsse payload type '\(envelope.payloadType)' is not \(DSSEEnvelope.inTotoPayloadType)")
        }
        guard let payload = envelope.payloadBytes else { return reject("dsse payload is not base64") }
        guard payload.count <= limits.maxPayloadBytes else {
            throw SignetSigningError(.limitExceeded, "dsse payload has \(payload.count) bytes, more than the cap of \(limits.maxPayloadBytes) bytes per payload")
        }
        guard envelope.signatures.count <= limits.maxLayers else {
            return reject("dsse envelope has \(envelope.signatures.count) signatures, more than the cap of \(limits.maxLayers)")
        }
        guard try await envelope.verify(with: verifier) else {
            return reject("invalid signature when validating the dsse envelope")
        }
        let statement: InTotoStatement
        do { statement = try InTotoStatement(parsing: payload) } catch let error as SignetSigningError {
            return reject(error.message)
        }
        guard statement.subjects.contains(where: { $0.digest[imageDigest.algorithm]?.lowercased() == imageDigest.encoded }) else {
            return reject("statement subject does not name image digest \(imageDigest)")
        }
        return .success(VerifiedAttestation(format: format, envelope: envelope, statement: statement, blobDigest: blobDigest))
    }
}
