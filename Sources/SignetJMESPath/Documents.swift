import Foundation
import SignetPrimitives

/// Input documents and output text for tools (`signet jp query`).
public enum JMESPathDocuments {
    /// Parses JSON, or else YAML (first document), into a `JSONValue`, as `kyverno jp query`
    /// reads its input (sigs.k8s.io/yaml accepts both). `budget` bounds alias expansion.
    public static func parseJSONOrYAML(_ text: String, budget: Int = 50_000_000) throws -> JSONValue {
        if let v = try? JSONValue(json: text) { return v }
        var ctx = JMESPathContext(budget: budget, clock: .system, maximumDepth: 128)
        return try YAMLConversion.parse(text, &ctx)
    }

    /// JSON text as Go's `json.MarshalIndent(v, "", "  ")` prints it: keys sorted, HTML
    /// characters escaped, floats in Go's format.
    public static func indentedJSON(_ value: JSONValue) -> String {
        var out = ""
        writeIndented(value, into: &out, level: 0)
        return out
    }

    static func writeIndented(_ v: JSONValue, into out: inout String, level: Int) {
        let pad = String(repeating: "  ", count: level + 1)
        let closePad = String(repeating: "  ", count: level)
        switch v {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (i, e) in a.enumerated() {
                out += pad
                writeIndented(e, into: &out, level: level + 1)
                out += i + 1 < a.count ? ",\n" : "\n"
            }
            out += closePad + "]"
        case .object(let o) where !o.isEmpty:
            out += "{\n"
            let keys = ValueOps.sortedKeys(o)
            for (i, k) in keys.enumerated() {
                out += pad + JSONValue.string(k).jsonString(sortedKeys: true) + ": "
                writeIndented(o[k] ?? .null, into: &out, level: level + 1)
                out += i + 1 < keys.count ? ",\n" : "\n"
            }
            out += closePad + "}"
        default:
            out += v.jsonString(sortedKeys: true)
        }
    }
}
