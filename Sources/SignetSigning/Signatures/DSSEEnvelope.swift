import Foundation

/// A DSSE envelope [secure-systems-lab/dsse: envelope.md, protocol.md]: a payload, its type, and
/// signatures over the pre-authentication encoding (PAE) of both.
public struct DSSEEnvelope: Sendable, Hashable, Codable {
    /// The payload type of in-toto statements.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    public struct Signature: Sendable, Hashable, Codable {
        /// Base64 of the signature bytes.
        public var sig: String
        public var keyid: String?

        public init(sig: String, keyid: String? = nil) {
            self.sig = sig
            self.keyid = keyid
        }
    }

    /// Base64 of the payload bytes.
    public var payload: String
    public var payloadType: String
    public var signatures: [Signature]

    public init(payload: Data, payloadType: String, signatures: [Data]) {
        self.payload = payload.base64EncodedString()
        self.payloadType = payloadType
        self.signatures = signatures.map { Signature(sig: $0.base64EncodedString(), keyid: "") }
    }

    /// The decoded payload bytes; nil when `payload` is not base64.
    public var payloadBytes: Data? { Data(base64Encoded: payload) }

    /// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN in decimal ASCII bytes.
    public static func preAuthenticationEncoding(payloadType: String, payload: Data) -> Data {
        let type = Data(payloadType.utf8)
        var out = Data("DSSEv1 \(type.count) ".utf8)
        out.append(type)
        out.append(Data(" \(payload.count) ".utf8))
        out.append(payload)
        return out
    }

    /// Signs `payload` of `payloadType` with `signer`: one signature over the PAE.
    public static func sign(payload: Data, payloadType: String = inTotoPayloadType,
                            with signer: any SignatureSigner) async throws -> DSSEEnvelope {
        let pae = preAuthenticationEncoding(payloadType: payloadType, payload: payload)
        let signature = try await signer.sign(pae)
        return DSSEEnvelope(payload: payload, payloadType: payloadType, signatures: [signature])
    }

    /// Whether any signature verifies over the PAE with `verifier`.
    public func verify(with verifier: any SignatureVerifier) async throws -> Bool {
        guard let body = payloadBytes else { return false }
        let pae = Self.preAuthenticationEncoding(payloadType: payloadType, payload: body)
        for signature in signatures {
            guard let sig = Data(base64Encoded: signature.sig) else { continue }
            if try await verifier.verify(signature: sig, payload: pae) { return true }
        }
        return false
    }
}

/// An in-toto statement (v0.1 or v1) as far as verification needs it.
public struct InTotoStatement: Sendable, Hashable {
    /// `https://in-toto.io/Statement/v1`.
    public static let typeV1 = "https://in-toto.io/Statement/v1"
    /// `https://in-toto.io/Statement/v0.1`.
    public static let typeV01 = "https://in-toto.io/Statement/v0.1"
    /// The predicate type cosign v3 uses for image signatures.
    public static let cosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"

    public struct Subject: Sendable, Hashable {
        public var name: String
        /// Algorithm name (`sha256`) to lowercase hex.
        public var digest: [String: String]
    }

    public var type: String
    public var subjects: [Subject]
    public var predicateType: String
    public var predicate: GoJSON

    public init(type: String = InTotoStatement.typeV1, subjects: [Subject], predicateType: String, predicate: GoJSON = .object([])) {
        self.type = type
        self.subjects = subjects
        self.predicateType = predicateType
        self.predicate = predicate
    }

    /// Parses a statement; throws `invalidPayload` when `_type`, `subject` or `predicateType` is missing.
    public init(parsing data: Data) throws {
        let value: GoJSON
        do { value = try GoJSON(parsing: data) } catch {
            throw SignetSigningError(.invalidPayload, "in-toto statement is not valid JSON", underlying: error)
        }
        guard let type = value["_type"]?.stringValue, type == Self.typeV1 || type == Self.typeV01 else {
            throw SignetSigningError(.invalidPayload, "in-toto statement has no known _type")
        }
        guard let predicateType = value["predicateType"]?.stringValue else {
            throw SignetSigningError(.invalidPayload, "in-toto statement has no predicateType")
        }
        guard case .array(let rawSubjects)? = value["subject"] else {
            throw SignetSigningError(.invalidPayload, "in-toto statement has no subject list")
        }
        var subjects: [Subject] = []
        for raw in rawSubjects {
            var digests: [String: String] = [:]
            if case .map(let m)? = raw["digest"] {
                for (k, v) in m { if let s = v.stringValue { digests[k] = s } }
            }
            subjects.append(Subject(name: raw["name"]?.stringValue ?? "", digest: digests))
        }
        self.type = type
        self.subjects = subjects
        self.predicateType = predicateType
        self.predicate = value["predicate"] ?? .null
    }

    /// Compact JSON in the field order in-toto's Go types use.
    public func encoded() -> Data {
        GoJSON.object([
            ("_type", .string(type)),
            ("subject", .array(subjects.map { s in
                .object([("name", .string(s.name)), ("digest", .map(s.digest.mapValues { .string($0) }))])
            })),
            ("predicateType", .string(predicateType)),
            ("predicate", predicate),
        ]).encoded()
    }
}
