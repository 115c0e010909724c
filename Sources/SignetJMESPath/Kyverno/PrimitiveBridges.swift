import SignetPrimitives

/// Go durations through `SignetPrimitives.GoDuration`.
enum DurationBridge {
    /// Whether `SignetPrimitives.GoDuration` is wired in.
    static let isAvailable = true

    /// `time.ParseDuration`, in nanoseconds; Go's error text.
    static func parse(_ s: String) throws -> Int64 {
        do {
            return try GoDuration(parsing: s).nanoseconds
        } catch let e as PrimitivesError {
            throw JMESPathError(.functionFailed, e.message, underlying: e)
        }
    }

    /// `Duration.String()`.
    static func format(_ nanoseconds: Int64) -> String {
        GoDuration(nanoseconds: nanoseconds).description
    }
}

/// Go RE2 regular expressions through `SignetPrimitives.RE2`.
enum KyvernoRegex {
    /// Whether `SignetPrimitives.RE2` is wired in.
    static let isAvailable = true

    static func compile(_ pattern: String, function: String, prefixed: Bool) throws -> RE2 {
        do {
            return try RE2(pattern)
        } catch let e as PrimitivesError {
            // regex_match returns Go's error as is; the replace functions wrap it (genericError).
            let text = prefixed ? "JMESPath function '\(function)': \(e.message)" : e.message
            throw JMESPathError(.functionFailed, text, underlying: e)
        }
    }

    /// `regexp.Match(pattern, src)`.
    static func matches(_ pattern: String, _ s: String, function: String) throws -> Bool {
        try compile(pattern, function: function, prefixed: false).matches(s)
    }

    /// `regexp.ReplaceAll` (`$1`/`${name}` expansion).
    static func replaceAll(_ pattern: String, in s: String, template: String, function: String) throws -> String {
        try compile(pattern, function: function, prefixed: true).replacingAll(in: s, template: template)
    }

    /// `regexp.ReplaceAllLiteral`.
    static func replaceAll(_ pattern: String, in s: String, literal: String, function: String) throws -> String {
        try compile(pattern, function: function, prefixed: true).replacingAll(in: s, literal: literal)
    }
}

/// Kubernetes quantities through `SignetPrimitives.Quantity`, plus the decimal products and
/// quotients Kyverno computes with inf.Dec.
enum QuantityBridge {
    /// Whether `SignetPrimitives.Quantity` is wired in.
    static let isAvailable = true

    static func parse(_ s: String) -> Quantity? { try? Quantity(parsing: s) }

    static func overflow(_ op: String) -> JMESPathError {
        KyvernoFunctions.error(op, "quantity arithmetic overflows", code: .invalidValue)
    }

    /// A quantity of `coefficient × 10^exponent` printed in `format` (Kubernetes' NewDecimalQuantity).
    static func make(_ coefficient: Int128, _ exponent: Int, format: Quantity.Format, _ op: String) throws -> Quantity {
        var q: Quantity
        do {
            q = try Quantity(parsing: "\(coefficient)e\(exponent)")
        } catch {
            throw overflow(op)
        }
        q.format = format
        return q
    }

    static func pow10(_ k: Int) -> Int128? {
        guard k >= 0, k <= 38 else { return nil }
        var r: Int128 = 1
        for _ in 0..<k { r *= 10 }
        return r
    }

    /// `fmt.Sprintf("%v", f)` parsed as a quantity (Kyverno's conversion of a scalar operand).
    static func scalarQuantity(_ f: Double, _ op: String) throws -> Quantity {
        do {
            return try Quantity(parsing: GoFormat.percentV(f))
        } catch let e as PrimitivesError {
            throw JMESPathError(.functionFailed, e.message, underlying: e)
        }
    }

    /// Exact product, in the left operand's format.
    static func multiply(_ q: Quantity, by f: Double) throws -> Quantity {
        let s = try scalarQuantity(f, "multiply")
        let (c, o) = q.coefficient.multipliedReportingOverflow(by: s.coefficient)
        let (e, o2) = q.exponent.addingReportingOverflow(s.exponent)
        guard !o, !o2 else { throw overflow("multiply") }
        return try make(c, e, format: q.format, "multiply")
    }

    /// Quotient rounded toward zero at the larger of both operands' decimal scales (inf.Dec QuoRound).
    static func divide(_ q: Quantity, by f: Double) throws -> Quantity {
        let s = try scalarQuantity(f, "divide")
        guard !s.isZero else { throw KyvernoArithmetic.zeroDivision("divide") }
        let scale = Swift.max(0, -q.exponent, -s.exponent)
        let (k1, o1) = q.exponent.addingReportingOverflow(scale)
        let (k, o2) = k1.subtractingReportingOverflow(s.exponent)
        guard !o1, !o2 else { throw overflow("divide") }
        let quotient: Int128
        if k >= 0 {
            guard let p = pow10(k) else { throw overflow("divide") }
            let (n, o) = q.coefficient.multipliedReportingOverflow(by: p)
            guard !o else { throw overflow("divide") }
            quotient = n / s.coefficient
        } else {
            guard let p = pow10(-k) else { return try make(0, 0, format: q.format, "divide") }
            let (d, o) = s.coefficient.multipliedReportingOverflow(by: p)
            guard !o else { return try make(0, 0, format: q.format, "divide") }
            quotient = q.coefficient / d
        }
        return try make(quotient, -scale, format: q.format, "divide")
    }
}
