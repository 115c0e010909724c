/// Equality and ordering (langdef "Equality", "Ordering").
extension CELValue {
    /// CEL `==`: heterogeneous numeric equality (`1 == 1u == 1.0`), NaN unequal to itself, lists and maps
    /// element-wise, different types unequal (never an error).
    public func celEquals(_ other: CELValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return StringSearch.equal(a, b)
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.int, .int), (.int, .uint), (.int, .double), (.uint, .int), (.uint, .uint), (.uint, .double),
             (.double, .int), (.double, .uint), (.double, .double):
            return CELValue.compareNumbers(self, other) == 0
        case (.list(let a), .list(let b)):
            guard a.count == b.count else { return false }
            for i in a.indices where !a[i].celEquals(b[i]) { return false }
            return true
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for (k, v) in a {
                guard let w = b[k], v.celEquals(w) else { return false }
            }
            return true
        case (.type(let a), .type(let b)): return a.sameRuntimeType(b)
        case (.timestamp(let a), .timestamp(let b)): return a == b
        case (.duration(let a), .duration(let b)): return a == b
        case (.optional(let a), .optional(let b)):
            switch (a, b) {
            case (nil, nil): return true
            case (let x?, let y?): return x.celEquals(y)
            default: return false
            }
        case (.opaque(let a), .opaque(let b)): return a.isEqual(to: b)
        default: return false
        }
    }

    /// CEL ordering: -1, 0 or 1, or `nil` when the values are not ordered against each other
    /// (different non-numeric types, NaN, lists, maps).
    public func compare(_ other: CELValue) -> Int? {
        switch (self, other) {
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.string(let a), .string(let b)):
            // Strings order by code point, which for UTF-8 is byte order.
            return CELValue.compareBytes(a.utf8, b.utf8)
        case (.bytes(let a), .bytes(let b)): return CELValue.compareBytes(a, b)
        case (.int, .int), (.int, .uint), (.int, .double), (.uint, .int), (.uint, .uint), (.uint, .double),
             (.double, .int), (.double, .uint), (.double, .double):
            return CELValue.compareNumbers(self, other)
        case (.timestamp(let a), .timestamp(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.duration(let a), .duration(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.opaque(let a), .opaque(let b)): return a.compare(to: b)
        default: return nil
        }
    }

    static func compareBytes<C: Sequence>(_ a: C, _ b: C) -> Int where C.Element == UInt8 {
        var ia = a.makeIterator()
        var ib = b.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    /// Exact comparison across int, uint and double; `nil` for NaN.
    static func compareNumbers(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.uint(let x), .uint(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.int(let x), .uint(let y)):
            if x < 0 { return -1 }
            let ux = UInt64(x)
            return ux == y ? 0 : (ux < y ? -1 : 1)
        case (.uint, .int): return compareNumbers(b, a).map { -$0 }
        case (.int(let x), .double(let y)): return compareIntDouble(x, y)
        case (.double, .int): return compareNumbers(b, a).map { -$0 }
        case (.uint(let x), .double(let y)): return compareUIntDouble(x, y)
        case (.double, .uint): return compareNumbers(b, a).map { -$0 }
        default: return nil
        }
    }

    /// int vs double as cel-go compares them: out-of-range doubles order first, otherwise the int is
    /// converted to double (lossy: `9223372036854775807 < 9223372036854775808.0` is false).
    static func compareIntDouble(_ x: Int64, _ y: Double) -> Int? {
        if y.isNaN { return nil }
        if y < -9_223_372_036_854_775_808.0 { return 1 }
        if y > 9_223_372_036_854_775_807.0 { return -1 }
        let dx = Double(x)
        return dx == y ? 0 : (dx < y ? -1 : 1)
    }

    static func compareUIntDouble(_ x: UInt64, _ y: Double) -> Int? {
        if y.isNaN { return nil }
        if y < 0 { return 1 }
        if y > 18_446_744_073_709_551_615.0 { return -1 }
        let dx = Double(x)
        return dx == y ? 0 : (dx < y ? -1 : 1)
    }
}

extension CELValue: Equatable {
    /// Structural equality for tests and caches: same case and payload (`.int(1) != .uint(1)`).
    /// For CEL's `==` use `celEquals(_:)`.
    public static func == (lhs: CELValue, rhs: CELValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.list(let a), .list(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for (k, v) in a {
                guard let w = b[k], v == w else { return false }
            }
            return true
        case (.optional(let a), .optional(let b)): return a == b
        case (.type(let a), .type(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.unknown(let a), .unknown(let b)): return a == b
        default:
            guard lhs.celType.kindIndex == rhs.celType.kindIndex else { return false }
            return lhs.celEquals(rhs)
        }
    }
}
