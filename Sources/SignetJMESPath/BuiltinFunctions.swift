import Foundation
import SignetPrimitives

/// The specification's built-in functions (spec: "Built-in Functions").
enum BuiltinFunctions {
    static func fn(_ name: String, _ params: [JMESPathParameter], variadic: Bool = false, returns: String,
                   _ summary: String, _ body: @escaping JMESPathFunctionBody) -> JMESPathFunction {
        JMESPathFunction(name: name, signature: JMESPathSignature(params, variadic: variadic), returns: returns,
                         summary: summary, body: body)
    }

    static let all: [JMESPathFunction] = [
        fn("abs", [.init(.number)], returns: "number", "Returns the absolute value of the provided argument.") { _, a in
            switch a[0].value {
            case .integer(let i):
                if i == Int64.min { return .number(Double(i).magnitude) }
                return .integer(Swift.abs(i))
            case .number(let d): return .number(d.magnitude)
            default: return .null
            }
        },
        fn("avg", [.init(.arrayOfNumbers)], returns: "number", "Returns the average of the elements in the provided array.") { ctx, a in
            guard case .array(let xs) = a[0].value, !xs.isEmpty else { return .null }
            try ctx.charge(xs.count)
            return .number(xs.reduce(0.0) { $0 + ($1.doubleValue ?? 0) } / Double(xs.count))
        },
        fn("ceil", [.init(.number)], returns: "number", "Returns the next highest integer value by rounding up if necessary.") { _, a in
            if case .number(let d) = a[0].value { return .number(d.rounded(.up)) }
            return a[0].value
        },
        fn("contains", [.init(.array, .string), .init(.any)], returns: "boolean",
           "Returns true if the given subject contains the provided search value.") { ctx, a in
            switch a[0].value {
            case .array(let xs):
                for x in xs where try ValueOps.equal(x, a[1].value, &ctx) { return .bool(true) }
                return .bool(false)
            case .string(let s):
                guard case .string(let needle) = a[1].value else { return .bool(false) }
                try ctx.charge(s.utf8.count)
                return .bool(StringOps.contains(s, needle))
            default: return .bool(false)
            }
        },
        fn("ends_with", [.init(.string), .init(.string)], returns: "boolean",
           "Returns true if the subject ends with the provided suffix.") { _, a in
            guard case .string(let s) = a[0].value, case .string(let p) = a[1].value else { return .null }
            return .bool(s.utf8.count >= p.utf8.count && s.utf8.suffix(p.utf8.count).elementsEqual(p.utf8))
        },
        fn("floor", [.init(.number)], returns: "number", "Returns the next lowest integer value by rounding down if necessary.") { _, a in
            if case .number(let d) = a[0].value { return .number(d.rounded(.down)) }
            return a[0].value
        },
        fn("join", [.init(.string), .init(.arrayOfStrings)], returns: "string",
           "Returns all of the elements from the provided array joined together using the glue argument as a separator between each.") { ctx, a in
            guard case .string(let glue) = a[0].value, case .array(let xs) = a[1].value else { return .null }
            var out = ""
            for (i, x) in xs.enumerated() {
                guard case .string(let s) = x else { continue }
                try ctx.charge(s.utf8.count + glue.utf8.count)
                if i > 0 { out += glue }
                out += s
            }
            return .string(out)
        },
        fn("keys", [.init(.object)], returns: "array", "Returns an array containing the keys of the provided object.") { ctx, a in
            guard case .object(let o) = a[0].value else { return .null }
            try ctx.charge(o.count)
            return .array(ValueOps.sortedKeys(o).map { .string($0) })
        },
        fn("length", [.init(.string, .array, .object)], returns: "number", "Returns the length of the given argument.") { _, a in
            switch a[0].value {
            case .string(let s): return .integer(Int64(s.unicodeScalars.count))
            case .array(let xs): return .integer(Int64(xs.count))
            case .object(let o): return .integer(Int64(o.count))
            default: return .null
            }
        },
        fn("map", [.init(.expressionReference), .init(.array)], returns: "array",
           "Apply the expression to each element of the array and return the results.") { ctx, a in
            guard case .expressionReference(let e) = a[0], case .array(let xs) = a[1].value else { return .null }
            var out: [JSONValue] = []
            out.reserveCapacity(xs.count)
            for x in xs { out.append(try ctx.evaluate(e, on: x)) }
            return .array(out)
        },
        fn("max", [.init(.arrayOfNumbers, .arrayOfStrings)], returns: "number",
           "Returns the highest found number in the provided array argument.") { ctx, a in
            try extremum(a[0].value, wantMax: true, &ctx)
        },
        fn("max_by", [.init(.array), .init(.expressionReference)], returns: "any",
           "Return the maximum element in an array using the expression expr as the comparison key.") { ctx, a in
            try extremumBy(a, wantMax: true, name: "max_by", &ctx)
        },
        fn("merge", [.init(.object)], variadic: true, returns: "object",
           "Accepts 1 or more objects, and returns a single object with subsequent objects merging previous objects.") { ctx, a in
            var out: [String: JSONValue] = [:]
            for arg in a {
                guard case .object(let o) = arg.value else { continue }
                try ctx.charge(o.count)
                out.merge(o) { _, new in new }
            }
            return .object(out)
        },
        fn("min", [.init(.arrayOfNumbers, .arrayOfStrings)], returns: "number",
           "Returns the lowest found number in the provided array argument.") { ctx, a in
            try extremum(a[0].value, wantMax: false, &ctx)
        },
        fn("min_by", [.init(.array), .init(.expressionReference)], returns: "any",
           "Return the minimum element in an array using the expression expr as the comparison key.") { ctx, a in
            try extremumBy(a, wantMax: false, name: "min_by", &ctx)
        },
        fn("not_null", [.init(.any)], variadic: true, returns: "any",
           "Returns the first argument that does not resolve to null.") { _, a in
            for arg in a {
                if case .null = arg.value { continue }
                return arg.value
            }
            return .null
        },
        fn("reverse", [.init(.string, .array)], returns: "any", "Reverses the order of the given argument.") { ctx, a in
            switch a[0].value {
            case .string(let s):
                try ctx.charge(s.utf8.count)
                var out = String.UnicodeScalarView()
                out.append(contentsOf: s.unicodeScalars.reversed())
                return .string(String(out))
            case .array(let xs):
                try ctx.charge(xs.count)
                return .array(xs.reversed())
            default: return .null
            }
        },
        fn("sort", [.init(.arrayOfNumbers, .arrayOfStrings)], returns: "array",
           "This function accepts an array variable and returns that array in sorted order.") { ctx, a in
            guard case .array(let xs) = a[0].value else { return .null }
            try chargeSort(xs.count, &ctx)
            return .array(xs.sorted(by: lessThan))
        },
        fn("sort_by", [.init(.array), .init(.expressionReference)], returns: "array",
           "Sort an array using an expression as the sort key.") { ctx, a in
            guard case .array(let xs) = a[0].value, case .expressionReference(let e) = a[1] else { return .null }
            let keyed = try keys(xs, e, name: "sort_by", &ctx)
            try chargeSort(xs.count, &ctx)
            let order = keyed.indices.sorted { lessThan(keyed[$0], keyed[$1]) || (!lessThan(keyed[$1], keyed[$0]) && $0 < $1) }
            return .array(order.map { xs[$0] })
        },
        fn("starts_with", [.init(.string), .init(.string)], returns: "boolean",
           "Returns true if the subject starts with the provided prefix.") { _, a in
            guard case .string(let s) = a[0].value, case .string(let p) = a[1].value else { return .null }
            return .bool(s.utf8.starts(with: p.utf8))
        },
        fn("sum", [.init(.arrayOfNumbers)], returns: "number", "Returns the sum of the provided array argument.") { ctx, a in
            guard case .array(let xs) = a[0].value else { return .null }
            try ctx.charge(xs.count)
            return sum(xs)
        },
        fn("to_array", [.init(.any)], returns: "array", "Converts the argument to an array.") { _, a in
            if case .array = a[0].value { return a[0].value }
            return .array([a[0].value])
        },
        fn("to_number", [.init(.any)], returns: "number", "Converts the argument to a number.") { _, a in
            switch a[0].value {
            case .integer, .number: return a[0].value
            case .string(let s): return parseNumber(s)
            default: return .null
            }
        },
        fn("to_string", [.init(.any)], returns: "string", "Converts the argument to a string.") { ctx, a in
            if case .string = a[0].value { return a[0].value }
            return .string(try encodeJSON(a[0].value, &ctx))
        },
        fn("type", [.init(.any)], returns: "string", "Returns the JavaScript type of the given argument as a string value.") { _, a in
            .string(a[0].value.jmespathTypeName)
        },
        fn("values", [.init(.object)], returns: "array", "Returns the values of the provided object.") { ctx, a in
            guard case .object(let o) = a[0].value else { return .null }
            try ctx.charge(o.count)
            return .array(ValueOps.sortedKeys(o).compactMap { o[$0] })
        },
    ]

    /// Go's `json.Marshal` text (sorted keys, HTML-escaped), charged by node count first so a
    /// shared-structure blow-up (`[@,@] | [@,@] | ...`) cannot be serialised.
    static func encodeJSON(_ v: JSONValue, _ ctx: inout JMESPathContext) throws -> String {
        let limit = ctx.remainingBudget
        let n = ValueOps.nodeCount(v, limit: limit == Int.max ? limit : limit + 1)
        try ctx.charge(n)
        return v.jsonString(sortedKeys: true, escapeHTML: true)
    }

    /// Go's `strconv.ParseFloat` accepts what Swift's `Double(_:)` accepts for these forms;
    /// exact integers stay integers, non-finite results are null (they have no JSON form).
    static func parseNumber(_ s: String) -> JSONValue {
        if let i = Int64(s) { return .integer(i) }
        guard let d = Double(s), d.isFinite else { return .null }
        return .number(d)
    }

    static func sum(_ xs: [JSONValue]) -> JSONValue {
        var isum: Int64 = 0
        var exact = true
        var dsum = 0.0
        for x in xs {
            switch x {
            case .integer(let i):
                dsum += Double(i)
                if exact {
                    let (r, o) = isum.addingReportingOverflow(i)
                    if o { exact = false } else { isum = r }
                }
            case .number(let d):
                dsum += d
                exact = false
            default: break
            }
        }
        return exact ? .integer(isum) : .number(dsum)
    }

    static func chargeSort(_ n: Int, _ ctx: inout JMESPathContext) throws {
        var log = 1
        var m = n
        while m > 1 { m >>= 1; log += 1 }
        let (c, o) = n.multipliedReportingOverflow(by: log)
        try ctx.charge(o ? Int.max : c)
    }

    /// Order on numbers or on strings; callers have checked the elements share one kind.
    static func lessThan(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return ValueOps.compareStrings(x, y) < 0 }
        return (ValueOps.compareNumbers(a, b) ?? 0) < 0
    }

    static func extremum(_ v: JSONValue, wantMax: Bool, _ ctx: inout JMESPathContext) throws -> JSONValue {
        guard case .array(let xs) = v, var best = xs.first else { return .null }
        try ctx.charge(xs.count)
        for x in xs.dropFirst() where wantMax ? lessThan(best, x) : lessThan(x, best) { best = x }
        return best
    }

    /// Evaluates the key expression on each element; keys must all be numbers or all strings.
    static func keys(_ xs: [JSONValue], _ e: JMESPathExpressionReference, name: String,
                     _ ctx: inout JMESPathContext) throws -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(xs.count)
        var wantString: Bool?
        for x in xs {
            let k = try ctx.evaluate(e, on: x)
            let isString: Bool
            switch k {
            case .string: isString = true
            case .integer, .number: isString = false
            default:
                throw JMESPathError(.invalidType, "\(name)(): expression must return a number or a string, got \(k.jmespathTypeName)")
            }
            if let w = wantString, w != isString {
                throw JMESPathError(.invalidType, "\(name)(): expression results must all be numbers or all strings")
            }
            wantString = isString
            out.append(k)
        }
        return out
    }

    static func extremumBy(_ a: [JMESPathArgument], wantMax: Bool, name: String, _ ctx: inout JMESPathContext) throws -> JSONValue {
        guard case .array(let xs) = a[0].value, case .expressionReference(let e) = a[1], !xs.isEmpty else { return .null }
        let ks = try keys(xs, e, name: name, &ctx)
        var best = 0
        for i in ks.indices.dropFirst() where wantMax ? lessThan(ks[best], ks[i]) : lessThan(ks[i], ks[best]) { best = i }
        return xs[best]
    }
}

/// Byte-exact string helpers (no canonical equivalence, as in Go).
enum StringOps {
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        find(Array(haystack.utf8), Array(needle.utf8), from: 0) != nil
    }

    static func find(_ h: [UInt8], _ n: [UInt8], from: Int) -> Int? {
        if n.isEmpty { return from <= h.count ? from : nil }
        guard h.count >= n.count, from <= h.count - n.count else { return nil }
        var i = from
        while i <= h.count - n.count {
            if h[i] == n[0] {
                var j = 1
                while j < n.count && h[i + j] == n[j] { j += 1 }
                if j == n.count { return i }
            }
            i += 1
        }
        return nil
    }
}
