import SignetOCI
import Synchronization
import SignetPrimitives

/// The one thing `verifyImages` rules depend on: something that checks an image's cosign
/// signatures against ONE attestor entry's key. The engine calls it once per (image, entry) and
/// applies Kyverno's `count`, `required`, `verifyDigest` and `mutateDigest` logic itself.
///
/// Contract for implementers (e.g. `CosignImageVerifier` in SignetAdmission):
/// - Resolve `request.reference` to a manifest digest (re-hash what the registry returns) and look
///   for cosign signatures in `request.signatureRepository` if set, else the image's repository.
/// - Verify each signature with `request.key` (`.publicKey(pem)`: a PEM public key, possibly an
///   RSA/ECDSA/Ed25519 key; `.kms(uri)`: a KMS key reference such as `hashivault://cosign`, resolved
///   through the KMS provider registry) using `request.signatureAlgorithm`; check the payload's
///   `docker-manifest-digest` equals the resolved digest and every `request.annotations` entry is
///   present in the payload's `optional` map.
/// - `request.ignoreTlog`/`ignoreSCT` are always true when the engine calls you: the engine never
///   asks for transparency-log checks (it fails such policies itself, see `PolicyEngine`).
/// - Return `verified: true` with the digest that was verified; or `verified: false` with a short
///   lowercase reason that Kyverno would print, e.g. `no matching signatures` or
///   `no signatures found`. The engine prefixes it with `.attestors[i].entries[j].keys: `.
/// - Throw only for transport or configuration problems (registry unreachable, KMS down, bad key
///   URI): the rule then reports `error`, which blocks only when the policy's failurePolicy is Fail.
/// - Cache only successes, keyed by digest (never by tag).
public protocol ImageVerifier: Sendable {
    func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult
    /// The same, sharing registry reads with the other verifications of the same image through
    /// `memo` (one registry pass for all the keys of an image). Defaults to `verify(_:)`.
    func verify(_ request: ImageVerificationRequest, memo: VerificationMemo) async throws -> ImageVerificationResult
}

extension ImageVerifier {
    public func verify(_ request: ImageVerificationRequest, memo: VerificationMemo) async throws -> ImageVerificationResult {
        try await verify(request)
    }
}

/// A verifier that takes registry credential Secrets (`imagePullSecrets`, policy
/// `credentials.secrets`) from the resources of a command-line run, as Kyverno's CLI does:
/// `signet test` asks it for each test case (`CosignImageVerifier` conforms).
public protocol ResourceSecretsVerifier: ImageVerifier {
    /// This verifier reading Secrets from the docker config Secrets among `resources`.
    func withSecrets(fromResources resources: [JSONValue]) throws -> any ImageVerifier
}

/// Values fetched once and shared by the verifications of one image within one admission (the
/// signature manifest, payload blobs, referrers), so that twenty keys cost one registry pass.
/// Lives only as long as that group of verifications: never a cache across requests.
public final class VerificationMemo: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])
    /// Bounds the memo: an image's signatures are capped upstream, this only stops a runaway.
    static let maxEntries = 4096

    public init() {}

    /// The value stored under `key`, computed by `compute` the first time. Errors are not kept.
    public func value<T: Sendable>(_ key: String, _ compute: () async throws -> T) async throws -> T {
        // Presence first: a stored `nil` (no signature manifest) is a hit, an absent key is not
        // (`Optional<any Sendable>.none as? T?` would succeed and read as a stored nil).
        if let stored = values.withLock({ $0[key] }), let hit = stored as? T { return hit }
        let value = try await compute()
        values.withLock { if $0.count < Self.maxEntries { $0[key] = value } }
        return value
    }
}

/// Key material of one attestor entry.
public enum VerificationKey: Sendable, Hashable {
    /// One PEM-encoded public key (`keys.publicKeys`, split when it holds several, or a `keys.secret`).
    case publicKey(String)
    /// A KMS key URI (`keys.kms`), e.g. `hashivault://cosign`.
    case kms(String)
}

/// What to verify: one image against one attestor entry.
public struct ImageVerificationRequest: Sendable, Hashable {
    /// The image as Kyverno names it, e.g. `ghcr.io/acme/app:1.0` or `docker.io/nginx@sha256:…`.
    public var image: String
    /// The same reference parsed by SignetOCI (normalized registry and repository).
    public var reference: Reference
    public var key: VerificationKey
    /// `keys.signatureAlgorithm` (`sha256` by default).
    public var signatureAlgorithm: String
    /// Alternative repository holding the signatures (`repository` of the entry or the rule).
    public var signatureRepository: String?
    /// Annotations that must be present in the signature payload.
    public var annotations: [String: String]
    /// `rekor.ignoreTlog` and `ctlog.ignoreSCT` (always true here, see `ImageVerifier`).
    public var ignoreTlog: Bool
    public var ignoreSCT: Bool
    /// What to verify: nil for the image's signatures; a predicate type URI for a signed in-toto
    /// attestation of that type (`verifyImages.attestations[].type`). Part of the request's
    /// identity, so a signature result never answers an attestation request (or its cache entry).
    public var predicateType: String?
    /// Kubernetes Secrets holding registry credentials the verification may use besides the
    /// verifier's own (ImageValidatingPolicy `credentials.secrets`, and the Pod's
    /// `imagePullSecrets` added by the verify stage, `adding(pullSecrets:)`). Part of the request's
    /// identity, hence of its cache key: a result obtained with one namespace's secrets is never
    /// reused for a request that names other secrets (or none).
    public var registrySecrets: [RegistrySecretReference]

    public init(image: String, reference: Reference, key: VerificationKey, signatureAlgorithm: String = "sha256",
                signatureRepository: String? = nil, annotations: [String: String] = [:], ignoreTlog: Bool = true, ignoreSCT: Bool = true,
                predicateType: String? = nil, registrySecrets: [RegistrySecretReference] = []) {
        self.predicateType = predicateType
        self.registrySecrets = registrySecrets
        self.image = image
        self.reference = reference
        self.key = key
        self.signatureAlgorithm = signatureAlgorithm
        self.signatureRepository = signatureRepository
        self.annotations = annotations
        self.ignoreTlog = ignoreTlog
        self.ignoreSCT = ignoreSCT
    }
}

/// A Kubernetes Secret of type `kubernetes.io/dockerconfigjson` (or `dockercfg`) that holds
/// registry credentials.
public struct RegistrySecretReference: Sendable, Hashable, CustomStringConvertible {
    /// The Secret's namespace; nil: the namespace signet runs in (where Kyverno reads a policy's
    /// `credentials.secrets` and `imageRegistryCredentials.secrets`: its own namespace).
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace ?? "<signet>")/\(name)" }

    /// At most this many Secrets are read for one verification (pod and policy together).
    public static let maxPerRequest = 8

    /// The `imagePullSecrets` of a Pod, or of the Pod template of a Pod controller, in the
    /// object's namespace (as Kyverno 1.18 uses them for verifyImages). Empty for other kinds,
    /// for an object without a namespace, and for names that are not DNS subdomains.
    public static func imagePullSecrets(of resource: JSONValue) -> [RegistrySecretReference] {
        guard let kind = resource["kind"]?.stringValue,
              let namespace = resource["metadata"]?["namespace"]?.stringValue, !namespace.isEmpty else { return [] }
        guard let base = KyvernoImage.podSpecPath(ofKind: kind),
              let list = resource.value(at: base)?["imagePullSecrets"]?.arrayValue else { return [] }
        var out: [RegistrySecretReference] = []
        for item in list.prefix(maxPerRequest) {
            guard let name = item["name"]?.stringValue, isValidName(name) else { continue }
            let ref = RegistrySecretReference(namespace: namespace, name: name)
            if !out.contains(ref) { out.append(ref) }
        }
        return out
    }

    /// A Kubernetes object name (DNS subdomain: lowercase alphanumerics, `-` and `.`, at most 253).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 253 && name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }
}

extension ImageVerificationRequest {
    /// Equality compares every field. The hash reads the fields an admission request chooses (the
    /// image, its reference, the attestation type, the registry Secrets), not the key material and
    /// options a policy fixes: lookups on the warm path do not hash a PEM. Requests that differ only
    /// in those share a bucket chain no longer than the policy's own lists of keys and entries.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(image)
        hasher.combine(reference)
        hasher.combine(predicateType)
        hasher.combine(registrySecrets)
    }

    /// The request as the verify stage runs it for an object with `pullSecrets` (the Pod's
    /// `imagePullSecrets`): those Secrets first, then the policy's, at most
    /// `RegistrySecretReference.maxPerRequest`. The result is stored under the planned request.
    public func adding(pullSecrets: [RegistrySecretReference]) -> ImageVerificationRequest {
        guard !pullSecrets.isEmpty else { return self }
        var copy = self
        var merged: [RegistrySecretReference] = []
        for r in pullSecrets + registrySecrets where !merged.contains(r) && merged.count < RegistrySecretReference.maxPerRequest {
            merged.append(r)
        }
        copy.registrySecrets = merged
        return copy
    }
}

/// The verifier's answer. "Did not verify" is a value, not an error, and so is a transport
/// error: the typed status travels unchanged from the verifier to the rule result and the decision.
///
/// Classification (README, "Errors and failures"): only transport problems — registry or KMS
/// unreachable, 5xx, timeouts — are `.error`, which the policy's failurePolicy decides.
/// Everything about the artifacts (no or bad signatures, too many or oversized layers, unparsable
/// manifests or payloads, unknown media types, bad references) is `.notVerified`: a failure.
public struct ImageVerificationResult: Sendable, Hashable {
    /// The three outcomes of one verification.
    public enum Status: Sendable, Hashable {
        /// A signature verified with the key.
        case verified
        /// The image did not verify (a verification failure: Kyverno `fail`).
        case notVerified
        /// Verification could not run (transport: Kyverno `error`, decided by failurePolicy).
        case error
    }

    public var status: Status
    /// The manifest digest that was resolved and verified, `sha256:HEX` (also when not verified, if known).
    public var digest: String?
    /// Why it did not verify or could not run (lowercase, Kyverno's wording where there is one), or a note.
    public var message: String

    /// For a verified attestation request: the predicate of the verified in-toto statement
    /// (`extractPayload` in ImageValidatingPolicies). Nil for signatures, or when not kept.
    public var payload: JSONValue?
    /// For a verified attestation request: the predicates of every verified statement of the
    /// type (ClusterPolicy attestation `conditions` must hold for each, as Kyverno). Bounded by
    /// the verifier's attestation limits.
    public var predicates: [JSONValue] = []

    /// True when a signature verified.
    public var verified: Bool { status == .verified }

    public init(status: Status, digest: String?, message: String, payload: JSONValue? = nil) {
        self.status = status
        self.digest = digest
        self.message = message
        self.payload = payload
    }

    public init(verified: Bool, digest: String?, message: String) {
        self.init(status: verified ? .verified : .notVerified, digest: digest, message: message)
    }

    public static func verified(digest: String) -> Self { .init(status: .verified, digest: digest, message: "") }
    public static func notVerified(_ message: String, digest: String? = nil) -> Self { .init(status: .notVerified, digest: digest, message: message) }
    /// A transport failure: the registry or the KMS could not be asked.
    public static func error(_ message: String) -> Self { .init(status: .error, digest: nil, message: message) }
}

/// The verifications one evaluation needs, computed before any of them runs (plan → verify →
/// evaluate): every (image, attestor entry, key) of every matching verifyImages rule.
public struct VerificationPlan: Sendable {
    /// Distinct requests in the order the rules name them.
    public var requests: [ImageVerificationRequest]
    /// Distinct images (normalized references) the requests name.
    public var images: [String]

    public init(requests: [ImageVerificationRequest] = []) {
        var seen = Set<ImageVerificationRequest>()
        var images: [String] = []
        var seenImages = Set<String>()
        var distinct: [ImageVerificationRequest] = []
        for r in requests where seen.insert(r).inserted {
            distinct.append(r)
            if seenImages.insert(r.reference.description).inserted { images.append(r.reference.description) }
        }
        self.requests = distinct
        self.images = images
    }

    public var isEmpty: Bool { requests.isEmpty }
}

/// The verification results an evaluation reads, by request: those obtained for a plan, and
/// beyond them, when a `source` is given, whatever it answers as the evaluation asks (the
/// webhook's warm path reads its cache this way, without planning first). A request neither
/// holds reads as "verification did not run".
public struct VerificationResults: Sendable, ExpressibleByDictionaryLiteral {
    /// The results held.
    public private(set) var stored: [ImageVerificationRequest: ImageVerificationResult]
    /// Asked for the requests `stored` does not hold.
    public let source: (any VerificationResultSource)?

    public init(_ stored: [ImageVerificationRequest: ImageVerificationResult] = [:], source: (any VerificationResultSource)? = nil) {
        self.stored = stored
        self.source = source
    }

    public init(dictionaryLiteral elements: (ImageVerificationRequest, ImageVerificationResult)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public subscript(request: ImageVerificationRequest) -> ImageVerificationResult? {
        get { stored[request] ?? source?.result(for: request) }
        set { stored[request] = newValue }
    }

    /// Whether no result is held (a source may still answer).
    public var isEmpty: Bool { stored.isEmpty }
}

/// Answers verification requests while an evaluation runs (synchronously: nothing is awaited).
public protocol VerificationResultSource: Sendable {
    /// The result for `request`, or nil when there is none.
    func result(for request: ImageVerificationRequest) -> ImageVerificationResult?
}

/// An image found in a resource, named the way Kyverno names it (`pkg/utils/image`).
public struct KyvernoImage: Sendable, Hashable {
    public var registry: String
    public var path: String
    public var tag: String
    public var digest: String
    /// JSON pointer to the image field, e.g. `/spec/containers/0/image`.
    public var pointer: String

    /// Parses an image string, adding `docker.io` when the first component is not a registry.
    public init(parsing raw: String, pointer: String = "") {
        // The one image grammar (SignetPrimitives.ImageName), read leniently as Kyverno's
        // `GetImageInfo` names images: no registry component means `docker.io`.
        let parts = ImageName(splitting: raw)
        if let (registry, path) = ImageName.registryComponent(of: parts.name) {
            self.registry = String(registry)
            self.path = String(path)
        } else {
            self.registry = "docker.io"
            self.path = String(parts.name)
        }
        let digest = parts.digest.map(String.init) ?? ""
        var tag = parts.tag.map(String.init) ?? ""
        if tag.isEmpty && digest.isEmpty { tag = "latest" }
        self.tag = tag
        self.digest = digest
        self.pointer = pointer
    }

    /// Kyverno's `ImageInfo.String()`: `REGISTRY/PATH@DIGEST` or `REGISTRY/PATH:TAG`.
    public var string: String {
        digest.isEmpty ? "\(registry)/\(path):\(tag)" : "\(registry)/\(path)@\(digest)"
    }

    /// `REGISTRY/PATH:TAG` (what `mutateDigest` appends `@DIGEST` to).
    public var withTag: String { "\(registry)/\(path):\(tag.isEmpty ? "latest" : tag)" }

    /// Matches an `imageReferences` glob the safe way: the registry host and the path are matched
    /// separately, so `*.trusted.io/*` or `trusted.io/*` never match `evil.io/x.trusted.io/app`.
    /// A glob without `/` (like `*`) is matched against the whole reference.
    ///
    /// Unlike Kyverno, which matches the literal text, every spelling of the same image matches:
    /// the glob is tried on the image as written and on its normalized forms (lowercase host,
    /// default port dropped, Docker Hub aliases and `library/` short names), so that an image a
    /// runtime would pull from a protected registry is always verified (`LocalHost:5000/app`,
    /// `nginx:1` and `index.docker.io/library/nginx:1` all match `docker.io/library/*`).
    public func matches(_ glob: String) -> Bool {
        let glob = Self.normalizedGlob(glob)
        if matchesLiterally(glob) { return true }
        for form in normalizedForms where form.matchesLiterally(glob) { return true }
        return false
    }

    func matchesLiterally(_ glob: String) -> Bool {
        // Byte scans and slices: this runs per image and glob, several times per rule.
        guard let slash = glob.utf8.firstIndex(of: UInt8(ascii: "/")) else {
            return Wildcard.match(glob, string)
        }
        let rest = glob[glob.utf8.index(after: slash)...]
        guard Wildcard.match(glob[..<slash], registry) else { return false }
        if rest == "*" { return true }  // `REGISTRY/*`, the usual glob: no tail to build
        // `string` without its `REGISTRY/` (built directly: this runs per image and glob).
        let tail = digest.isEmpty ? "\(path):\(tag)" : "\(path)@\(digest)"
        return Wildcard.match(rest, tail)
    }

    public func matchesAny(_ globs: [String]) -> Bool { globs.contains(where: matches) }

    /// Docker Hub's names for itself; `docker.io` is the one Kyverno writes.
    static let dockerHubAliases: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// A registry host as a runtime resolves it: lowercase, without the HTTPS default port, Docker
    /// Hub's aliases as `docker.io`.
    static func normalizedHost(_ host: String) -> String { renormalizedHost(host[...]) ?? host }

    /// `normalizedHost`, or nil when `host` is already normal (most are: then nothing is copied).
    static func renormalizedHost(_ host: Substring) -> String? {
        // Byte tests first (this runs per image and glob): most hosts are already normal.
        let u = host.utf8
        let upper = u.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        let alias = u.reversed().starts(with: ".docker.io".utf8.reversed()) && dockerHubAliases.contains(String(host))
        let port = u.reversed().starts(with: ":443".utf8.reversed())
        guard upper || alias || port else { return nil }
        var h = upper ? host.lowercased() : String(host)
        if h.hasSuffix(":443") { h.removeLast(4) }
        if dockerHubAliases.contains(h) { h = "docker.io" }
        return h == host ? nil : h
    }

    /// The glob with its host part normalized like an image's (wildcards untouched).
    static func normalizedGlob(_ glob: String) -> String {
        guard let slash = glob.utf8.firstIndex(of: UInt8(ascii: "/")),
              let host = renormalizedHost(glob[..<slash]) else { return glob }
        return host + glob[slash...]
    }

    /// Other spellings of this image that name the same thing: the normalized host, and on Docker
    /// Hub both `library/NAME` and `NAME`. Empty when the image is already in its only form.
    var normalizedForms: [KyvernoImage] {
        let host = Self.normalizedHost(registry)
        // The usual case, a normal host other than Docker Hub: no other form (nothing allocated).
        if host == registry && host != "docker.io" { return [] }
        var paths = [path]
        if host == "docker.io" {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 1 { paths.append("library/" + path) }
            if parts.count == 2, parts[0] == "library" { paths.append(String(parts[1])) }
        }
        var out: [KyvernoImage] = []
        for p in paths where host != registry || p != path {
            var copy = self
            copy.registry = host
            copy.path = p
            out.append(copy)
        }
        return out
    }

    /// Where the Pod spec of a kind sits (Kyverno's standard image extractors): a Pod's `spec`, a
    /// controller's template spec, a CronJob's job template spec; nil for other kinds.
    public static func podSpecPath(ofKind kind: String) -> [String]? { podSpecs[kind]?.path }

    /// The JSON pointer of a container's image field, e.g. `/spec/template/spec/containers/0/image`
    /// (nil for a kind without a Pod spec).
    static func imagePointer(kind: String, field: String, index: Int) -> String? {
        podSpecs[kind].map { imagePointer(under: $0.pointer, field: field, index: index) }
    }

    private static func imagePointer(under specPointer: String, field: String, index: Int) -> String {
        "\(specPointer)/\(field)/\(index)/image"
    }

    /// Each kind's Pod spec as a path and as a JSON pointer (made once: pointers are written for
    /// every image of every admission).
    private static let podSpecs: [String: (path: [String], pointer: String)] = {
        let locations: [([String], [String])] = [
            (["Pod"], ["spec"]),
            (["DaemonSet", "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "Job"], ["spec", "template", "spec"]),
            (["CronJob"], ["spec", "jobTemplate", "spec", "template", "spec"]),
        ]
        var table: [String: (path: [String], pointer: String)] = [:]
        for (kinds, path) in locations {
            for kind in kinds { table[kind] = (path, "/" + path.joined(separator: "/")) }
        }
        return table
    }()

    /// Images of a Pod spec or Pod controller (initContainers, containers, ephemeralContainers), as
    /// Kyverno's standard extractors find them.
    public static func extract(from resource: JSONValue, kind: String) -> [KyvernoImage] {
        guard let location = podSpecs[kind], let spec = resource.value(at: location.path) else { return [] }
        var out: [KyvernoImage] = []
        for field in containerFields {
            guard let list = spec[field]?.arrayValue else { continue }
            for (i, c) in list.enumerated() {
                guard let img = c["image"]?.stringValue, !isBlank(img) else { continue }
                out.append(KyvernoImage(parsing: img, pointer: imagePointer(under: location.pointer, field: field, index: i)))
            }
        }
        return out
    }

    /// How many images `extract(from:kind:)` finds, without parsing them (an upper bound of the
    /// distinct images a request can ask to verify when no custom extractor is in play).
    public static func count(in resource: JSONValue, kind: String) -> Int {
        guard let base = podSpecPath(ofKind: kind), let spec = resource.value(at: base) else { return 0 }
        var count = 0
        for field in containerFields {
            for c in spec[field]?.arrayValue ?? [] {
                if let img = c["image"]?.stringValue, !isBlank(img) { count += 1 }
            }
        }
        return count
    }

    static let containerFields = ["initContainers", "containers", "ephemeralContainers"]

    /// Blank images are skipped (Kyverno trims spaces); a byte test, no Foundation bridging.
    static func isBlank(_ image: String) -> Bool {
        !image.utf8.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") })
    }
}

import Foundation
