import Foundation
import SignetPrimitives
import Yams

/// Prints `JSONValue` documents as block-style YAML (`signet migrate`): Kubernetes' usual key
/// order (`apiVersion`, `kind`, `metadata`, `spec` first, the rest sorted), strings that would read
/// back as something else quoted, multi-line strings as literal blocks. `YAMLDocuments.parse` reads
/// the output back to the same values.
public enum YAMLEmitter {
    /// Deeper documents are refused (policies are shallow; this bounds the recursion).
    public static let maxDepth = 64

    /// One document, without the `---` separator.
    public static func document(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value, depth: 0), width: -1)
    }

    /// Documents separated by `---` lines.
    public static func documents(_ values: [JSONValue]) throws -> String {
        try values.map { try document($0) }.joined(separator: "---\n")
    }

    static let leadingKeys = ["apiVersion", "kind", "metadata", "spec"]

    /// YAML 1.1 booleans (go-yaml v2, which Kubernetes tools and Signet's reader follow) that a
    /// YAML 1.2 emitter would leave plain.
    static let yaml11Booleans: Set<String> = ["y", "yes", "n", "no", "on", "off", "true", "false"]

    /// A plain string scalar, quoted when a YAML 1.1 or 1.2 reader would take it for another type.
    static func scalar(_ s: String) throws -> Node {
        if yaml11Booleans.contains(s.lowercased()) { return Node(s, Tag(.str), .singleQuoted) }
        return try s.represented()
    }

    static func node(_ value: JSONValue, depth: Int) throws -> Node {
        guard depth < maxDepth else { throw SignetPolicyError(.invalidPolicy, "document nested more than \(maxDepth) levels") }
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .integer(let i): return Node(String(i), Tag(.int))
        case .number(let d):
            if d.isFinite, d.rounded() == d, abs(d) < 1e15 { return Node(String(format: "%.1f", d), Tag(.float)) }
            return Node(d.isFinite ? "\(d)" : (d.isNaN ? ".nan" : (d > 0 ? ".inf" : "-.inf")), Tag(.float))
        case .string(let s):
            if s.contains("\n") { return Node(s, Tag(.str), .literal) }
            return try scalar(s)
        case .array(let items):
            return Node(try items.map { try node($0, depth: depth + 1) })
        case .object(let fields):
            let keys = leadingKeys.filter { fields[$0] != nil } + fields.keys.filter { !leadingKeys.contains($0) }.sorted()
            var pairs: [(Node, Node)] = []
            for k in keys {
                guard let v = fields[k] else { continue }
                pairs.append((try scalar(k), try node(v, depth: depth + 1)))
            }
            return Node(pairs)
        }
    }
}
