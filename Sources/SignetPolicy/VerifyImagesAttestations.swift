import SignetOCI
import SignetPrimitives

/// One `verifyImages[].attestations[]` entry of a ClusterPolicy: a signed in-toto attestation of
/// `type` that the image must carry, verified by the `attestors` (Kyverno `Attestation`).
///
/// `conditions` are Kyverno's `AnyAllConditions` over each verified statement of the type: the
/// predicate's top-level fields are added to the rule's variables (`{{ builder.id }}`), and every
/// block must hold for every statement, else the attestor entry does not verify
/// (`attestation checks failed for IMAGE and predicate TYPE: MESSAGES`).
public struct ImageAttestation: Sendable, Hashable {
    /// `name` (optional in Kyverno).
    public var name: String
    /// `type` (or the deprecated `predicateType`): the predicate type URI to require.
    public var type: String
    /// `attestors`: who must have signed the attestation; empty means the image's attestors.
    public var attestors: [AttestorSet]
    /// `conditions`: every block must hold (evaluated by `ConditionBlock.evaluate`, the same
    /// evaluator as preconditions and deny).
    public var conditions: [ConditionBlock]

    public init(name: String = "", type: String, attestors: [AttestorSet] = [], conditions: [ConditionBlock] = []) {
        self.name = name
        self.type = type
        self.attestors = attestors
        self.conditions = conditions
    }

    /// At most this many condition blocks (and conditions per block) are accepted.
    static let maxConditions = 64

    /// Checks `predicates` (every verified statement of the type) against `conditions` with the
    /// rule's variables `base`; nil when they hold, else Kyverno's message for the entry.
    func checkConditions(_ predicates: [JSONValue], image: String, base: VariableContext) -> String? {
        guard !conditions.isEmpty else { return nil }
        for predicate in predicates {
            // Kyverno `AddJSONObject`: the predicate's fields at the root of the context.
            guard case .object(let fields) = predicate else {
                return "failed to check attestations: failed to extract predicate from statement"
            }
            var ctx = base
            for (k, v) in fields { ctx.set(k, v) }
            var failed = false
            var messages: [String] = []
            for block in conditions {
                do {
                    let (holds, why) = try block.evaluate(in: ctx)
                    if !holds { failed = true; messages += why }
                } catch {
                    return "failed to check attestations: failed to substitute variables in attestation conditions: \(error)"
                }
            }
            if failed {
                return "attestation checks failed for \(image) and predicate \(type): \(messages.joined(separator: "; "))"
            }
        }
        return nil
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
            reasons += checkKeys(o, path: ap, known: ["name", "type", "predicateType", "attestors", "conditions"])
            guard let type = (o["type"] ?? o["predicateType"])?.stringValue, !type.isEmpty else {
                error(ap + ".type", "a predicate type is required")
                continue
            }
            var attestation = ImageAttestation(name: o["name"]?.stringValue ?? "", type: type)
            if let c = o["conditions"], c != .null {
                if case .array(let blocks) = c {
                    if blocks.count > ImageAttestation.maxConditions { error(ap + ".conditions", "more than \(ImageAttestation.maxConditions) condition blocks") }
                    for (bi, block) in blocks.prefix(ImageAttestation.maxConditions).enumerated() {
                        var problems: [(String, String)] = []
                        let parsed = ConditionBlock.parse(block, path: "\(ap).conditions[\(bi)]", errors: &problems)
                        for (path, message) in problems { error(path, message) }
                        if (parsed.any?.count ?? 0) + (parsed.all?.count ?? 0) > ImageAttestation.maxConditions {
                            error("\(ap).conditions[\(bi)]", "more than \(ImageAttestation.maxConditions) conditions")
                        }
                        attestation.conditions.append(parsed)
                    }
                } else {
                    error(ap + ".conditions", "must be a list of any/all condition blocks")
                }
            }
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

extension FieldReader {
    /// `verifyImages` without its attestations' `conditions` (which may hold variables).
    static func withoutAttestationConditions(_ verifyImages: JSONValue) -> JSONValue {
        guard case .array(let entries) = verifyImages else { return verifyImages }
        return .array(entries.map { entry in
            guard case .object(var o) = entry, case .array(let atts)? = o["attestations"] else { return entry }
            o["attestations"] = .array(atts.map { a in
                guard case .object(var ao) = a else { return a }
                ao["conditions"] = nil
                return .object(ao)
            })
            return .object(o)
        })
    }
}
