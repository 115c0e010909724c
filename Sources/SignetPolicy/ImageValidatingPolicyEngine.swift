import SignetCEL
import SignetOCI
import SignetPrimitives
import Synchronization

/// What one attestor says about one image (or one attestation of it), from the typed results.
enum ImageAttestorOutcome: Sendable {
    case verified(digest: String?, payload: JSONValue?)
    /// Did not verify (a failure: the attestor is not counted).
    case notVerified(String)
    /// Could not be verified (transport): the calling expression errors, failurePolicy decides.
    case error(String)
    /// The attestor cannot verify anything in Signet (keyless, notary, transparency log, bad key).
    case unusable(String)
}

/// Which images the verification calls of one request verified, across every image validating
/// policy of the request (Kyverno enforces `required` with cross-policy evidence).
final class ImageVerificationRecorder: Sendable {
    private let verified = Mutex<[String: Bool]>([:])

    /// Records a verification call's outcome (one success is enough).
    func record(_ image: String, _ ok: Bool) {
        verified.withLock { $0[image] = ($0[image] ?? false) || ok }
    }

    func wasVerified(_ image: String) -> Bool { verified.withLock { $0[image] ?? false } }
}

/// The per-evaluation state the image verification CEL functions read: outcomes precomputed from
/// the `VerificationResults` (evaluation stays pure), and the request's recorder (for
/// `validationConfigurations.required`). Bound with a task-local for one policy's evaluation.
final class ImageVerificationState: Sendable {
    @TaskLocal static var current: ImageVerificationState?

    let matchers: CompiledImageMatchers
    /// image → attestor name → outcome.
    let signatures: [String: [String: ImageAttestorOutcome]]
    /// image → attestation name → attestor name → outcome.
    let attestations: [String: [String: [String: ImageAttestorOutcome]]]
    let attestationNames: Set<String>
    let recorder: ImageVerificationRecorder
    /// Image data fetched before evaluation (`KyvernoCELData.images`), by reference.
    let imageData: [String: JSONValue]

    init(matchers: CompiledImageMatchers, signatures: [String: [String: ImageAttestorOutcome]],
         attestations: [String: [String: [String: ImageAttestorOutcome]]], attestationNames: Set<String>,
         recorder: ImageVerificationRecorder, imageData: [String: JSONValue] = [:]) {
        self.recorder = recorder
        self.imageData = imageData
        self.matchers = matchers
        self.signatures = signatures
        self.attestations = attestations
        self.attestationNames = attestationNames
    }

    func record(_ image: String, _ ok: Bool) { recorder.record(image, ok) }
    func wasVerified(_ image: String) -> Bool { recorder.wasVerified(image) }
}

/// An attestor as CEL sees it (`attestors.NAME`).
struct ImageAttestorValue: CELOpaque {
    let name: String
    var celType: CELType { .opaque("imageverify.attestor") }
    func isEqual(to other: any CELOpaque) -> Bool { (other as? ImageAttestorValue)?.name == name }
    var description: String { "attestor(\(name))" }
}

/// Compiled `matchImageReferences`.
struct CompiledImageMatchers: Sendable {
    let globs: [String]
    let expressions: [CELProgram]

    /// The environment of `matchImageReferences[].expression`: `imageRef`, the image string.
    static let environment: CELEnvironment = {
        var options = CELOptions()
        options.costLimit = 100_000
        return CELEnvironment(variables: [CELVariable("imageRef", .string)], libraries: CELExtensions.all + [KyvernoCELLibrary.library], options: options)
    }()

    /// Whether an image string is matched (an expression that errors does not match).
    func matches(_ image: String) -> Bool {
        let parsed = KyvernoImage(parsing: image)
        if globs.contains(where: { parsed.matches($0) }) { return true }
        for p in expressions {
            if case .bool(true) = p.run(CELActivation(["imageRef": .string(image)]), costLimit: 100_000).value { return true }
        }
        return false
    }
}

/// The CEL functions of ImageValidatingPolicies (Kyverno `imageverify`), answered from the
/// verification results of the evaluation (never from the network).
public enum ImageVerificationCELLibrary {
    /// Variables image validating policies add to Kyverno's.
    static let variableNames = ["images", "attestors", "attestations"]

    /// The environment image validating policy expressions compile in.
    public static let environment: CELEnvironment = {
        var options = CELOptions()
        options.costLimit = CompiledCELChecks.costBudget
        return CELEnvironment(variables: (KyvernoCELLibrary.variableNames + variableNames).map { CELVariable($0) },
                              libraries: CELExtensions.all + [KyvernoCELLibrary.library, library], options: options)
    }()

    static func attestorNames(_ v: CELValue) -> [String]? {
        guard let list = v.listValue else { return nil }
        var out: [String] = []
        for item in list {
            if case .opaque(let o) = item, let a = o as? ImageAttestorValue { out.append(a.name) }
            else if let s = item.stringValue { out.append(s) }
            else { return nil }
        }
        return out
    }

    /// Counts the attestors of `names` whose outcome verified; a transport error or an unusable
    /// attestor makes the call an error (failurePolicy decides), a failure only does not count.
    static func count(_ outcomes: [String: ImageAttestorOutcome], _ names: [String], what: String) -> CELValue {
        var n: Int64 = 0
        for name in names {
            guard let o = outcomes[name] else { return .error(.invalidArgument, "attestor not found in policy: \(name)") }
            switch o {
            case .verified: n &+= 1
            case .notVerified: continue
            case .error(let m): return .error(.invalidArgument, "failed to verify \(what) with attestor \(name): \(m)")
            case .unusable(let m): return .error(.unsupported, m)
            }
        }
        return .int(n)
    }

    static var state: ImageVerificationState? { ImageVerificationState.current }

    static func notPlanned(_ image: String) -> CELValue {
        .error(.invalidArgument, "image \(image) was not verified: only the resource's images (images.*) that matchImageReferences select are verified")
    }

    static func verifyImageSignatures(_ image: CELValue, _ attestors: CELValue) -> CELValue {
        guard let state else { return .error(.unsupported, "verifyImageSignatures is only available in image validating policies") }
        guard let img = image.stringValue, let names = attestorNames(attestors) else { return .error(.noMatchingOverload, "verifyImageSignatures") }
        // Kyverno: an image no matchImageReferences entry selects is skipped, with count 0.
        guard state.matchers.matches(img) else { return .int(0) }
        guard let outcomes = state.signatures[img] else { return notPlanned(img) }
        let r = count(outcomes, names, what: "image \(img)")
        if case .int(let n) = r, !names.isEmpty { state.record(img, n > 0) }
        return r
    }

    static func verifyAttestationSignatures(_ image: CELValue, _ attestation: CELValue, _ attestors: CELValue) -> CELValue {
        guard let state else { return .error(.unsupported, "verifyAttestationSignatures is only available in image validating policies") }
        guard let img = image.stringValue, let att = attestation.stringValue, let names = attestorNames(attestors) else {
            return .error(.noMatchingOverload, "verifyAttestationSignatures")
        }
        guard state.matchers.matches(img) else { return .int(0) }
        guard state.attestationNames.contains(att) else { return .error(.invalidArgument, "attestation not found in policy: \(att)") }
        guard let outcomes = state.attestations[img]?[att] else { return notPlanned(img) }
        let r = count(outcomes, names, what: "attestation \(att) of image \(img)")
        if case .int(let n) = r, !names.isEmpty { state.record(img, n > 0) }
        return r
    }

    static func extractPayload(_ image: CELValue, _ attestation: CELValue) -> CELValue {
        guard let state else { return .error(.unsupported, "extractPayload is only available in image validating policies") }
        guard let img = image.stringValue, let att = attestation.stringValue else { return .error(.noMatchingOverload, "extractPayload") }
        guard state.attestationNames.contains(att) else { return .error(.invalidArgument, "attestation not found in policy: \(att)") }
        // Only a verified statement's predicate is ever returned.
        for name in (state.attestations[img]?[att] ?? [:]).keys.sorted() {
            if case .verified(_, let payload)? = state.attestations[img]?[att]?[name] {
                guard let payload else { return .error(.unsupported, "the verified attestation \(att) of \(img) carried no payload to extract") }
                return CELValue(json: payload)
            }
        }
        return .error(.invalidArgument, "payload for attestation \(att) of image \(img) cannot be fetched before verifying it")
    }

    static func getImageData(_ image: CELValue) -> CELValue {
        guard let state else { return .error(.unsupported, "getImageData is only available in image validating policies") }
        guard let img = image.stringValue else { return .error(.noMatchingOverload, "getImageData") }
        if let data = state.imageData[img] { return CELValue(json: data) }
        guard let ref = try? Reference(parsing: img) else { return .error(.invalidArgument, "invalid image reference") }
        var digest = ref.digest?.description
        if digest == nil {
            for o in (state.signatures[img] ?? [:]).values { if case .verified(let d?, _) = o { digest = d; break } }
        }
        guard let digest else {
            return .error(.unsupported, "image data of \(img) is not available: signet reads registries only to verify signatures")
        }
        let repository = "\(ref.registry)/\(ref.repository)"
        return CELValue(json: ["image": .string(img), "resolvedImage": .string("\(repository)@\(digest)"), "registry": .string(ref.registry),
                               "repository": .string(ref.repository), "identifier": .string(ref.identifier), "tag": .string(ref.tag ?? ""),
                               "digest": .string(digest)])
    }

    /// `verifyImageSignatures`, `verifyAttestationSignatures`, `extractPayload`, `getImageData`.
    public static let library = CELLibrary(name: "kyverno.imageverify", functions: [
        CELFunction("verifyImageSignatures", .function("iv_verify_image_signatures", .string, .dyn) { verifyImageSignatures($0, $1) }),
        CELFunction("verifyAttestationSignatures", .function("iv_verify_attestation_signatures", .string, .dyn, .dyn) { verifyAttestationSignatures($0, $1, $2) }),
        CELFunction("extractPayload", .function("iv_extract_payload", .string, .dyn) { extractPayload($0, $1) }),
        CELFunction("getImageData", .function("iv_get_image_data", .string) { getImageData($0) }),
    ], types: [.opaque("imageverify.attestor")])
}

/// One way an image validating policy applies (its own rules or an autogen variant), compiled.
struct ImagePolicyVariant: Sendable {
    let variant: CELPolicyVariant
    /// `images` extractors, rewritten like the variant's expressions.
    let extractors: [(name: String, program: CELProgram)]
    /// `cosign.key.expression` programs by attestor name.
    let keyExpressions: [String: CELProgram]
}

/// An image validating policy ready for planning and evaluation.
struct ImagePolicyPlan: Sendable {
    let policy: ImageValidatingPolicy
    let variants: [ImagePolicyVariant]
    let matchers: CompiledImageMatchers
    let invalidReason: String?
}

/// Compiles and evaluates ImageValidatingPolicies (helpers of `CELPolicyEngine`).
public enum ImageValidatingPolicyEngine {
    /// Message for key attestors that would need a public transparency log.
    public static let tlogMessage = "signet does not consult a public transparency log (Rekor): set cosign.ctlog.insecureIgnoreTlog: true on key attestors"
    /// Bound on the images one resource can name for one policy.
    static let maxImages = 64
    /// Bound on the requests one resource can plan (images × attestor keys × (1 + attestations)):
    /// requests past it are not planned, and the calls that need them report an error.
    static let maxRequests = 4096

    static func compile(_ p: ImageValidatingPolicy) -> (ImagePolicyPlan, [Diagnostic]) {
        var diags: [Diagnostic] = []
        let env = ImageVerificationCELLibrary.environment
        let (celPlan, d) = CELPolicyEngine.plan(p.base, environment: env)
        for var x in d {
            let from = p.base.displayName
            if x.path.hasPrefix(from) { x.path = p.displayName + x.path.dropFirst(from.count) }
            diags.append(x)
        }
        func program(_ source: String, _ path: String, _ environment: CELEnvironment, report: Bool) -> CELProgram? {
            do { return try environment.compile(source) } catch {
                if report { diags.append(Diagnostic(.error, path: "\(p.displayName): \(path)", "compilation failed: \(error.message)")) }
                return nil
            }
        }
        var globs: [String] = []
        var exprs: [CELProgram] = []
        for (i, m) in p.matchImageReferences.enumerated() {
            switch m {
            case .glob(let g): globs.append(g)
            case .expression(let e):
                if let prog = program(e, "spec.matchImageReferences[\(i)].expression", CompiledImageMatchers.environment, report: true) { exprs.append(prog) }
            }
        }
        var variants: [ImagePolicyVariant] = []
        for (vi, v) in celPlan.variants.enumerated() {
            let specPath: String? = v.ruleName.hasPrefix("autogen-cronjob-") ? "object.spec.jobTemplate.spec.template"
                : v.ruleName.hasPrefix("autogen-") ? "object.spec.template" : nil
            func rewrite(_ s: String) -> String { specPath.map { CELPolicyEngine.rewrite(s, specPath: $0) } ?? s }
            var extractors: [(String, CELProgram)] = []
            for (i, e) in p.imageExtractors.enumerated() {
                if let prog = program(rewrite(e.expression), "spec.images[\(i)].expression", env, report: vi == 0) { extractors.append((e.name, prog)) }
            }
            var keys: [String: CELProgram] = [:]
            for (i, a) in p.attestors.enumerated() {
                if case .cosignKey(let c) = a.kind, case .expression(let e) = c.key,
                   let prog = program(rewrite(e), "spec.attestors[\(i)].cosign.key.expression", env, report: vi == 0) {
                    keys[a.name] = prog
                }
            }
            variants.append(ImagePolicyVariant(variant: v, extractors: extractors, keyExpressions: keys))
        }
        let errors = (p.diagnostics + diags).filter { $0.severity == .error }
        let invalid = errors.isEmpty ? nil : errors.map(\.description).joined(separator: "; ")
        return (ImagePolicyPlan(policy: p, variants: variants, matchers: CompiledImageMatchers(globs: globs, expressions: exprs), invalidReason: invalid), diags)
    }
}

/// What an attestor verifies with, or why it cannot verify.
enum ImageAttestorKeys {
    case keys(CosignKeyAttestor, [VerificationKey])
    case unusable(String)
}

extension CELPolicyEngine {
    /// True when image validating policies are loaded (their images need verifying).
    public var hasImagePolicies: Bool { !imagePlans.isEmpty }

    /// The variant of `plan` that applies to the object and its activation, nil when none does.
    func imageMatch(_ plan: ImagePolicyPlan, resource: JSONValue, info: ResourceInfo, admission: AdmissionInfo,
                    context: CELRequestContext) -> (ImagePolicyVariant, [String: CELValue])? {
        let p = plan.policy
        guard p.base.mode == .kubernetes else { return nil }
        if let ns = p.namespace, ns != info.namespace { return nil }
        let isNamespace = info.kind == "Namespace" && info.group.isEmpty
        guard let v = plan.variants.first(where: { CELPolicyEngine.matches($0.variant.match, info: info, admission: admission, isNamespace: isNamespace) }) else { return nil }
        return (v, CELActivationBuilder.base(object: resource, admission: admission, info: info, context: context, params: nil))
    }

    /// Whether every match condition holds (an error does not hold: nothing is verified for it).
    static func matchConditionsHold(_ checks: CompiledCELChecks, _ base: [String: CELValue]) -> Bool {
        var budget = CompiledCELChecks.costBudget
        for mc in checks.matchConditions {
            let r = mc.program.run(CELActivation(base), costLimit: max(budget, 0))
            budget -= r.cost
            guard case .bool(true) = r.value else { return false }
        }
        return true
    }

    /// `images.*`: the Pod spec's container images as written, then the custom extractors'.
    static func images(_ resource: JSONValue, kind: String, variant: ImagePolicyVariant,
                       base: [String: CELValue]) -> (lists: [String: [String]], error: String?) {
        var lists: [String: [String]] = ["containers": [], "initContainers": [], "ephemeralContainers": []]
        var total = 0
        if let path = KyvernoImage.podSpecPath(ofKind: kind), let spec = resource.value(at: path) {
            for field in ["containers", "initContainers", "ephemeralContainers"] {
                var l: [String] = []
                for c in spec[field]?.arrayValue ?? [] {
                    guard let img = c["image"]?.stringValue, !img.isEmpty, total < ImageValidatingPolicyEngine.maxImages else { continue }
                    l.append(img)
                    total += 1
                }
                lists[field] = l
            }
        }
        for (name, program) in variant.extractors {
            let r = program.run(CELActivation(base), costLimit: CompiledCELChecks.costBudget)
            guard case .list(let items) = r.value else {
                return (lists, "image extractor \(name) did not return a list of images: \(CompiledCELChecks.describe(r.value))")
            }
            var l: [String] = []
            for item in items {
                guard let s = item.stringValue else { return (lists, "image extractor \(name) returned a non-string image") }
                guard total < ImageValidatingPolicyEngine.maxImages else { break }
                l.append(s)
                total += 1
            }
            lists[name] = l
        }
        return (lists, nil)
    }

    /// The distinct images `matchImageReferences` selects, in order.
    static func matchedImages(_ lists: [String: [String]], _ matchers: CompiledImageMatchers) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for name in lists.keys.sorted() {
            for img in lists[name] ?? [] where !seen.contains(img) {
                seen.insert(img)
                if matchers.matches(img) { out.append(img) }
            }
        }
        return out
    }

    static func keys(_ a: ImageAttestor, variant: ImagePolicyVariant, base: [String: CELValue]) -> ImageAttestorKeys {
        let c: CosignKeyAttestor
        switch a.kind {
        case .unsupported(let why): return .unusable(why)
        case .cosignKey(let k): c = k
        }
        guard c.insecureIgnoreTlog else { return .unusable("attestor \(a.name): \(ImageValidatingPolicyEngine.tlogMessage)") }
        switch c.key {
        case .kms(let uri): return .keys(c, [.kms(uri)])
        case .data(let pem):
            let keys = PEM.split(pem).map { VerificationKey.publicKey($0) }
            return keys.isEmpty ? .unusable("attestor \(a.name): key data holds no PEM public key") : .keys(c, keys)
        case .expression:
            guard let program = variant.keyExpressions[a.name] else { return .unusable("attestor \(a.name): the key expression did not compile") }
            let r = program.run(CELActivation(base), costLimit: CompiledCELChecks.costBudget)
            guard let pem = r.value.stringValue else {
                return .unusable("attestor \(a.name): the key expression did not return a string: \(CompiledCELChecks.describe(r.value))")
            }
            let keys = PEM.split(pem).map { VerificationKey.publicKey($0) }
            return keys.isEmpty ? .unusable("attestor \(a.name): the key expression returned no PEM public key") : .keys(c, keys)
        }
    }

    static func request(_ image: String, _ reference: Reference, _ c: CosignKeyAttestor, _ key: VerificationKey,
                        predicateType: String? = nil, secrets: [RegistrySecretReference] = []) -> ImageVerificationRequest {
        ImageVerificationRequest(image: image, reference: reference, key: key, signatureAlgorithm: c.hashAlgorithm,
                                 signatureRepository: c.signatureRepository, annotations: c.annotations,
                                 ignoreTlog: true, ignoreSCT: true, predicateType: predicateType, registrySecrets: secrets)
    }

    /// `credentials.secrets` as Secret references: in signet's own namespace for a cluster-wide
    /// policy (Kyverno reads them in its namespace), in the policy's namespace for a namespaced
    /// one (a namespace's policy must never read the webhook's own Secrets).
    static func registrySecrets(_ policy: ImageValidatingPolicy) -> [RegistrySecretReference] {
        guard let names = policy.credentials?.secrets, !names.isEmpty else { return [] }
        let namespace: String? = policy.kind == .namespacedImageValidatingPolicy ? (policy.namespace ?? "") : nil
        var out: [RegistrySecretReference] = []
        for name in names where RegistrySecretReference.isValidName(name) && out.count < RegistrySecretReference.maxPerRequest {
            let ref = RegistrySecretReference(namespace: namespace, name: name)
            if !out.contains(ref) { out.append(ref) }
        }
        return out
    }

    // MARK: - Plan

    /// Every verification the image validating policies can ask about `resource`: one request per
    /// (matched image × key attestor key), and per attestation type. Pure; computed before any
    /// verification runs, with the same requests `evaluate(...verifications:...)` looks up.
    public func imageVerificationPlan(_ resource: JSONValue, admission: AdmissionInfo = AdmissionInfo(),
                                      context: CELRequestContext = .init()) -> [ImageVerificationRequest] {
        guard admission.operation != .delete, !imagePlans.isEmpty else { return [] }
        let info = ResourceInfo(resource)
        var out: [ImageVerificationRequest] = []
        for plan in imagePlans where plan.invalidReason == nil {
            guard let (v, base) = imageMatch(plan, resource: resource, info: info, admission: admission, context: context) else { continue }
            // Nothing is verified for a request the match conditions or an exception leave out.
            guard Self.matchConditionsHold(v.variant.checks, base), exception(for: plan.policy.base, base: base) == nil else { continue }
            let (lists, _) = Self.images(resource, kind: info.kind, variant: v, base: base)
            for img in Self.matchedImages(lists, plan.matchers) {
                guard let ref = Reference.parsedIfValid(img) else { continue }
                let secrets = Self.registrySecrets(plan.policy)
                for a in plan.policy.attestors {
                    guard case .keys(let c, let keys) = Self.keys(a, variant: v, base: base) else { continue }
                    for k in keys where out.count < ImageValidatingPolicyEngine.maxRequests { out.append(Self.request(img, ref, c, k, secrets: secrets)) }
                    for att in plan.policy.attestations {
                        for k in keys where out.count < ImageValidatingPolicyEngine.maxRequests {
                            out.append(Self.request(img, ref, c, k, predicateType: att.type, secrets: secrets))
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: - Evaluate

    /// One attestor's outcome over its keys' results: verified when one key verified, an error
    /// when none did and one could not be asked, otherwise not verified.
    static func outcome(_ requests: [ImageVerificationRequest], _ verifications: VerificationResults) -> ImageAttestorOutcome {
        var transport: String?
        var message = "no matching signatures"
        for r in requests {
            guard let res = verifications[r] else { transport = transport ?? "verification did not run"; continue }
            switch res.status {
            case .verified: return .verified(digest: res.digest, payload: res.payload)
            case .error: transport = transport ?? res.message
            case .notVerified: message = res.message
            }
        }
        if let transport { return .error(transport) }
        return .notVerified(message)
    }

    /// Evaluates the image validating policies on `resource` with the results of
    /// `imageVerificationPlan`'s requests (missing results read as "verification did not run",
    /// an error). Pure and synchronous. Policies that do not apply report no rule.
    public func evaluateImagePolicies(_ resource: JSONValue, admission: AdmissionInfo, context: CELRequestContext = .init(),
                                      verifications: VerificationResults, secondPass: SecondPassImages) -> [PolicyResult] {
        guard !imagePlans.isEmpty else { return [] }
        let info = ResourceInfo(resource)
        var out: [PolicyResult] = []
        let recorder = ImageVerificationRecorder()
        // `required` is decided once every policy has verified what it verifies.
        var pendingRequired: [(index: Int, images: [String])] = []
        for plan in imagePlans where plan.policy.base.mode == .kubernetes {
            let p = plan.policy
            func policyResult(_ rules: [RuleResult], invalid: String? = nil) -> PolicyResult {
                PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy,
                             rules: rules, invalidReason: invalid)
            }
            guard let (v, base0) = imageMatch(plan, resource: resource, info: info, admission: admission, context: context) else {
                out.append(policyResult([]))
                continue
            }
            if let invalid = plan.invalidReason { out.append(policyResult([], invalid: invalid)); continue }
            let act = action(p.validationActions)
            let ruleName = v.variant.ruleName
            if let ex = exception(for: p.base, base: base0) {
                out.append(policyResult([RuleResult(rule: ruleName, type: .imageVerify, status: .skip, message: "rule is skipped due to policy exception \(ex)",
                                                    failureAction: act, exceptions: [ex])]))
                continue
            }
            let (lists, extractError) = Self.images(resource, kind: info.kind, variant: v, base: base0)
            if let extractError {
                out.append(policyResult([RuleResult(rule: ruleName, type: .imageVerify, status: .error, message: extractError, failureAction: act)]))
                continue
            }
            let matched = Self.matchedImages(lists, plan.matchers)
            var signatures: [String: [String: ImageAttestorOutcome]] = [:]
            var attestations: [String: [String: [String: ImageAttestorOutcome]]] = [:]
            var digests: [String: String] = [:]
            for img in matched {
                var sig: [String: ImageAttestorOutcome] = [:]
                var att: [String: [String: ImageAttestorOutcome]] = [:]
                let ref = Reference.parsedIfValid(img)
                for a in p.attestors {
                    guard let ref else {
                        // An image no registry can serve does not verify: a failure, not an error.
                        sig[a.name] = .notVerified("invalid image reference")
                        for x in p.attestations { att[x.name, default: [:]][a.name] = .notVerified("invalid image reference") }
                        continue
                    }
                    switch Self.keys(a, variant: v, base: base0) {
                    case .unusable(let why):
                        sig[a.name] = .unusable(why)
                        for x in p.attestations { att[x.name, default: [:]][a.name] = .unusable(why) }
                    case .keys(let c, let keys):
                        let secrets = Self.registrySecrets(p)
                        let o = Self.outcome(keys.map { Self.request(img, ref, c, $0, secrets: secrets) }, verifications)
                        sig[a.name] = o
                        if case .verified(let d?, _) = o { digests[img] = digests[img] ?? d }
                        for x in p.attestations {
                            let ao = Self.outcome(keys.map { Self.request(img, ref, c, $0, predicateType: x.type, secrets: secrets) }, verifications)
                            att[x.name, default: [:]][a.name] = ao
                            if case .verified(let d?, _) = ao { digests[img] = digests[img] ?? d }
                        }
                    }
                }
                signatures[img] = sig
                attestations[img] = att
            }
            let state = ImageVerificationState(matchers: plan.matchers, signatures: signatures, attestations: attestations,
                                               attestationNames: Set(p.attestations.map(\.name)),
                                               recorder: recorder, imageData: context.data.images)
            var base = base0
            // As Kyverno: `images` holds only the images `matchImageReferences` selects (every
            // category present, possibly empty), so `images.containers.all(...)` never fails on
            // an image the policy does not govern.
            let governed = Set(matched)
            base["images"] = CELValue(json: .object(lists.mapValues { .array($0.filter(governed.contains).map(JSONValue.string)) }))
            var attestorMap = CELMap()
            for a in p.attestors { attestorMap.set(.opaque(ImageAttestorValue(name: a.name)), for: .string(a.name)) }
            base["attestors"] = .map(attestorMap)
            var attestationMap = CELMap()
            for x in p.attestations { attestationMap.set(.string(x.name), for: .string(x.name)) }
            base["attestations"] = .map(attestationMap)
            var result = ImageVerificationState.$current.withValue(state) {
                self.result(p.base, variant: v.variant, base: base, actions: p.validationActions)
            }
            result.kind = p.kind.rawValue
            for i in result.rules.indices { result.rules[i].type = .imageVerify }
            if result.rules.count == 1, result.rules[0].status == .pass {
                result.rules[0] = Self.secondPass(result.rules[0], p: p, resource: resource, kind: info.kind, matched: Set(matched),
                                                  digests: digests, state: state, secondPass: secondPass)
                if p.validationConfiguration.required { pendingRequired.append((out.count, matched)) }
            }
            out.append(result)
        }
        for (index, images) in pendingRequired where out[index].rules.first?.status == .pass {
            if let img = images.first(where: { !recorder.wasVerified($0) }) {
                out[index].rules[0].status = .fail
                out[index].rules[0].message = "image \(img) is not verified"
                out[index].rules[0].patches = []
            }
        }
        return out
    }

    /// `validationConfigurations` after the validations passed: `mutateDigest` patches and
    /// `verifyDigest` (`required` is checked after every policy of the request ran).
    static func secondPass(_ rule: RuleResult, p: ImageValidatingPolicy, resource: JSONValue, kind: String, matched: Set<String>,
                           digests: [String: String], state: ImageVerificationState, secondPass: SecondPassImages) -> RuleResult {
        var rule = rule
        let config = p.validationConfiguration
        guard let path = KyvernoImage.podSpecPath(ofKind: kind), let spec = resource.value(at: path) else { return rule }
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            for (i, c) in (spec[field]?.arrayValue ?? []).enumerated() {
                guard let img = c["image"]?.stringValue, matched.contains(img) else { continue }
                let parsed = KyvernoImage(parsing: img)
                var hasDigest = !parsed.digest.isEmpty
                if !hasDigest, config.mutateDigest, let d = digests[img], state.wasVerified(img),
                   let pointer = KyvernoImage.imagePointer(kind: kind, field: field, index: i) {
                    rule.patches.append(JSONPatchOperation(op: "replace", path: pointer, value: .string(parsed.withTag + "@" + d)))
                    hasDigest = secondPass == .afterMutation
                }
                if config.verifyDigest && !hasDigest {
                    rule.status = .fail
                    rule.message = "missing digest for \(img)"
                    rule.patches = []
                    return rule
                }
            }
        }
        return rule
    }
}
