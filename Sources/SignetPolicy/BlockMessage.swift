/// Kyverno's admission deny message (pkg/webhooks/utils/block.go):
import SignetPrimitives
/// `"\n\nresource KIND/NS/NAME was blocked due to the following policies \n\n"` followed by a YAML
/// map policy -> rule -> message for every rule that neither passed nor skipped (go-yaml v3 style,
/// 2-space indent, keys sorted).
public enum BlockMessage {
    public static func format(_ response: EngineResponse) -> String {
        var failures: [(String, [(String, String)])] = []
        for p in response.policies {
            var rules: [String: String] = [:]
            for r in p.rules where r.status != .pass && r.status != .skip { rules[r.rule] = r.message }
            if !rules.isEmpty { failures.append((p.policy, rules.sorted { $0.key < $1.key })) }
        }
        if failures.isEmpty { return "" }
        // Go maps: one entry per policy name, sorted on output
        var merged: [String: [(String, String)]] = [:]
        for (p, rs) in failures { merged[p, default: []] += rs }
        var yaml = ""
        for p in merged.keys.sorted() {
            yaml += scalar(p, indent: 0) + ":\n"
            var seen = Set<String>()
            for (rule, msg) in merged[p]!.sorted(by: { $0.0 < $1.0 }) where seen.insert(rule).inserted {
                yaml += "  " + scalar(rule, indent: 2) + ": " + scalar(msg, indent: 2) + "\n"
            }
        }
        return "\n\nresource \(response.resource.blockName) was blocked due to the following policies \n\n\(yaml)"
    }

    /// A YAML scalar as go-yaml v3 writes a string: plain when allowed, else single-quoted, literal
    /// block for multi-line text, double-quoted for text that would read as another type.
    static func scalar(_ s: String, indent: Int) -> String {
        if s.contains("\n") {
            let pad = String(repeating: " ", count: indent + 2)
            let chomp = s.hasSuffix("\n") ? (s.hasSuffix("\n\n") ? "+" : "") : "-"
            let lines = (s.hasSuffix("\n") ? String(s.dropLast()) : s).split(separator: "\n", omittingEmptySubsequences: false)
            return "|" + chomp + "\n" + lines.map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
        }
        if s.isEmpty { return "\"\"" }
        if case .string = YAMLDocuments.resolvePlain(s) {} else { return doubleQuoted(s) }
        if plainAllowed(s) { return s }
        if s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
            return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        }
        return doubleQuoted(s)
    }

    static func doubleQuoted(_ s: String) -> String {
        JSONValue.string(s).jsonString
    }

    /// libyaml's analysis for block-context plain scalars.
    static func plainAllowed(_ s: String) -> Bool {
        let chars = Array(s.unicodeScalars)
        guard let first = chars.first, let last = chars.last else { return false }
        if first == " " || last == " " || first == "\t" || last == "\t" { return false }
        if s.hasPrefix("---") || s.hasPrefix("...") { return false }
        let indicators: Set<Unicode.Scalar> = ["#", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`"]
        if indicators.contains(first) { return false }
        if first == "-" || first == "?" || first == ":" {
            if chars.count == 1 || chars[1] == " " { return false }
        }
        for (i, c) in chars.enumerated() {
            if c.value < 0x20 || c.value == 0x7F { return false }
            if c == ":" && (i + 1 == chars.count || chars[i + 1] == " ") { return false }
            if c == "#" && i > 0 && chars[i - 1] == " " { return false }
        }
        return true
    }
}
