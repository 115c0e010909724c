import SignetPrimitives

extension JSONValue {
    /// Whether the value is an integer or a floating-point number.
    var isNumber: Bool {
        switch self {
        case .integer, .number: return true
        default: return false
        }
    }

    /// JMESPath's type names (spec: `type()`).
    public var jmespathTypeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Spec "Truthiness": false, null, empty string/array/object are false; all else is true.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .integer, .number: return true
        }
    }
}

/// Comparison helpers with exact semantics: strings by UTF-8 bytes (as Go compares them, and
/// without Swift's canonical equivalence), numbers across integer/floating-point exactly.
enum ValueOps {
    /// Orders two numbers exactly; nil when either is not a number or is NaN.
    static func compareNumbers(_ a: JSONValue, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.number(let x), .number(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.integer(let x), .number(let y)): return compare(x, y)
        case (.number(let x), .integer(let y)): return compare(y, x).map { -$0 }
        default: return nil
        }
    }

    /// Exact comparison of an Int64 and a Double (no rounding of the integer).
    static func compare(_ i: Int64, _ d: Double) -> Int? {
        if d.isNaN { return nil }
        if d >= 9_223_372_036_854_775_808.0 { return -1 }
        if d < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = d.rounded(.down)
        // `whole` is in Int64 range here.
        guard let w = Int64(exactly: whole) else { return nil }
        if i < w { return -1 }
        if i > w { return 1 }
        return d > whole ? -1 : 0
    }

    static func compareStrings(_ a: String, _ b: String) -> Int {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?):
                if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    static func stringsEqual(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Deep equality (spec: `==`), charging one step per compared node.
    static func equal(_ a: JSONValue, _ b: JSONValue, _ ctx: inout JMESPathContext) throws -> Bool {
        try ctx.charge(1)
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return stringsEqual(x, y)
        case (.integer, .integer), (.number, .number), (.integer, .number), (.number, .integer):
            return compareNumbers(a, b) == 0
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where !(try equal(p, q, &ctx)) { return false }
            return true
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], try equal(v, w, &ctx) else { return false }
            }
            return true
        default: return false
        }
    }

    /// Object keys in UTF-8 byte order: a deterministic stand-in for the unordered iteration the
    /// spec allows for `*`, `keys` and `values`.
    static func sortedKeys(_ o: [String: JSONValue]) -> [String] {
        o.keys.sorted { compareStrings($0, $1) < 0 }
    }

    /// Number of nodes in a value, stopping at `limit` (for charging traversals).
    static func nodeCount(_ v: JSONValue, limit: Int) -> Int {
        var count = 0
        var stack: [JSONValue] = [v]
        while let x = stack.popLast() {
            count += 1
            if count >= limit { return count }
            switch x {
            case .array(let a): stack.append(contentsOf: a)
            case .object(let o): stack.append(contentsOf: o.values)
            default: break
            }
        }
        return count
    }
}
