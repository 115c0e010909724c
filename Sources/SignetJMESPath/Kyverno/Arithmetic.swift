import SignetPrimitives

extension KyvernoFunctions {
    static let arithmeticFunctions: [JMESPathFunction] = [
        fn("add", [any, any], returns: "any",
           note: "does arithmetic addition of two specified values of numbers, quantities, and durations") { _, a in
            try KyvernoArithmetic.add(a[0].value, a[1].value, operator: "add")
        },
        fn("sum", [JMESPathParameter(.array)], returns: "any",
           note: "does arithmetic addition of specified array of values of numbers, quantities, and durations") { ctx, a in
            guard case .array(let items) = a[0].value else { throw error("sum", "Types mismatch") }
            guard var result = items.first else { throw error("sum", "at least one element in the array is required") }
            try ctx.charge(items.count)
            for item in items.dropFirst() { result = try KyvernoArithmetic.add(result, item, operator: "sum") }
            return result
        },
        fn("subtract", [any, any], returns: "any",
           note: "does arithmetic subtraction of two specified values of numbers, quantities, and durations") { _, a in
            try KyvernoArithmetic.subtract(a[0].value, a[1].value)
        },
        fn("multiply", [any, any], returns: "any",
           note: "does arithmetic multiplication of two specified values of numbers, quantities, and durations") { _, a in
            try KyvernoArithmetic.multiply(a[0].value, a[1].value)
        },
        fn("divide", [any, any], returns: "any", note: "divisor must be non zero") { _, a in
            try KyvernoArithmetic.divide(a[0].value, a[1].value)
        },
        fn("modulo", [any, any], returns: "any", note: "divisor must be non-zero, arguments must be integers") { _, a in
            try KyvernoArithmetic.modulo(a[0].value, a[1].value)
        },
        fn("round", [n, n], returns: "number", note: "does roundoff to upto the given decimal places") { _, a in
            let value = try number(a, 0, "round")
            let places = try number(a, 1, "round")
            guard case .success(let p) = intNumber(places) else {
                throw error("round", "Non-integer argument(s) passed for round off", code: .invalidValue)
            }
            // Kyverno formats this error without its arguments; Go prints the placeholders.
            guard p >= 0 else { throw error("round", "%!d(MISSING) argument is out of bounds (%!d(MISSING))", code: .invalidValue) }
            let shift = Foundation_pow10(p)
            return .number((value * shift).rounded(.toNearestOrAwayFromZero) / shift)
        },
    ]
}

/// 10^p as a double (p >= 0); large p gives +Inf as Go's math.Pow does.
func Foundation_pow10(_ p: Int) -> Double {
    var r = 1.0
    var i = 0
    while i < p && r.isFinite { r *= 10; i += 1 }
    return r
}

/// Kyverno's arithmetic over scalars, quantities and durations (arithmetic.go).
enum KyvernoArithmetic {
    enum Operand {
        case scalar(Double)
        case quantity(Quantity)
        case duration(Int64)
    }

    static func mismatch(_ op: String) -> JMESPathError { KyvernoFunctions.error(op, "Types mismatch", code: .invalidType) }
    static func zeroDivision(_ op: String) -> JMESPathError { KyvernoFunctions.error(op, "Zero divisor passed", code: .invalidValue) }
    static func nonIntModulo() -> JMESPathError {
        KyvernoFunctions.error("modulo", "Non-integer argument(s) passed for modulo", code: .invalidValue)
    }

    static func operand(_ v: JSONValue, _ op: String) throws -> Operand {
        if let d = v.doubleValue { return .scalar(d) }
        if case .string(let s) = v {
            // Quantity first, then duration, as Kyverno tries them ("1m" is a quantity).
            if let q = QuantityBridge.parse(s) { return .quantity(q) }
            if let ns = try? DurationBridge.parse(s) { return .duration(ns) }
        }
        throw KyvernoFunctions.error(op, "invalid operand", code: .invalidType)
    }

    static func durationString(_ ns: Int64) -> JSONValue { .string(DurationBridge.format(ns)) }

    /// Go's `time.Duration(f)` for a float: in range it truncates; out of range Go's conversion is
    /// undefined (amd64 yields math.MinInt64), which we reproduce.
    static func durationFromDouble(_ f: Double) -> Int64 {
        guard f.isFinite, f > -9.223372036854775808e18, f < 9.223372036854775808e18 else { return Int64.min }
        return Int64(f.rounded(.towardZero))
    }

    static func add(_ x: JSONValue, _ y: JSONValue, operator op: String) throws -> JSONValue {
        switch (try operand(x, op), try operand(y, op)) {
        case (.scalar(let a), .scalar(let b)): return .number(a + b)
        case (.quantity(let a), .quantity(let b)):
            guard let r = try? a.adding(b) else { throw QuantityBridge.overflow(op) }
            return .string(r.description)
        case (.duration(let a), .duration(let b)): return durationString(a &+ b) // Go wraps on overflow
        default: throw mismatch(op)
        }
    }

    static func subtract(_ x: JSONValue, _ y: JSONValue) throws -> JSONValue {
        switch (try operand(x, "subtract"), try operand(y, "subtract")) {
        case (.scalar(let a), .scalar(let b)): return .number(a - b)
        case (.quantity(let a), .quantity(let b)):
            guard let r = try? a.subtracting(b) else { throw QuantityBridge.overflow("subtract") }
            return .string(r.description)
        case (.duration(let a), .duration(let b)): return durationString(a &- b)
        default: throw mismatch("subtract")
        }
    }

    static func multiply(_ x: JSONValue, _ y: JSONValue) throws -> JSONValue {
        switch (try operand(x, "multiply"), try operand(y, "multiply")) {
        case (.scalar(let a), .scalar(let b)): return .number(a * b)
        case (.quantity(let q), .scalar(let f)), (.scalar(let f), .quantity(let q)):
            return .string(try QuantityBridge.multiply(q, by: f).description)
        case (.duration(let d), .scalar(let s)), (.scalar(let s), .duration(let d)):
            let seconds = Double(d) / 1e9 * s
            return durationString(durationFromDouble(seconds * 1e9))
        default: throw mismatch("multiply")
        }
    }

    static func divide(_ x: JSONValue, _ y: JSONValue) throws -> JSONValue {
        switch (try operand(x, "divide"), try operand(y, "divide")) {
        case (.scalar(let a), .scalar(let b)):
            guard b != 0 else { throw zeroDivision("divide") }
            return .number(a / b)
        case (.quantity(let a), .quantity(let b)):
            let divisor = b.approximateDouble
            guard divisor != 0 else { throw zeroDivision("divide") }
            return .number(a.approximateDouble / divisor)
        case (.quantity(let q), .scalar(let f)):
            guard f != 0 else { throw zeroDivision("divide") }
            return .string(try QuantityBridge.divide(q, by: f).description)
        case (.duration(let a), .duration(let b)):
            guard b != 0 else { throw zeroDivision("divide") }
            return .number((Double(a) / 1e9) / (Double(b) / 1e9))
        case (.duration(let d), .scalar(let s)):
            guard s != 0 else { throw zeroDivision("divide") }
            return durationString(durationFromDouble(Double(d) / 1e9 / s * 1e9))
        default: throw mismatch("divide")
        }
    }

    static func modulo(_ x: JSONValue, _ y: JSONValue) throws -> JSONValue {
        switch (try operand(x, "modulo"), try operand(y, "modulo")) {
        case (.scalar(let a), .scalar(let b)):
            guard let i = exactInt64(a), let j = exactInt64(b) else { throw nonIntModulo() }
            guard j != 0 else { throw zeroDivision("modulo") }
            if j == -1 { return .number(0) }
            return .number(Double(i % j))
        case (.quantity(let a), .quantity(let b)):
            guard let i = exactInt64(a.approximateDouble), let j = exactInt64(b.approximateDouble) else { throw nonIntModulo() }
            guard j != 0 else { throw zeroDivision("modulo") }
            return .string(Quantity(j == -1 ? 0 : i % j, format: a.format).description)
        case (.duration(let a), .duration(let b)):
            guard b != 0 else { throw zeroDivision("modulo") }
            if b == -1 { return durationString(0) }
            return durationString(a % b)
        default: throw mismatch("modulo")
        }
    }

    /// Go's `int64(f)` round-trip check: only exact integers in range pass.
    static func exactInt64(_ d: Double) -> Int64? {
        guard d.isFinite, d.rounded(.towardZero) == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
        return Int64(d)
    }
}
