import SignetOCI

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

    public init(image: String, reference: Reference, key: VerificationKey, signatureAlgorithm: String = "sha256",
                signatureRepository: String? = nil, annotations: [String: String] = [:], ignoreTlog: Bool = true, ignoreSCT: Bool = true) {
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

/// The verifier's answer. "Did not verify" is a value, not an error.
public struct ImageVerificationResult: Sendable, Hashable {
    public var verified: Bool
    /// The manifest digest that was resolved and verified, `sha256:HEX` (also when not verified, if known).
    public var digest: String?
    /// Why it did not verify (lowercase, Kyverno's wording where there is one), or a note when it did.
    public var message: String

    public init(verified: Bool, digest: String?, message: String) {
        self.verified = verified
        self.digest = digest
        self.message = message
    }

    public static func verified(digest: String) -> Self { .init(verified: true, digest: digest, message: "") }
    public static func notVerified(_ message: String, digest: String? = nil) -> Self { .init(verified: false, digest: digest, message: message) }
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
        var name = raw
        if let slash = name.firstIndex(of: "/") {
            let first = name[..<slash]
            let u = first.utf8
            // Byte tests: `contains(".")` on a Substring would take Foundation's string search.
            if !(u.contains(UInt8(ascii: ".")) || u.contains(UInt8(ascii: ":"))) && first != "localhost"
                && !u.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
                name = "docker.io/" + name
            }
        } else {
            name = "docker.io/" + name
        }
        var digest = ""
        if let at = name.firstIndex(of: "@") {
            digest = String(name[name.index(after: at)...])
            name = String(name[..<at])
        }
        var tag = ""
        if let colon = name.lastIndex(of: ":"), !name[colon...].utf8.contains(UInt8(ascii: "/")) {
            tag = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        if tag.isEmpty && digest.isEmpty { tag = "latest" }
        let slash = name.firstIndex(of: "/")!
        registry = String(name[..<slash])
        path = String(name[name.index(after: slash)...])
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
    public func matches(_ glob: String) -> Bool {
        guard let slash = glob.firstIndex(of: "/") else {
            return Wildcard.match(glob, string)
        }
        let hostGlob = String(glob[..<slash])
        let rest = String(glob[glob.index(after: slash)...])
        guard Wildcard.match(hostGlob, registry) else { return false }
        let tail = String(string.dropFirst(registry.count + 1))
        return Wildcard.match(rest, tail)
    }

    public func matchesAny(_ globs: [String]) -> Bool { globs.contains(where: matches) }

    /// Images of a Pod spec or Pod controller (initContainers, containers, ephemeralContainers), as
    /// Kyverno's standard extractors find them.
    public static func extract(from resource: JSONValue, kind: String) -> [KyvernoImage] {
        let base: [String]
        switch kind {
        case "Pod": base = ["spec"]
        case "DaemonSet", "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "Job": base = ["spec", "template", "spec"]
        case "CronJob": base = ["spec", "jobTemplate", "spec", "template", "spec"]
        default: return []
        }
        guard let spec = resource.value(at: base) else { return [] }
        var out: [KyvernoImage] = []
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            guard let list = spec[field]?.arrayValue else { continue }
            for (i, c) in list.enumerated() {
                // Blank images are skipped (Kyverno trims spaces); a byte test, no Foundation bridging.
                guard let img = c["image"]?.stringValue,
                      img.utf8.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
                let pointer = "/" + (base + [field, String(i), "image"]).joined(separator: "/")
                out.append(KyvernoImage(parsing: img, pointer: pointer))
            }
        }
        return out
    }
}

import Foundation
