import SignetPrimitives

/// The image validating policy kinds (closed set), `policies.kyverno.io/{v1,v1beta1,v1alpha1}`.
public enum ImageValidatingPolicyKind: String, Sendable, Hashable, CaseIterable {
    /// Cluster-wide `ImageValidatingPolicy`.
    case imageValidatingPolicy = "ImageValidatingPolicy"
    /// `NamespacedImageValidatingPolicy`: applies only in its own namespace.
    case namespacedImageValidatingPolicy = "NamespacedImageValidatingPolicy"

    /// The kind of a document, nil when it is not an image validating policy at a supported version.
    public init?(apiVersion: String, kind: String) {
        let parts = apiVersion.split(separator: "/").map(String.init)
        guard parts.count == 2, parts[0] == "policies.kyverno.io", ["v1", "v1beta1", "v1alpha1"].contains(parts[1]),
              let k = ImageValidatingPolicyKind(rawValue: kind) else { return nil }
        self = k
    }

    /// The ValidatingPolicy kind whose common fields (match, variables, validations...) it shares.
    var validatingKind: CELPolicyKind { self == .imageValidatingPolicy ? .validatingPolicy : .namespacedValidatingPolicy }
}

/// One `matchImageReferences` entry: a glob, or a CEL expression over `image` (a string).
public enum ImageReferenceMatcher: Sendable, Hashable {
    /// A glob matched like `imageReferences` (host and path separately, every spelling of the image).
    case glob(String)
    /// A CEL expression over `imageRef` (the image string) returning a bool.
    case expression(String)
}

/// One `images` entry: a named CEL expression returning a list of image strings (`images.NAME`).
public struct ImageExtractor: Sendable, Hashable {
    /// The list's name under `images`.
    public var name: String
    /// CEL over the request variables (`object`...), returning a list of image strings.
    public var expression: String
}

/// `cosign.key` of an attestor: where the public key comes from.
public enum CosignKeySource: Sendable, Hashable {
    /// `data`: an inline PEM public key (several PEM blocks are several keys).
    case data(String)
    /// `kms`: a KMS URI, e.g. `hashivault://cosign` or `openbao://cosign`.
    case kms(String)
    /// `expression`: a CEL expression returning the PEM public key (evaluated per request).
    case expression(String)
}

/// A cosign key attestor (`attestors[].cosign` with `key`), the only attestor Signet verifies.
public struct CosignKeyAttestor: Sendable, Hashable {
    /// Where the public key comes from.
    public var key: CosignKeySource
    /// `key.hashAlgorithm` (`sha256` by default; `sha224`, `sha384`, `sha512`).
    public var hashAlgorithm: String = "sha256"
    /// `source.repository`: where signatures and attestations are stored instead of the image's repository.
    public var signatureRepository: String?
    /// `source.tagPrefix` (reported: Signet looks signatures up at cosign's default tags).
    public var tagPrefix: String?
    /// `ctlog.insecureIgnoreTlog`: must be true (Signet never consults a public transparency log).
    public var insecureIgnoreTlog: Bool = false
    /// `annotations`: every pair must be in the signature payload.
    public var annotations: [String: String] = [:]
}

/// One `attestors` entry.
public struct ImageAttestor: Sendable, Hashable {
    /// What the attestor verifies with (closed set).
    public enum Kind: Sendable, Hashable {
        case cosignKey(CosignKeyAttestor)
        /// Keyless, certificate or notary attestors: named, never verified (the reason says why).
        case unsupported(String)
    }
    /// The name CEL uses (`attestors.NAME`).
    public var name: String
    public var kind: Kind
}

/// One `attestations` entry: a signed statement the image must carry.
public struct ImageAttestationSpec: Sendable, Hashable {
    /// How the attestation is attached (closed set).
    public enum Format: String, Sendable, Hashable {
        /// `intoto`: a cosign in-toto attestation (DSSE in the `.att` tag or a bundle referrer).
        case intoto
        /// `referrer`: an OCI 1.1 referrer; verified as a cosign attestation of that predicate type.
        case referrer
    }
    /// The name CEL uses (`attestations.NAME`, a string).
    public var name: String
    public var format: Format
    /// The predicate type URI (`intoto.type` / `referrer.type`).
    public var type: String
}

/// `validationConfigurations` (Kyverno defaults: all true).
public struct ImageValidationConfiguration: Sendable, Hashable {
    /// Pin verified tag-only images to their digest (a patch).
    public var mutateDigest = true
    /// Matched images must carry a digest.
    public var verifyDigest = true
    /// Matched images must have been verified by a signature or attestation check.
    public var required = true
    public init(mutateDigest: Bool = true, verifyDigest: Bool = true, required: Bool = true) {
        self.mutateDigest = mutateDigest
        self.verifyDigest = verifyDigest
        self.required = required
    }
}

/// `credentials`: how to reach registries (`secrets` are used; see `ImageVerificationRequest.registrySecrets`).
public struct ImageRegistryCredentials: Sendable, Hashable {
    /// `secrets`: names of registry credential Secrets.
    public var secrets: [String] = []
    /// `providers`: `default`, `amazon`, `azure`, `google`, `github`.
    public var providers: [String] = []
    /// `allowInsecureRegistry`.
    public var allowInsecureRegistry = false
}

/// An ImageValidatingPolicy or NamespacedImageValidatingPolicy with defaults applied. Its
/// ValidatingPolicy parts (match constraints, conditions, variables, validations, audit annotations,
/// actions, failure policy, webhook, evaluation, autogen) are parsed and evaluated as a
/// ValidatingPolicy's (`base`).
public struct ImageValidatingPolicy: Sendable {
    /// Cluster-wide or namespaced.
    public var kind: ImageValidatingPolicyKind
    /// The shared ValidatingPolicy fields (its `kind` is the matching ValidatingPolicy kind).
    public var base: ValidatingPolicy
    /// `matchImageReferences`: the images the policy verifies (others count 0 in the functions).
    public var matchImageReferences: [ImageReferenceMatcher] = []
    /// `images`: custom extractors (`images.NAME`).
    public var imageExtractors: [ImageExtractor] = []
    /// `attestors`, in order.
    public var attestors: [ImageAttestor] = []
    /// `attestations`, in order.
    public var attestations: [ImageAttestationSpec] = []
    /// `validationConfigurations`.
    public var validationConfiguration = ImageValidationConfiguration()
    /// `credentials` (`secrets` used, the rest reported).
    public var credentials: ImageRegistryCredentials?
    /// Load findings (the base policy's included), by field path.
    public var diagnostics: [Diagnostic] = []

    /// `metadata.name`.
    public var name: String { base.name }
    /// Set for NamespacedImageValidatingPolicy: the only namespace it applies to.
    public var namespace: String? { base.namespace }
    /// `failurePolicy` (default Fail).
    public var failurePolicy: FailurePolicy { base.failurePolicy }
    /// `validationActions` (default Deny).
    public var validationActions: Set<ValidationAction> { base.validationActions }
    /// True when loading found an error: the engine reports it instead of evaluating it.
    public var isInvalid: Bool { diagnostics.contains { $0.severity == .error } }
    /// `Kind/name` for messages.
    public var displayName: String { "\(kind.rawValue)/\(name)" }
}

/// Loads ImageValidatingPolicy documents, reporting every field it does not implement.
public enum ImageValidatingPolicyLoader {
    /// Spec fields only image validating policies have (the rest are ValidatingPolicy fields).
    static let imageFields: Set<String> = ["matchImageReferences", "images", "attestors", "attestations",
                                           "validationConfigurations", "credentials"]
    /// Bounds on hostile input: entries per list, and attestors or attestations per policy (the
    /// evaluation looks at images × attestors × attestations outcomes).
    static let maxEntries = 256
    static let maxAttestors = 32

    /// Loads a policy document; nil when the document is not an image validating policy.
    public static func policy(from o: [String: JSONValue], strict: Bool = false, sourcePath: String? = nil) -> ImageValidatingPolicy? {
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        guard let kind = ImageValidatingPolicyKind(apiVersion: apiVersion, kind: o["kind"]?.stringValue ?? "") else { return nil }
        let spec = o["spec"]?.objectValue ?? [:]
        // The ValidatingPolicy fields go through the ValidatingPolicy loader (same checks, same defaults).
        var common = o
        common["kind"] = .string(kind.validatingKind.rawValue)
        common["spec"] = .object(spec.filter { !imageFields.contains($0.key) })
        guard var base = ValidatingPolicyLoader.policy(from: common, strict: strict, sourcePath: sourcePath) else { return nil }
        let from = base.kind.rawValue + "/"
        let diagnostics = base.diagnostics.map { d in
            var d = d
            if d.path.hasPrefix(from) { d.path = kind.rawValue + "/" + d.path.dropFirst(from.count) }
            return d
        }
        base.diagnostics = []
        var r = FieldReader(strict: strict)
        r.prefix = "\(kind.rawValue)/\(base.name)"
        r.diags = diagnostics
        var p = ImageValidatingPolicy(kind: kind, base: base)
        p.matchImageReferences = matchers(spec["matchImageReferences"], &r)
        p.imageExtractors = extractors(spec["images"], &r)
        p.attestors = attestors(spec["attestors"], &r)
        p.attestations = attestations(spec["attestations"], &r)
        if let vc = spec["validationConfigurations"] {
            let path = "spec.validationConfigurations"
            if let vo = vc.objectValue {
                r.checkKeys(vo, path: path, known: ["mutateDigest", "verifyDigest", "required"])
                p.validationConfiguration = ImageValidationConfiguration(
                    mutateDigest: r.bool(vo["mutateDigest"], path: path + ".mutateDigest", default: true),
                    verifyDigest: r.bool(vo["verifyDigest"], path: path + ".verifyDigest", default: true),
                    required: r.bool(vo["required"], path: path + ".required", default: true))
            } else if vc != .null {
                r.error(path, "must be a map")
            }
        }
        if let c = spec["credentials"], c != .null {
            let path = "spec.credentials"
            if let co = c.objectValue {
                r.checkKeys(co, path: path, known: ["secrets", "providers", "allowInsecureRegistry"])
                var creds = ImageRegistryCredentials()
                creds.secrets = r.strings(co["secrets"], path: path + ".secrets")
                creds.providers = r.strings(co["providers"], path: path + ".providers")
                creds.allowInsecureRegistry = r.bool(co["allowInsecureRegistry"], path: path + ".allowInsecureRegistry", default: false)
                // `secrets` are read through the API server by `serve` (signet's namespace for a
                // cluster-wide policy, the policy's for a namespaced one) and from the given
                // resources by `apply`/`test`; providers and insecure registries are not per policy.
                if !creds.providers.isEmpty {
                    r.warn(path + ".providers", "not implemented: credential providers are not used; signet reaches registries with its own configured credentials and the secrets")
                }
                if creds.allowInsecureRegistry {
                    r.warn(path + ".allowInsecureRegistry", "not implemented: insecure registries are allowed only by the --allow-insecure-registry flag of signet")
                }
                for name in creds.secrets where !RegistrySecretReference.isValidName(name) {
                    r.warn(path + ".secrets", "\(name) is not a valid secret name: ignored")
                }
                p.credentials = creds
            } else {
                r.error(path, "must be a map")
            }
        }
        if base.mode == .json {
            r.warn("spec.evaluation.mode", "not implemented: image validating policies are evaluated on Kubernetes objects only; with mode JSON the policy is not evaluated")
        }
        if p.attestors.isEmpty && p.attestations.isEmpty {
            r.warn("spec.attestors", "no attestors: verifyImageSignatures has nothing to verify with")
        }
        p.diagnostics = r.diags
        return p
    }

    static func list(_ v: JSONValue?, path: String, max: Int = maxEntries, _ r: inout FieldReader) -> [(String, [String: JSONValue])] {
        guard let v, v != .null else { return [] }
        guard let a = v.arrayValue else { r.error(path, "must be a list"); return [] }
        if a.count > max { r.error(path, "more than \(max) entries") }
        var out: [(String, [String: JSONValue])] = []
        for (i, e) in a.prefix(max).enumerated() {
            let ep = "\(path)[\(i)]"
            guard let eo = e.objectValue else { r.error(ep, "must be a map"); continue }
            out.append((ep, eo))
        }
        return out
    }

    static func matchers(_ v: JSONValue?, _ r: inout FieldReader) -> [ImageReferenceMatcher] {
        var out: [ImageReferenceMatcher] = []
        for (ep, eo) in list(v, path: "spec.matchImageReferences", &r) {
            r.checkKeys(eo, path: ep, known: ["glob", "expression"])
            let glob = eo["glob"]?.stringValue ?? ""
            let expr = eo["expression"]?.stringValue ?? ""
            switch (glob.isEmpty, expr.isEmpty) {
            case (false, true): out.append(.glob(glob))
            case (true, false): out.append(.expression(expr))
            default: r.error(ep, "exactly one of glob or expression is required")
            }
        }
        return out
    }

    static func extractors(_ v: JSONValue?, _ r: inout FieldReader) -> [ImageExtractor] {
        var out: [ImageExtractor] = []
        var names = Set<String>()
        for (ep, eo) in list(v, path: "spec.images", &r) {
            r.checkKeys(eo, path: ep, known: ["name", "expression"])
            guard let name = eo["name"]?.stringValue, !name.isEmpty else { r.error(ep + ".name", "a name is required"); continue }
            guard let expr = eo["expression"]?.stringValue, !expr.isEmpty else { r.error(ep + ".expression", "an expression is required"); continue }
            if !names.insert(name).inserted { r.error(ep + ".name", "duplicate image extractor \(name)") }
            out.append(ImageExtractor(name: name, expression: expr))
        }
        return out
    }

    static func attestors(_ v: JSONValue?, _ r: inout FieldReader) -> [ImageAttestor] {
        var out: [ImageAttestor] = []
        var names = Set<String>()
        for (ep, eo) in list(v, path: "spec.attestors", max: maxAttestors, &r) {
            r.checkKeys(eo, path: ep, known: ["name", "cosign", "notary"])
            guard let name = eo["name"]?.stringValue, !name.isEmpty else { r.error(ep + ".name", "a name is required"); continue }
            if !names.insert(name).inserted { r.error(ep + ".name", "duplicate attestor \(name)") }
            switch (eo["cosign"]?.objectValue, eo["notary"]) {
            case (let c?, nil):
                out.append(ImageAttestor(name: name, kind: cosign(c, path: ep + ".cosign", &r)))
            case (nil, let n?) where n != .null:
                let why = "notary attestors are not supported by signet"
                r.warn(ep + ".notary", "not supported: \(why)")
                out.append(ImageAttestor(name: name, kind: .unsupported("attestor \(name): \(why)")))
            default:
                r.error(ep, "exactly one of cosign or notary is required")
            }
        }
        return out
    }

    static func cosign(_ c: [String: JSONValue], path: String, _ r: inout FieldReader) -> ImageAttestor.Kind {
        r.checkKeys(c, path: path, known: ["key", "keyless", "certificate", "source", "ctlog", "tuf", "annotations"])
        for (field, what) in [("keyless", "keyless (Fulcio certificate) attestors"), ("certificate", "certificate attestors"),
                              ("tuf", "TUF roots")] where c[field] != nil && c[field] != .null {
            r.warn(path + "." + field, "not supported: \(what) are not supported by signet")
            if c["key"] == nil { return .unsupported("\(path).\(field): \(what) are not supported by signet") }
        }
        guard let ko = c["key"]?.objectValue else {
            r.error(path + ".key", "a cosign attestor needs key (keyless and certificate attestors are not supported)")
            return .unsupported("\(path): no key")
        }
        let kp = path + ".key"
        r.checkKeys(ko, path: kp, known: ["data", "kms", "hashAlgorithm", "expression", "secretRef"])
        let sources: [CosignKeySource] = [ko["data"]?.stringValue.map(CosignKeySource.data), ko["kms"]?.stringValue.map(CosignKeySource.kms),
                                          ko["expression"]?.stringValue.map(CosignKeySource.expression)].compactMap { $0 }
        guard sources.count == 1, let key = sources.first else {
            r.error(kp, "exactly one of data, kms or expression is required")
            return .unsupported("\(kp): exactly one of data, kms or expression is required")
        }
        var a = CosignKeyAttestor(key: key)
        if let h = ko["hashAlgorithm"]?.stringValue, !h.isEmpty {
            if ["sha224", "sha256", "sha384", "sha512"].contains(h) { a.hashAlgorithm = h }
            else { r.error(kp + ".hashAlgorithm", "must be sha224, sha256, sha384 or sha512") }
        }
        if let so = c["source"]?.objectValue {
            r.checkKeys(so, path: path + ".source", known: ["repository", "tagPrefix", "PullSecrets"])
            a.signatureRepository = so["repository"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if let t = so["tagPrefix"]?.stringValue, !t.isEmpty {
                a.tagPrefix = t
                r.warn(path + ".source.tagPrefix", "not supported: signatures are looked up at cosign's default tags, a tag prefix is not applied")
            }
            if so["PullSecrets"] != nil { r.warn(path + ".source.PullSecrets", "not implemented: signature pull secrets are not used") }
        }
        if let co = c["ctlog"]?.objectValue {
            r.checkKeys(co, path: path + ".ctlog", known: ["url", "rekorPubKey", "ctLogPubKey", "tsaCertChain", "insecureIgnoreTlog", "insecureIgnoreSCT"])
            a.insecureIgnoreTlog = r.bool(co["insecureIgnoreTlog"], path: path + ".ctlog.insecureIgnoreTlog", default: false)
            for f in ["url", "rekorPubKey", "ctLogPubKey", "tsaCertChain"] where co[f] != nil {
                r.warn(path + ".ctlog." + f, "not implemented: signet does not consult a transparency log")
            }
        }
        if !a.insecureIgnoreTlog {
            r.warn(path + ".ctlog.insecureIgnoreTlog", "not supported: \(ImageValidatingPolicyEngine.tlogMessage)")
        }
        a.annotations = r.stringMap(c["annotations"], path: path + ".annotations")
        return .cosignKey(a)
    }

    static func attestations(_ v: JSONValue?, _ r: inout FieldReader) -> [ImageAttestationSpec] {
        var out: [ImageAttestationSpec] = []
        var names = Set<String>()
        for (ep, eo) in list(v, path: "spec.attestations", max: maxAttestors, &r) {
            r.checkKeys(eo, path: ep, known: ["name", "intoto", "referrer"])
            guard let name = eo["name"]?.stringValue, !name.isEmpty else { r.error(ep + ".name", "a name is required"); continue }
            if !names.insert(name).inserted { r.error(ep + ".name", "duplicate attestation \(name)") }
            let intoto = eo["intoto"]?.objectValue
            let referrer = eo["referrer"]?.objectValue
            guard (intoto == nil) != (referrer == nil), let o = intoto ?? referrer else {
                r.error(ep, "exactly one of intoto or referrer is required"); continue
            }
            let format: ImageAttestationSpec.Format = intoto != nil ? .intoto : .referrer
            let fp = ep + "." + format.rawValue
            r.checkKeys(o, path: fp, known: ["type"])
            guard let type = o["type"]?.stringValue, !type.isEmpty else { r.error(fp + ".type", "a type is required"); continue }
            if format == .referrer {
                r.warn(fp, "not implemented: OCI referrer attestations are verified as cosign attestations of predicate type \(type)")
            }
            out.append(ImageAttestationSpec(name: name, format: format, type: type))
        }
        return out
    }
}
