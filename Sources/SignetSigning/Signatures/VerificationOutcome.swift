import Foundation
import SignetOCI

/// How a verified signature was stored.
public struct SignatureFormat: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    /// A classic cosign signature: a simple-signing layer of the `sha256-HEX.sig` image.
    public static let cosign = SignatureFormat("cosign")
    /// A cosign v3 Sigstore bundle (DSSE over an in-toto statement), attached as an OCI 1.1 referrer.
    public static let sigstoreBundle = SignatureFormat("sigstore-bundle")
    public var description: String { name }
}

/// One signature that verified.
public struct VerifiedSignature: Sendable, Hashable {
    public let format: SignatureFormat
    /// The signed bytes as stored: the simple-signing payload, or the in-toto statement of a bundle.
    public let payload: Data
    /// The raw signature bytes (over the payload, or over the DSSE PAE for bundles).
    public let signature: Data
    /// The digest of the blob holding the payload (classic) or the bundle.
    public let blobDigest: Digest
    /// The parsed simple-signing payload (classic signatures only).
    public let simpleSigning: SimpleSigningPayload?
    /// The parsed statement (bundles only).
    public let statement: InTotoStatement?

    public init(format: SignatureFormat, payload: Data, signature: Data, blobDigest: Digest,
                simpleSigning: SimpleSigningPayload? = nil, statement: InTotoStatement? = nil) {
        self.format = format
        self.payload = payload
        self.signature = signature
        self.blobDigest = blobDigest
        self.simpleSigning = simpleSigning
        self.statement = statement
    }

    /// The value cosign prints for this signature in `verify`'s JSON array: the payload re-encoded
    /// by Go (`critical` in struct order, `optional` keys sorted); the statement for bundles.
    public var outputJSON: GoJSON {
        if let simpleSigning { return simpleSigning.jsonValue }
        if let statement { return .map(["_type": .string(statement.type),
                                         "subject": .array(statement.subjects.map { .object([("name", .string($0.name)), ("digest", .map($0.digest.mapValues { .string($0) }))]) }),
                                         "predicateType": .string(statement.predicateType),
                                         "predicate": statement.predicate]) }
        return (try? GoJSON(parsing: payload)) ?? .null
    }
}

/// Why one candidate signature did not count.
public struct SignatureRejection: Sendable, Hashable, CustomStringConvertible {
    public let format: SignatureFormat
    /// The payload or bundle blob, when known.
    public let blobDigest: Digest?
    /// A lowercase reason.
    public let reason: String

    public init(format: SignatureFormat, blobDigest: Digest?, reason: String) {
        self.format = format
        self.blobDigest = blobDigest
        self.reason = reason
    }

    public var description: String {
        if let blobDigest { return "\(blobDigest): \(reason)" }
        return reason
    }
}

/// The result of verifying an image's signatures. "Did not verify" is a value, not an error.
public struct VerificationOutcome: Sendable {
    public enum Kind: String, Sendable, Hashable {
        /// At least one signature verified.
        case verified
        /// No signature of any format was found (cosign exit code 10).
        case noSignatures
        /// The image (tag or digest) does not exist (cosign exit code 11).
        case noSuchImage
        /// Signatures exist but none verified (cosign exit code 12).
        case noMatchingSignatures
    }

    public let kind: Kind
    /// The digest that was verified (nil when the image does not exist).
    public let imageDigest: Digest?
    /// The signatures that verified, in storage order (classic first, then bundles).
    public let signatures: [VerifiedSignature]
    /// The candidates that did not verify, with reasons.
    public let rejections: [SignatureRejection]

    public init(kind: Kind, imageDigest: Digest?, signatures: [VerifiedSignature] = [], rejections: [SignatureRejection] = []) {
        self.kind = kind
        self.imageDigest = imageDigest
        self.signatures = signatures
        self.rejections = rejections
    }

    public var isVerified: Bool { kind == .verified }

    /// cosign's exit code: 0, 10 no signatures, 11 no such image, 12 no matching signature.
    public var exitCode: Int32 {
        switch kind {
        case .verified: 0
        case .noSignatures: 10
        case .noSuchImage: 11
        case .noMatchingSignatures: 12
        }
    }

    /// A lowercase message in cosign's words for the failure kinds.
    public var message: String {
        switch kind {
        case .verified: "verified \(signatures.count) signature(s)"
        case .noSignatures: "no signatures found"
        case .noSuchImage: "image tag not found"
        case .noMatchingSignatures:
            "no matching signatures: " + rejections.map(\.description).joined(separator: "\n ")
        }
    }
}
