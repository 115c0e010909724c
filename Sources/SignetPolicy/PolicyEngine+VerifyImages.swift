import SignetOCI
import SignetPrimitives

/// Where verifyImages' second pass (`verifyDigest`, `required`) looks for digests.
public enum SecondPassImages: Sendable, Hashable {
    /// On the images after this evaluation's own `mutateDigest` patches (`signet apply`/`test`,
    /// and `/mutate`, as Kyverno's CLI runs mutation before validation).
    case afterMutation
    /// On the images exactly as submitted (`/validate`: the mutating webhook ran before, or was
    /// skipped — then a tag-only image must be denied, never pinned in imagination).
    case asSubmitted
}

extension PolicyEngine {
    /// Message for key-only attestors that would need a public transparency log.
    static let tlogMessage = "signet does not consult a public transparency log (Rekor): set rekor.ignoreTlog: true on key-based attestors"

    // MARK: - Plan

    /// Every verification the evaluation of `resource` can look at: each (image, attestor entry,
    /// key) of each verifyImages rule that matches, computed from the policies alone, before any
    /// verification runs. `evaluate(_:admission:verifications:)` only reads results of these.
    /// Image validating policies (`celEngine`) add theirs after the ClusterPolicies'.
    public func verificationPlan(_ resource: JSONValue, admission: AdmissionInfo = AdmissionInfo()) -> VerificationPlan {
        guard admission.operation != .delete, hasVerifyImages else { return VerificationPlan() }
        let imageRequests = celEngine?.imageVerificationPlan(resource, admission: admission, context: configuration.cel) ?? []
        return VerificationPlan(requests: clusterPolicyRequests(resource, admission: admission) + imageRequests)
    }

    /// The ClusterPolicy verifyImages part of `verificationPlan`.
    func clusterPolicyRequests(_ resource: JSONValue, admission: AdmissionInfo) -> [ImageVerificationRequest] {
        guard plans.contains(where: { !$0.imageRules.isEmpty }) else { return [] }
        let info = ResourceInfo(resource)
        let subject = Matcher.subject(info, admission)
        var requests: [ImageVerificationRequest] = []
        // The resource's images, extracted once for every rule (not once per rule).
        let images = KyvernoImage.extract(from: resource, kind: info.kind)
        guard !images.isEmpty || hasImageExtractors else { return [] }
        for plan in plans where plan.invalid == nil {
            for rp in plan.imageRules {
                if let kf = rp.kindFilter, !kf.contains(subject.kind) { continue }
                guard Matcher.matches(rp.rule, policyNamespace: plan.scopeNamespace, subject) else { continue }
                if exceptionKeys(plan.policy, rp.rule, subject, resource: resource, admission: admission) != nil || !rp.rule.unsupported.isEmpty { continue }
                // variables in verifyImages are substituted first (the evaluation does the same)
                guard case .success(let rule) = substitutedVerifyImages(rp.rule, policy: plan.policy, resource: resource, admission: admission) else { continue }
                // A rule's imageExtractors replace the standard images (ImageExtractors.swift)
                let ruleImages = rule.imageExtractors == nil ? images : ((try? rule.images(in: resource, kind: info.kind)) ?? [])
                for iv in rule.verifyImages where !iv.attestors.isEmpty || !iv.attestations.isEmpty {
                    for img in ruleImages where img.matchesAny(iv.imageReferences) && !img.matchesAny(iv.skipImageReferences) {
                        guard let reference = Reference.parsedIfValid(img.string) else { continue }
                        for set in iv.attestors {
                            for entry in set.entries {
                                guard case .keys(let material) = keyMaterial(entry, iv: iv, path: "") else { continue }
                                for key in material {
                                    requests.append(request(iv, entry, image: img.string, reference: reference, key: key))
                                }
                            }
                        }
                        // Attestations: the same keys, asking for a signed statement of the type.
                        for attestation in iv.attestations {
                            for set in attestation.attestors.isEmpty ? iv.attestors : attestation.attestors {
                                for entry in set.entries {
                                    guard case .keys(let material) = keyMaterial(entry, iv: iv, path: "") else { continue }
                                    for key in material {
                                        requests.append(request(iv, entry, image: img.string, reference: reference, key: key,
                                                                predicateType: attestation.type))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return requests
    }

    /// The request for one image, entry and key (the same in the plan and in the evaluation).
    func request(_ iv: ImageVerification, _ entry: AttestorEntry, image: String, reference: Reference,
                 key: VerificationKey, predicateType: String? = nil) -> ImageVerificationRequest {
        var annotations = iv.annotations
        for (k, v) in entry.annotations { annotations[k] = v }
        return ImageVerificationRequest(image: image, reference: reference, key: key,
                                        signatureAlgorithm: entry.keys?.signatureAlgorithm ?? "sha256",
                                        signatureRepository: entry.repository ?? iv.repository, annotations: annotations,
                                        ignoreTlog: true, ignoreSCT: true, predicateType: predicateType,
                                        registrySecrets: Array(iv.registrySecrets.prefix(RegistrySecretReference.maxPerRequest)))
    }

    /// What an attestor entry verifies with, or why it cannot be used.
    enum EntryMaterial {
        case keys([VerificationKey])
        case unusable(String)
    }

    /// `path` names the entry in messages; it is only built for one.
    func keyMaterial(_ entry: AttestorEntry, iv: ImageVerification, path: @autoclosure () -> String) -> EntryMaterial {
        guard let keys = entry.keys else {
            return .unusable("\(path()): \(entry.unsupportedKind ?? "attestor") attestors are not supported by signet")
        }
        var keyPath: String { path() + ".keys" }
        if !keys.ignoreTlog { return .unusable("\(keyPath): \(PolicyEngine.tlogMessage)") }
        if let pem = keys.publicKey { return .keys([.publicKey(pem)]) }
        if let name = keys.secretName {
            let id = "\(keys.secretNamespace ?? "")/\(name)"
            guard let pems = configuration.secretKeys[id] else { return .unusable("\(keyPath): secret \(id) not found") }
            let material = PEM.split(pems).map { VerificationKey.publicKey($0) }
            return material.isEmpty ? .unusable("\(keyPath): secret \(id) holds no PEM public key") : .keys(material)
        }
        if let kms = keys.kms { return .keys([.kms(kms)]) }
        return .keys([])
    }

    // MARK: - Evaluate

    /// Kyverno's verifyImages for one rule, on verification results already obtained: one result
    /// per (verifyImages entry, matched image), then the second-pass checks (`verifyDigest`,
    /// `required`). Pure in its arguments.
    ///
    /// `original` is the resource as submitted when an earlier rule already pinned images in
    /// `resource` (nil: `resource` is as submitted): requests name the submitted images, so that
    /// they are the plan's requests.
    func verifyImages(_ declared: Rule, policy p: ClusterPolicy, resource: JSONValue, original: JSONValue?, info: ResourceInfo,
                      action: FailureAction, verifications: VerificationResults, secondPass: SecondPassImages,
                      admission: AdmissionInfo = AdmissionInfo()) -> [RuleResult] {
        // Kyverno: the rule's variables are substituted before it is used. A rule without
        // variables in its verifyImages is used as declared (not copied).
        guard declared.verifyImagesSource != nil else {
            return verifyImages(substituted: declared, policy: p, resource: resource, original: original, info: info,
                                action: action, verifications: verifications, secondPass: secondPass, admission: admission)
        }
        switch substitutedVerifyImages(declared, policy: p, resource: original ?? resource, admission: admission) {
        case .success(let rule):
            return verifyImages(substituted: rule, policy: p, resource: resource, original: original, info: info,
                                action: action, verifications: verifications, secondPass: secondPass, admission: admission)
        case .failure(let e):
            return [RuleResult(rule: declared.name, type: .imageVerify, status: .error, message: e.message, failureAction: action)]
        }
    }

    /// `verifyImages` on the rule with its variables substituted.
    private func verifyImages(substituted rule: Rule, policy p: ClusterPolicy, resource: JSONValue, original: JSONValue?, info: ResourceInfo,
                              action: FailureAction, verifications: VerificationResults, secondPass: SecondPassImages,
                              admission: AdmissionInfo) -> [RuleResult] {
        // The variables attestation `conditions` see (with each predicate's fields added), built
        // once per rule and only when a condition needs them.
        let hasConditions = rule.verifyImages.contains { $0.attestations.contains { !$0.conditions.isEmpty } }
        var conditionContext: VariableContext? = hasConditions
            ? ((try? variableContext(rule, policy: p, resource: resource, admission: admission)) ?? VariableContext(resource: resource, admission: admission))
            : nil
        let all: [KyvernoImage]
        do {
            if rule.imageExtractors != nil {
                // Kyverno GenerateCustomImageInfo: a rule's imageExtractors also set the `images` variable
                // (one extraction for both).
                let extracted = try KyvernoImage.extract(from: resource, kind: info.kind, extractors: rule.imageExtractors)
                conditionContext?.add("images", KyvernoImage.imagesVariable(extracted))
                all = extracted.map(\.image)
            } else {
                all = KyvernoImage.extract(from: resource, kind: info.kind)
            }
        } catch {
            return [RuleResult(rule: rule.name, type: .imageVerify, status: .error, message: "failed to extract images: \(error.message)", failureAction: action)]
        }
        // Kyverno ExtractMatchingImages: images matching any entry's imageReferences. Each glob
        // test runs once per (entry, image): the checks below and the second pass read it here.
        let images: [(image: KyvernoImage, referencedBy: [Bool])] = all.compactMap { img in
            let referencedBy = rule.verifyImages.map { img.matchesAny($0.imageReferences) }
            return referencedBy.contains(true) ? (img, referencedBy) : nil
        }
        if images.isEmpty { return [] }
        // pointer -> image as submitted, when an earlier rule patched `resource` (otherwise every
        // image is as submitted)
        var submitted: [String: KyvernoImage] = [:]
        if let original {
            for img in (try? rule.images(in: original, kind: info.kind)) ?? [] { submitted[img.pointer] = img }
        }
        var results: [RuleResult] = []
        var verified: [String: Bool] = [:]   // image (as patched) -> verified
        var failedImages = Set<String>()      // images whose verification failed or could not run
        var patched: [String: KyvernoImage] = [:]  // pointer -> image after digest mutation
        for (ivi, iv) in rule.verifyImages.enumerated() {
            for (var img, referencedBy) in images {
                let name = img.string
                func r(_ s: RuleStatus, _ m: String, patches: [JSONPatchOperation] = []) -> RuleResult {
                    RuleResult(rule: rule.name, type: .imageVerify, status: s, message: m, failureAction: action, patches: patches)
                }
                if iv.attestors.isEmpty && iv.attestations.isEmpty { continue }
                let skipped = img.matchesAny(iv.skipImageReferences)
                if !referencedBy[ivi] || skipped {
                    results.append(r(.skip, "skipping image reference image \(name), policy \(p.name) ruleName \(rule.name)"))
                    if skipped { verified[name] = verified[name] ?? true }
                    continue
                }
                let asSubmitted = submitted.isEmpty ? name : (submitted[img.pointer]?.string ?? name)
                guard let reference = Reference.parsedIfValid(asSubmitted) else {
                    // An image no registry can serve does not verify: a failure, not an error.
                    results.append(r(.fail, "failed to verify image \(name): invalid image reference"))
                    verified[name] = false
                    failedImages.insert(name)
                    continue
                }
                var outcome: SetOutcome = .verified(digest: nil)
                var digest: String?
                for (si, set) in iv.attestors.enumerated() {
                    let o = evaluateSet(set, index: si, iv: iv, image: asSubmitted, reference: reference, verifications: verifications)
                    if case .verified(let d) = o { digest = digest ?? d; continue }
                    outcome = o
                    break
                }
                // Then every attestation (Kyverno verifies them after the signatures).
                if case .verified = outcome {
                    attestations: for (ai, attestation) in iv.attestations.enumerated() {
                        let sets = attestation.attestors.isEmpty ? iv.attestors : attestation.attestors
                        if sets.isEmpty {
                            outcome = .failed(".attestations[\(ai)]: no attestors to verify the attestation of type \(attestation.type)")
                            break
                        }
                        for (si, set) in sets.enumerated() {
                            let check: ((ImageVerificationResult) -> String?)? = conditionContext.map { base in
                                { result in
                                    attestation.checkConditions(result.predicates.isEmpty ? (result.payload.map { [$0] } ?? [.null]) : result.predicates,
                                                                image: asSubmitted, base: base)
                                }
                            }
                            let o = evaluateSet(set, index: si, iv: iv, image: asSubmitted, reference: reference,
                                                verifications: verifications, predicateType: attestation.type,
                                                conditions: attestation.conditions.isEmpty ? nil : check)
                            switch o {
                            case .verified(let d): digest = digest ?? d
                            case .failed(let m): outcome = .failed(".attestations[\(ai)]\(m.hasPrefix(".") ? "" : ": ")\(m)"); break attestations
                            case .error(let m): outcome = .error(".attestations[\(ai)]\(m.hasPrefix(".") ? "" : ": ")\(m)"); break attestations
                            }
                        }
                    }
                }
                switch outcome {
                case .error(let message):
                    results.append(r(.error, "failed to verify image \(name): \(message)"))
                    verified[name] = false
                    failedImages.insert(name)
                    continue
                case .failed(let message):
                    results.append(r(.fail, "failed to verify image \(name): \(message)"))
                    verified[name] = false
                    failedImages.insert(name)
                    continue
                case .verified:
                    break
                }
                var patches: [JSONPatchOperation] = []
                if iv.mutateDigest, img.digest.isEmpty, let digest, !digest.isEmpty {
                    patches.append(JSONPatchOperation(op: "replace", path: img.pointer, value: .string(img.withTag + "@" + digest)))
                    img.digest = digest
                    patched[img.pointer] = img
                }
                verified[name] = true
                if !patches.isEmpty { verified[img.string] = true }  // the pinned name too
                results.append(r(.pass, "verified image signatures for \(name)", patches: patches))
            }
        }
        // Second pass (pkg/engine/handlers/validation/validate_image.go). Kyverno runs it in the
        // validating webhook, after the mutating one already denied a failed verification, so it
        // reports only when no verification failed.
        if !failedImages.isEmpty { return results }
        for (ivi, iv) in rule.verifyImages.enumerated() {
            for (orig, referencedBy) in images {
                let pinned = secondPass == .afterMutation ? patched[orig.pointer] : nil
                let img = pinned ?? orig
                guard pinned.map({ $0.matchesAny(iv.imageReferences) }) ?? referencedBy[ivi] else { continue }
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
                }
            }
        }
        return results
    }

    /// The outcome of one attestor set.
    enum SetOutcome {
        case verified(digest: String?)
        /// Did not verify: Kyverno `fail`.
        case failed(String)
        /// Could not be verified (transport): Kyverno `error`.
        case error(String)
    }

    /// One attestor set: Kyverno `verifyAttestorSet` with `RequiredCount`, over the results of
    /// every entry and key (all of them were verified; none is skipped or invented).
    func evaluateSet(_ set: AttestorSet, index si: Int, iv: ImageVerification, image: String, reference: Reference,
                     verifications: VerificationResults, predicateType: String? = nil,
                     conditions: ((ImageVerificationResult) -> String?)? = nil) -> SetOutcome {
        var errors: [String] = []
        var transport: [String] = []
        var verifiedCount = 0
        var firstDigest: String?
        let required = set.requiredCount
        for (ei, entry) in set.entries.enumerated() {
            // Messages only: built when one is written.
            var path: String { ".attestors[\(si)].entries[\(ei)]" }
            let material: [VerificationKey]
            switch keyMaterial(entry, iv: iv, path: path) {
            case .unusable(let why): errors.append(why); continue
            case .keys(let keys): material = keys
            }
            var keyPath: String { path + ".keys" }
            var entryOK = false
            var lastMessage = predicateType == nil ? "no matching signatures" : "no matching attestations"
            var entryTransport: String?
            for key in material {
                let req = request(iv, entry, image: image, reference: reference, key: key, predicateType: predicateType)
                guard let res = verifications[req] else {
                    entryTransport = "\(keyPath): verification did not run"
                    continue
                }
                switch res.status {
                case .verified:
                    // Attestation conditions over the verified statements: failing them is a
                    // failure of the entry (Kyverno: "attestation checks failed ...").
                    if let conditions, let failure = conditions(res) {
                        lastMessage = failure
                        continue
                    }
                    entryOK = true
                    firstDigest = firstDigest ?? res.digest
                case .notVerified:
                    lastMessage = res.message
                case .error:
                    entryTransport = "\(keyPath): \(res.message)"
                }
                if entryOK { break }
            }
            if entryOK {
                verifiedCount += 1
                if verifiedCount >= required { return .verified(digest: firstDigest) }
            } else if let entryTransport {
                transport.append(entryTransport)
            } else {
                errors.append("\(keyPath): \(lastMessage)")
            }
        }
        // Not enough entries verified. If entries that could not be asked would have been enough
        // to reach the count, the outcome is unknown (an error); otherwise it is a failure.
        if !transport.isEmpty, verifiedCount + transport.count >= required {
            return .error(transport.joined(separator: "; "))
        }
        var all = errors + transport
        if all.isEmpty { all.append("verifiedCount \(verifiedCount) is less than requiredCount \(required)") }
        return .failed(all.joined(separator: "; "))
    }
}
