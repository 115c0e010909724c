import SignetPrimitives

/// Kyverno `$(...)` references in patterns (pkg/engine/variables/vars.go
/// `substituteReferences`): `$(./../../limits/memory)` is replaced with the value of another
/// field of the same pattern document, found by a path relative to the referencing leaf (or
/// absolute, from the document root), anchors ignored; an operator prefix (`$(<=./../x)`) is kept
/// in front of the value. `\$(...)` escapes a reference. References resolve before `{{ }}`
/// variables, so they are resolved once, when the policy is loaded.
enum References {
    static let maximumLeaves = 100_000

    /// True when some string (or key) of `v` holds `$(`.
    static func contains(_ v: JSONValue) -> Bool { FieldReader.containsReferences(v) }

    /// The document with every reference replaced.
    static func resolve(_ document: JSONValue) throws -> JSONValue {
        var leaves: [String: JSONValue] = [:]
        var count = 0
        collect(document, path: "", into: &leaves, count: &count)
        guard count <= maximumLeaves else { throw SignetPolicyError(.invalidPolicy, "pattern too large for references") }
        return try replace(document, path: "", document: leaves, depth: 0)
    }

    /// Leaf values by their path with anchors removed (Kyverno `getValueFromReference`).
    static func collect(_ v: JSONValue, path: String, into out: inout [String: JSONValue], count: inout Int) {
        count += 1
        guard count <= maximumLeaves else { return }
        switch v {
        case .object(let o):
            for (k, e) in o { collect(e, path: path + "/" + (Anchor(parsing: k)?.key ?? k), into: &out, count: &count) }
        case .array(let a):
            for (i, e) in a.enumerated() { collect(e, path: path + "/" + String(i), into: &out, count: &count) }
        default:
            out[path] = v
        }
    }

    static func replace(_ v: JSONValue, path: String, document: [String: JSONValue], depth: Int) throws -> JSONValue {
        guard depth < 128 else { throw SignetPolicyError(.invalidPolicy, "pattern nested too deeply") }
        switch v {
        case .string(let s):
            guard s.contains("$(") else { return v }
            return .string(try resolve(string: s, path: path, document: document))
        case .array(let a):
            return .array(try a.enumerated().map { try replace($1, path: path + "/" + String($0), document: document, depth: depth + 1) })
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, e) in o {
                let key = k.contains("$(") ? try resolve(string: k, path: path + "/" + k, document: document) : k
                out[key] = try replace(e, path: path + "/" + k, document: document, depth: depth + 1)
            }
            return .object(out)
        default:
            return v
        }
    }

    /// The references of one string (Kyverno `RegexReferences`: `$(` at the start or after a
    /// character other than `\`, one character, then the longest run of non-spaces ending in `)`).
    static func resolve(string: String, path: String, document: [String: JSONValue]) throws -> String {
        var value = Array(string.utf8)
        var i = 0
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "("), close = UInt8(ascii: ")"), space = UInt8(ascii: " ")
        var guardCount = 0
        while i + 1 < value.count {
            guardCount += 1
            guard guardCount <= 10_000 else { throw SignetPolicyError(.invalidPolicy, "too many references at path \(path)") }
            guard value[i] == dollar, value[i + 1] == open, i == 0 || value[i - 1] != UInt8(ascii: "\\") else { i += 1; continue }
            var end = i + 3
            while end < value.count, value[end] != space { end += 1 }
            guard let last = (i + 3..<end).last(where: { value[$0] == close }) else { i += 1; continue }
            let reference = String(decoding: value[i...last], as: UTF8.self)
            let replacement = try resolve(reference: reference, path: path, document: document)
            value.replaceSubrange(i...last, with: Array(replacement.utf8))
            i += replacement.utf8.count
        }
        // `\$(...)` loses its backslash
        return String(decoding: value, as: UTF8.self).replacingAll("\\$(", with: "$(")
    }

    static func resolve(reference: String, path absolutePath: String, document: [String: JSONValue]) throws -> String {
        // Go strings.Trim(reference, "$()"): the cut set from both ends
        var body = Substring(reference)
        while let f = body.first, f == "$" || f == "(" || f == ")" { body = body.dropFirst() }
        while let l = body.last, l == "$" || l == "(" || l == ")" { body = body.dropLast() }
        var op = ""
        for candidate in [">=", "<=", ">", "<", "!"] where body.hasPrefix(candidate) {
            op = candidate
            body = body.dropFirst(candidate.count)
            break
        }
        guard !body.isEmpty else { throw SignetPolicyError(.invalidPolicy, "expected path, found empty reference") }
        let target = body.hasPrefix("/") ? clean(String(body)) : clean(absolutePath + "/" + body)
        guard let found = document[target], found != .null else {
            throw SignetPolicyError(.invalidPolicy, "got nil resolved variable \(reference) at path \(absolutePath)")
        }
        switch found {
        case .string(let s): return op + s
        case .integer(let n) where !op.isEmpty: return op + String(n)
        case .number(let d) where !op.isEmpty: return op + GoFormat.fixed(d)
        default:
            if op.isEmpty { throw SignetPolicyError(.invalidPolicy, "NotResolvedReferenceErr,reference \(reference) not resolved at path \(absolutePath)") }
            throw SignetPolicyError(.invalidPolicy, "incorrect expression: operator \(op) does not match with value \(GoFormat.jsonString(found))")
        }
    }

    /// Go `path.Clean` of an absolute path.
    static func clean(_ p: String) -> String {
        var out: [Substring] = []
        for seg in p.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(seg)
        }
        return "/" + out.joined(separator: "/")
    }
}

extension GoFormat {
    /// Go `fmt.Sprintf("%f", d)`: six decimals.
    static func fixed(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "NaN" : (d > 0 ? "+Inf" : "-Inf") }
        let scaled = (d * 1_000_000).rounded()
        guard abs(scaled) < 9e18, let n = Int64(exactly: scaled) else { return String(d) }
        let neg = n < 0
        let m = n.magnitude
        let frac = String(m % 1_000_000)
        return (neg ? "-" : "") + String(m / 1_000_000) + "." + String(repeating: "0", count: 6 - frac.count) + frac
    }
}

extension PolicyEngine {
    /// Kyverno substitutes a verifyImages rule's variables before using it (imageReferences,
    /// attestor keys, repository...; attestation conditions keep theirs, which name the
    /// predicate): the rule with its `verifyImages` substituted and parsed again, or the error
    /// Kyverno reports (`failed to substitute variables`). Rules without variables are returned
    /// as they are.
    func substitutedVerifyImages(_ rule: Rule, policy: ClusterPolicy, resource: JSONValue, admission: AdmissionInfo) -> Result<Rule, SignetPolicyError> {
        guard let source = rule.verifyImagesSource else { return .success(rule) }
        let substituted: JSONValue
        do {
            let ctx = try variableContext(rule, policy: policy, resource: resource, admission: admission)
            substituted = try Variables.substitute(FieldReader.withoutAttestationConditions(source), in: ctx)
        } catch {
            return .failure(SignetPolicyError(.variableSubstitution, "failed to substitute variables: \(Self.text(error))"))
        }
        guard case .array(let entries) = substituted, entries.count == rule.verifyImages.count else {
            return .failure(SignetPolicyError(.variableSubstitution, "failed to substitute variables: verifyImages changed shape"))
        }
        var reader = FieldReader(strict: false)
        var out = rule
        for (i, e) in entries.enumerated() {
            guard case .object(let io) = e else { return .failure(SignetPolicyError(.variableSubstitution, "failed to substitute variables: verifyImages[\(i)] is not a map")) }
            let old = rule.verifyImages[i]
            var (iv, reasons) = reader.imageVerification(io, path: "verifyImages[\(i)]", policyAction: old.failureAction ?? policy.validationFailureAction)
            if let reason = reasons.first { return .failure(SignetPolicyError(.unsupported, reason)) }
            iv.failureAction = old.failureAction
            // attestation conditions were left out of the substitution: the parsed ones stand
            for j in iv.attestations.indices where j < old.attestations.count { iv.attestations[j].conditions = old.attestations[j].conditions }
            out.verifyImages[i] = iv
        }
        if let bad = reader.diags.first(where: { $0.severity == .error }) {
            return .failure(SignetPolicyError(.variableSubstitution, "failed to substitute variables: \(bad.description)"))
        }
        return .success(out)
    }
}
