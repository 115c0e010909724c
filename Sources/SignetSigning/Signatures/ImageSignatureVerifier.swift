import Foundation
import SignetOCI

/// Verifies the cosign signatures of an image: classic simple-signing layers of the `.sig` image and
/// cosign v3 Sigstore bundles attached as referrers.
///
/// Classic [cosign pkg/cosign/verify.go]: for every layer of the simple-signing media type, the
/// payload's hash matches the layer digest, `critical.type` is cosign's, `docker-manifest-digest`
/// equals the image digest, every required annotation is in `optional`, and the signature verifies.
/// Bundles: the referrer's `subject` is the image, the DSSE envelope verifies over its PAE, the
/// payload is an in-toto statement with predicate type `https://sigstore.dev/cosign/sign/v1` and a
/// subject whose sha256 equals the image digest.
public struct ImageSignatureVerifier: Sendable {
    public var limits: SignatureLimits
    /// Also read cosign v3 bundles (referrers); on by default.
    public var readsBundles: Bool

    public init(limits: SignatureLimits = .default, readsBundles: Bool = true) {
        self.limits = limits
        self.readsBundles = readsBundles
    }

    /// Verifies the signatures `source` holds for `imageDigest`.
    ///
    /// Throws for transport problems and exceeded caps; "did not verify" is the outcome's kind.
    public func verify(imageDigest: Digest, source: any SignatureSource, verifier: any SignatureVerifier,
                       annotations: [String: String] = [:]) async throws -> VerificationOutcome {
        async let classicResults = classic(imageDigest: imageDigest, source: source, verifier: verifier, annotations: annotations)
        let bundleResults = readsBundles
            ? try await bundles(imageDigest: imageDigest, source: source, verifier: verifier, annotations: annotations)
            : []
        let all = try await classicResults + bundleResults
        if all.isEmpty { return VerificationOutcome(kind: .noSignatures, imageDigest: imageDigest) }
        var verified: [VerifiedSignature] = []
        var rejected: [SignatureRejection] = []
        for result in all {
            switch result {
            case .success(let v): verified.append(v)
            case .failure(let r): rejected.append(r)
            }
        }
        return VerificationOutcome(kind: verified.isEmpty ? .noMatchingSignatures : .verified,
                                   imageDigest: imageDigest, signatures: verified, rejections: rejected)
    }

    /// Verifies a `cosign save` layout (`verify --local-image`): the image entry and its saved signatures.
    public func verify(layout: OCILayout, verifier: any SignatureVerifier,
                       annotations: [String: String] = [:]) async throws -> VerificationOutcome {
        let source = LayoutSignatureSource(layout: layout)
        let digest = try source.imageDigest()
        return try await verify(imageDigest: digest, source: source, verifier: verifier, annotations: annotations)
    }

    enum Check: Sendable {
        case success(VerifiedSignature)
        case failure(SignatureRejection)
    }

    // MARK: classic signatures

    func classic(imageDigest: Digest, source: any SignatureSource, verifier: any SignatureVerifier,
                 annotations: [String: String]) async throws -> [Check] {
        guard let manifest = try await source.classicSignatureManifest(for: imageDigest) else { return [] }
        let image = try SignatureImage(parsingManifest: manifest, maxLayers: limits.maxLayers)
        let limits = self.limits
        // Fetch and check the layers concurrently, a few at a time, keeping manifest order.
        return try await withThrowingTaskGroup(of: (Int, Check).self) { group in
            var results = [Check?](repeating: nil, count: image.layers.count)
            var next = 0
            func add() {
                let index = next
                let layer = image.layers[index]
                next += 1
                group.addTask {
                    (index, try await Self.check(layer: layer, imageDigest: imageDigest, source: source,
                                                 verifier: verifier, annotations: annotations, limits: limits))
                }
            }
            while next < min(8, image.layers.count) { add() }
            while let (index, check) = try await group.next() {
                results[index] = check
                if next < image.layers.count { add() }
            }
            return results.compactMap { $0 }
        }
    }

    static func check(layer: SignatureLayer, imageDigest: Digest, source: any SignatureSource,
                      verifier: any SignatureVerifier, annotations: [String: String],
                      limits: SignatureLimits) async throws -> Check {
        func reject(_ reason: String) -> Check {
            .failure(SignatureRejection(format: .cosign, blobDigest: layer.digest, reason: reason))
        }
        guard layer.mediaType == .cosignSimpleSigning else {
            return reject("layer media type \(layer.mediaType) is not \(MediaType.cosignSimpleSigning)")
        }
        guard layer.size <= Int64(limits.maxPayloadBytes) else {
            throw SignetSigningError(.limitExceeded,
                "signature payload \(layer.digest) has \(layer.size) bytes, more than the cap of \(limits.maxPayloadBytes) bytes per payload")
        }
        guard let encoded = layer.signatureBase64 else {
            return reject("layer has no \(SignatureLayer.signatureAnnotation) annotation")
        }
        guard let signature = Data(base64Encoded: encoded) else {
            return reject("signature annotation is not valid base64")
        }
        let payload: Data
        do {
            payload = try await source.blob(layer.digest, maxSize: limits.maxPayloadBytes)
        } catch let error as SignetOCIError where error.code == .notFound || error.code == .digestMismatch {
            return reject("payload blob: \(error.message)")
        }
        guard layer.digest.matches(payload) else { return reject("payload does not match the layer digest") }
        let parsed: SimpleSigningPayload
        do { parsed = try SimpleSigningPayload(parsing: payload) } catch let error as SignetSigningError {
            return reject(error.message)
        }
        guard parsed.type == SimpleSigningPayload.cosignType else {
            return reject("payload type '\(parsed.type)' is not '\(SimpleSigningPayload.cosignType)'")
        }
        guard parsed.dockerManifestDigest == imageDigest.description else {
            return reject("payload names image digest \(parsed.dockerManifestDigest), not \(imageDigest)")
        }
        guard parsed.matches(annotations: annotations) else {
            return reject("missing or incorrect annotation")
        }
        guard try await verifier.verify(signature: signature, payload: payload) else {
            return reject("invalid signature when validating ASN.1 encoded signature")
        }
        return .success(VerifiedSignature(format: .cosign, payload: payload, signature: signature,
                                          blobDigest: layer.digest, simpleSigning: parsed))
    }

    // MARK: v3 bundles

    func bundles(imageDigest: Digest, source: any SignatureSource, verifier: any SignatureVerifier,
                 annotations: [String: String]) async throws -> [Check] {
        let referrers = try await source.bundleReferrers(for: imageDigest)
        guard referrers.count <= limits.maxLayers else {
            throw SignetSigningError(.limitExceeded,
                "image has \(referrers.count) sigstore bundle referrers, more than the cap of \(limits.maxLayers) signature layers")
        }
        var results: [Check] = []
        for descriptor in referrers {
            results.append(try await checkBundle(referrer: descriptor, imageDigest: imageDigest, source: source,
                                                 verifier: verifier, annotations: annotations))
        }
        return results
    }

    func checkBundle(referrer: Descriptor, imageDigest: Digest, source: any SignatureSource,
                     verifier: any SignatureVerifier, annotations: [String: String]) async throws -> Check {
        func reject(_ reason: String, _ digest: Digest? = referrer.digest) -> Check {
            .failure(SignatureRejection(format: .sigstoreBundle, blobDigest: digest, reason: reason))
        }
        let manifest: ImageManifest
        do {
            manifest = try ImageManifest(decoding: try await source.manifest(referrer.digest))
        } catch let error as SignetOCIError {
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
        guard case .dsseEnvelope(let envelope) = bundle.content else {
            return reject("message-signature bundles are not supported for images", layer.digest)
        }
        guard envelope.payloadType == DSSEEnvelope.inTotoPayloadType else {
            return reject("dsse payload type '\(envelope.payloadType)' is not \(DSSEEnvelope.inTotoPayloadType)", layer.digest)
        }
        guard let payload = envelope.payloadBytes else { return reject("dsse payload is not base64", layer.digest) }
        guard payload.count <= limits.maxPayloadBytes else {
            throw SignetSigningError(.limitExceeded, "dsse payload has \(payload.count) bytes, more than the cap of \(limits.maxPayloadBytes) bytes per payload")
        }
        let statement: InTotoStatement
        do { statement = try InTotoStatement(parsing: payload) } catch let error as SignetSigningError {
            return reject(error.message, layer.digest)
        }
        // A signature is a statement of the cosign sign predicate; an attestation of another type is not.
        guard statement.predicateType == InTotoStatement.cosignSignPredicateType else {
            return reject("statement predicate type '\(statement.predicateType)' is not \(InTotoStatement.cosignSignPredicateType)", layer.digest)
        }
        guard statement.subjects.contains(where: { $0.digest[imageDigest.algorithm]?.lowercased() == imageDigest.encoded }) else {
            return reject("statement subject does not name image digest \(imageDigest)", layer.digest)
        }
        if !annotations.isEmpty {
            // cosign v3 keeps `-a` pairs in the predicate; require them there.
            for (key, value) in annotations where statement.predicate[key]?.stringValue != value
                && statement.predicate["annotations"]?[key]?.stringValue != value {
                return reject("missing or incorrect annotation", layer.digest)
            }
        }
        let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: envelope.payloadType, payload: payload)
        for sig in envelope.signatures {
            guard let signature = Data(base64Encoded: sig.sig) else { continue }
            if try await verifier.verify(signature: signature, payload: pae) {
                return .success(VerifiedSignature(format: .sigstoreBundle, payload: payload, signature: signature,
                                                  blobDigest: layer.digest, statement: statement))
            }
        }
        return reject("dsse signature did not verify with the key", layer.digest)
    }
}
