import SignetOCI
import SignetPrimitives

/// One `verifyImages[].attestations[]` entry of a ClusterPolicy: a signed in-toto attestation of
/// `type` that the image must carry, verified by the `attestors` (Kyverno `Attestation`).
///
/// `conditions` (JMESPath over the statement's predicate) are not evaluated yet: a policy that sets
/// them is loaded with a diagnostic naming the field and its rule reports `error`, never a pass.
public struct ImageAttestation: Sendable, Hashable {
    /// `name` (optional in Kyverno).
    public var name: String
    /// `type` (or the deprecated `predicateType`): the predicate type URI to require.
    public var type: String
    /// `attestors`: who must have signed the attestation; empty means the image's attestors.
    public var attestors: [AttestorSet]

    public init(name: String = "", type: String, attestors: [AttestorSet] = []) {
        self.name = name
        self.type = type
        self.attestors = attestors
    }
}

extension FieldReader {
    /// Parses `verifyImages[].attestations` at `path`; returns the attestations and the reasons
    /// the rule cannot be evaluated faithfully (unsupported fields), each also a diagnostic.
    mutating func imageAttestations(_ value: JSONValue, path: String, policyAction: FailureAction) -> ([ImageAttestation], [String]) {
        guard case .array(let list) = value else {
            error(path, "must be a list")
            return ([], [])
        }
        var out: [ImageAttestation] = []
        var reasons: [String] = []
        for (i, item) in list.enumerated() {
            let ap = "\(path)[\(i)]"
            guard case .object(let o) = item else { error(ap, "must be a map"); continue }
            reasons += checkKeys(o, path: ap, known: ["name", "type", "predicateType", "attestors"],
                                 unsupported: ["conditions": "attestation conditions (JMESPath over the predicate) are not evaluated yet"])
            guard let type = (o["type"] ?? o["predicateType"])?.stringValue, !type.isEmpty else {
                error(ap + ".type", "a predicate type is required")
                continue
            }
            var attestation = ImageAttestation(name: o["name"]?.stringValue ?? "", type: type)
            if let attestors = o["attestors"] {
                // The attestor sets are parsed exactly like the image's own (same checks, same paths).
                let (parsed, more) = imageVerification(["imageReferences": .array([.string("*")]), "attestors": attestors,
                                                        "mutateDigest": .bool(false)], path: ap, policyAction: policyAction)
                attestation.attestors = parsed.attestors
                reasons += more
            }
            out.append(attestation)
        }
        return (out, reasons)
    }
}
