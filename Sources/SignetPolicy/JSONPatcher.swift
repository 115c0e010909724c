/// Applies the JSON patch operations the engine produces (`replace`/`add` at a JSON pointer).
import SignetPrimitives
public enum JSONPatcher {
    public static func apply(_ op: JSONPatchOperation, to doc: JSONValue) -> JSONValue {
        let comps = op.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        return set(doc, Array(comps)[...], op.value)
    }

    public static func apply(_ ops: [JSONPatchOperation], to doc: JSONValue) -> JSONValue {
        ops.reduce(doc) { apply($1, to: $0) }
    }

    static func set(_ doc: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        switch doc {
        case .object(var o):
            o[head] = set(o[head] ?? .object([:]), path.dropFirst(), value)
            return .object(o)
        case .array(var a):
            if let i = Int(head), a.indices.contains(i) { a[i] = set(a[i], path.dropFirst(), value) }
            else if head == "-" { a.append(set(.null, path.dropFirst(), value)) }
            return .array(a)
        default:
            return doc
        }
    }
}
