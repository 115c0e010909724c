import SignetOCI

extension PolicyEngine {
    /// Message for key-only attestors that would need a public transparency log.
    static let tlogMessage = "signet does not consult a public transparency log (Rekor): set rekor.ignoreTlog: true on key-based attestors"

    /// Kyverno's verifyImages for one rule: one result per (verifyImages entry, matched image),
    /// then the validate-phase checks (`verifyDigest`, `required`) as one more result.
    func verifyImages(_ rule: Rule, policy p: ClusterPolicy, resource: JSONValue, info: ResourceInfo, action: FailureAction) async -> [RuleResult] {
        let all = KyvernoImage.extract(from: resource, kind: info.kind)
        // Kyverno ExtractMatchingImages: images matching any entry's imageReferences
        let images = all.filter { img in rule.verifyImages.contains { img.matchesAny($0.imageReferences) } }
        if images.isEmpty { return [] }
        var results: [RuleResult] = []
        var verified: [String: Bool] = [:]   // image (as patched) -> verified
        var patched: [String: KyvernoImage] = [:]  // pointer -> image after digest mutation
        for iv in rule.verifyImages {
            for var img in images {
                let name = img.string
                func r(_ s: RuleStatus, _ m: String, patches: [JSONPatchOperation] = []) -> RuleResult {
                    RuleResult(rule: rule.name, type: .imageVerify, status: s, message: m, failureAction: action, patches: patches)
                }
                if iv.attestors.isEmpty { continue }
                if !img.matchesAny(iv.imageReferences) || img.matchesAny(iv.skipImageReferences) {
                    results.append(r(.skip, "skipping image reference image \(name), policy \(p.name) ruleName \(rule.name)"))
                    if img.matchesAny(iv.skipImageReferences) { verified[name] = verified[name] ?? true }
                    continue
                }
                guard let verifier else {
                    results.append(r(.error, "failed to verify image \(name): no image verifier is configured"))
                    continue
                }
                guard let reference = try? Reference(parsing: name) else {
                    results.append(r(.error, "failed to verify image \(name): bad image reference"))
                    continue
                }
                var failure: String?
                var transportError: String?
                var digest: String?
                for (si, set) in iv.attestors.enumerated() {
                    let (ok, d, err, transport) = await verifySet(set, index: si, iv: iv, image: name, reference: reference, verifier: verifier)
                    if !ok {
                        failure = err
                        transportError = transport
                        break
                    }
                    digest = digest ?? d
                }
                if let transportError {
                    results.append(r(.error, "failed to verify image \(name): \(transportError)"))
                    verified[name] = false
                    continue
                }
                if let failure {
                    results.append(r(.fail, "failed to verify image \(name): \(failure)"))
                    verified[name] = false
                    continue
                }
                var patches: [JSONPatchOperation] = []
                if iv.mutateDigest, img.digest.isEmpty, let digest, !digest.isEmpty {
                    patches.append(JSONPatchOperation(op: "replace", path: img.pointer, value: .string(img.withTag + "@" + digest)))
                    img.digest = digest
                    patched[img.pointer] = img
                }
                verified[name] = true
                verified[img.string] = true
                results.append(r(.pass, "verified image signatures for \(name)", patches: patches))
            }
        }
        // validate phase (pkg/engine/handlers/validation/validate_image.go). In admission Kyverno
        // runs it in the validating webhook, after the mutating one already denied a failed
        // verification, so it only reports on rules whose verification did not fail.
        if results.contains(where: { $0.status == .fail || $0.status == .error }) { return results }
        var passed = 0, skipped: [String] = []
        for iv in rule.verifyImages {
            for orig in images {
                let img = patched[orig.pointer] ?? orig
                guard img.matchesAny(iv.imageReferences) else { continue }
                if iv.verifyDigest && img.digest.isEmpty {
                    results.append(RuleResult(rule: rule.name, type: .imageVerify, status: .fail, message: "missing digest for \(img.string)", failureAction: action))
                    return results
                }
                if iv.required {
                    let v = verified[img.string] ?? verified[orig.string]
                    if v == false || (v == nil && !iv.attestors.isEmpty) {
                        results.append(RuleResult(rule: rule.name, type: .imageVerify, status: .fail, message: "unverified image \(img.string)", failureAction: action))
                        return results
                    }
                    if v == true { passed += 1 } else { skipped.append(img.string) }
                } else {
                    skipped.append(img.string)
                }
            }
        }
        _ = passed
        return results
    }

    /// One attestor set: Kyverno `verifyAttestorSet` with `RequiredCount`.
    func verifySet(_ set: AttestorSet, index si: Int, iv: ImageVerification, image: String, reference: Reference,
                   verifier: any ImageVerifier) async -> (Bool, String?, String?, String?) {
        var errors: [String] = []
        var verifiedCount = 0
        let required = set.requiredCount
        for (ei, entry) in set.entries.enumerated() {
            let path = ".attestors[\(si)].entries[\(ei)]"
            guard let keys = entry.keys else {
                errors.append("\(path): \(entry.unsupportedKind ?? "attestor") attestors are not supported by signet")
                continue
            }
            let keyPath = path + ".keys"
            if !keys.ignoreTlog {
                errors.append("\(keyPath): \(PolicyEngine.tlogMessage)")
                continue
            }
            var material: [VerificationKey] = []
            if let pem = keys.publicKey {
                material = [.publicKey(pem)]
            } else if let name = keys.secretName {
                let id = "\(keys.secretNamespace ?? "")/\(name)"
                guard let pems = configuration.secretKeys[id] else {
                    errors.append("\(keyPath): secret \(id) not found")
                    continue
                }
                material = PEM.split(pems).map { .publicKey($0) }
                if material.isEmpty { errors.append("\(keyPath): secret \(id) holds no PEM public key"); continue }
            } else if let kms = keys.kms {
                material = [.kms(kms)]
            }
            var entryOK = false
            var entryDigest: String?
            var lastMessage = "no matching signatures"
            for key in material {
                var ann = iv.annotations
                for (k, v) in entry.annotations { ann[k] = v }
                let req = ImageVerificationRequest(image: image, reference: reference, key: key, signatureAlgorithm: keys.signatureAlgorithm,
                                                   signatureRepository: entry.repository ?? iv.repository, annotations: ann,
                                                   ignoreTlog: true, ignoreSCT: true)
                do {
                    let res = try await verifier.verify(req)
                    if res.verified { entryOK = true; entryDigest = res.digest; break }
                    lastMessage = res.message
                } catch {
                    return (false, nil, nil, "\(keyPath): \(error)")
                }
            }
            if entryOK {
                verifiedCount += 1
                if verifiedCount >= required { return (true, entryDigest, nil, nil) }
            } else {
                errors.append("\(keyPath): \(lastMessage)")
            }
        }
        if errors.isEmpty { errors.append("verifiedCount \(verifiedCount) is less than requiredCount \(required)") }
        return (false, nil, errors.joined(separator: "; "), nil)
    }
}
