/// A Kubernetes `resource.Quantity` (k8s.io/apimachinery/pkg/api/resource), kept exactly.
///
/// The value is `coefficient × 10^exponent` with an `Int128` coefficient below 10^38 (no trailing
/// zeros) and an unbounded-in-practice `Int` exponent, so every quantity Kubernetes produces from
/// realistic text is exact. Parsing follows `ParseQuantity`: values finer than a nano-unit are
/// rounded up (away from zero) to `1n`, binary-suffixed values are capped at 2^63-1, a decimal
/// exponent is truncated to 32 bits as Kubernetes does, and a binary value below 1 switches to
/// decimal format. Inputs Kubernetes would accept but that need more than 38 significant digits
/// after rounding, or are longer than 1,024 bytes, are rejected explicitly.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How a quantity prints (Kubernetes' `Format`).
    public enum Format: Sendable, Hashable {
        /// `Ki`, `Mi`, ... `Ei` (powers of 1024).
        case binarySI
        /// `n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E` (powers of 1000).
        case decimalSI
        /// `e3`, `e-6`, ... (powers of 10, multiples of 3).
        case decimalExponent
    }

    /// The coefficient; `value = coefficient × 10^exponent`. Zero has exponent 0.
    public private(set) var coefficient: Int128
    /// The power of ten.
    public private(set) var exponent: Int
    /// The format used by `description`; changing it drops the remembered input text.
    public var format: Format {
        didSet { cachedText = nil }
    }
    /// The input text, when Kubernetes keeps it as the printed form (already canonical).
    private var cachedText: String?

    /// The longest text `init(parsing:)` accepts.
    public static let maximumTextLength = 1024

    static let coefficientLimit: Int128 = pow10(38)

    static func pow10(_ k: Int) -> Int128 {
        var r: Int128 = 1
        var i = 0
        while i < k && i < 38 { r *= 10; i += 1 }
        return r
    }

    private init(coefficient: Int128, exponent: Int, format: Format, cachedText: String? = nil) {
        var c = coefficient
        var e = exponent
        if c == 0 {
            e = 0
        } else {
            while c % 10 == 0 { c /= 10; e += 1 }
        }
        self.coefficient = c
        self.exponent = e
        self.format = format
        self.cachedText = cachedText
    }

    /// `value` units (Kubernetes' `NewQuantity`).
    public init(_ value: Int64, format: Format = .decimalSI) {
        self.init(coefficient: Int128(value), exponent: 0, format: format)
    }

    /// `value` thousandths (Kubernetes' `NewMilliQuantity`).
    public init(milli value: Int64, format: Format = .decimalSI) {
        self.init(coefficient: Int128(value), exponent: -3, format: format)
    }

    /// Parses Kubernetes quantity text: `<sign><digits>[.<digits>]<suffix>` with a binary suffix
    /// (`Ki` ... `Ei`), a decimal one (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-2`).
    /// Throws `PrimitivesError(.invalidQuantity)` for what Kubernetes rejects, `.overflow` for values
    /// beyond the documented bounds; never traps.
    public init(parsing text: String) throws {
        let s = Array(text.utf8)
        func formatError() -> PrimitivesError {
            PrimitivesError(.invalidQuantity,
                            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        }
        guard !s.isEmpty else { throw formatError() }
        guard s.count <= Quantity.maximumTextLength else {
            throw PrimitivesError(.invalidQuantity, "quantity text longer than \(Quantity.maximumTextLength) bytes")
        }
        if text == "0" {
            self.init(coefficient: 0, exponent: 0, format: .decimalSI, cachedText: "0")
            return
        }
        // parseQuantityString: sign, leading zeros, numerator, denominator, suffix.
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        var positive = true
        var pos = 0
        if s[0] == UInt8(ascii: "-") { positive = false; pos = 1 } else if s[0] == UInt8(ascii: "+") { pos = 1 }
        while pos < s.count, s[pos] == UInt8(ascii: "0") { pos += 1 }
        var num: ArraySlice<UInt8> = []
        var denom: ArraySlice<UInt8> = []
        var suffixBytes: ArraySlice<UInt8> = []
        if pos < s.count {
            let numStart = pos
            while pos < s.count, isDigit(s[pos]) { pos += 1 }
            num = s[numStart..<pos]
            if pos < s.count, s[pos] == UInt8(ascii: ".") {
                pos += 1
                let denomStart = pos
                while pos < s.count, isDigit(s[pos]) { pos += 1 }
                denom = s[denomStart..<pos]
            }
            let suffixStart = pos
            let suffixLetters = Set("eEinumkKMGTP".utf8)
            while pos < s.count, suffixLetters.contains(s[pos]) { pos += 1 }
            if pos < s.count, s[pos] == UInt8(ascii: "-") || s[pos] == UInt8(ascii: "+") { pos += 1 }
            while pos < s.count, isDigit(s[pos]) { pos += 1 }
            guard pos == s.count else { throw formatError() }
            suffixBytes = s[suffixStart..<s.count]
        }
        if num.isEmpty { num = [0x30] }

        // Suffix interpretation (suffixHandler.interpret).
        enum Kind { case decimal(Int32), binary(Int) }
        let kind: Kind
        let parsedFormat: Format
        switch String(decoding: suffixBytes, as: UTF8.self) {
        case "": kind = .decimal(0); parsedFormat = .decimalSI
        case "n": kind = .decimal(-9); parsedFormat = .decimalSI
        case "u": kind = .decimal(-6); parsedFormat = .decimalSI
        case "m": kind = .decimal(-3); parsedFormat = .decimalSI
        case "k": kind = .decimal(3); parsedFormat = .decimalSI
        case "M": kind = .decimal(6); parsedFormat = .decimalSI
        case "G": kind = .decimal(9); parsedFormat = .decimalSI
        case "T": kind = .decimal(12); parsedFormat = .decimalSI
        case "P": kind = .decimal(15); parsedFormat = .decimalSI
        case "E": kind = .decimal(18); parsedFormat = .decimalSI
        case "Ki": kind = .binary(10); parsedFormat = .binarySI
        case "Mi": kind = .binary(20); parsedFormat = .binarySI
        case "Gi": kind = .binary(30); parsedFormat = .binarySI
        case "Ti": kind = .binary(40); parsedFormat = .binarySI
        case "Pi": kind = .binary(50); parsedFormat = .binarySI
        case "Ei": kind = .binary(60); parsedFormat = .binarySI
        default:
            guard suffixBytes.count > 1, let first = suffixBytes.first, first == UInt8(ascii: "e") || first == UInt8(ascii: "E"),
                  let e = Quantity.parseInt64(suffixBytes.dropFirst()) else {
                throw PrimitivesError(.invalidQuantity, "unable to parse quantity's suffix")
            }
            // Kubernetes converts the parsed int64 exponent with int32(...), keeping the low 32 bits.
            kind = .decimal(Int32(truncatingIfNeeded: e))
            parsedFormat = .decimalExponent
        }

        // Significant digits S (no leading or trailing zeros) with value S × 10^exp10 × 2^bin.
        var digits = Array(num) + Array(denom)
        var lead = 0
        while lead < digits.count, digits[lead] == 0x30 { lead += 1 }
        digits.removeFirst(lead)
        var trailing = 0
        while let last = digits.last, last == 0x30 { digits.removeLast(); trailing += 1 }
        var exp10 = trailing - denom.count

        // Whether Kubernetes' fast path keeps the input as its printed form.
        var cached: String? = nil
        if case .decimal(let e) = kind {
            let precision = 18 - (num.count + denom.count)
            let scale = e &- Int32(truncatingIfNeeded: denom.count)
            if precision >= 0, scale >= -9, scale % 3 == 0 {
                let shifted = Array(num) + Array(denom)
                let endsWith000 = shifted.count >= 3 && shifted.suffix(3).allSatisfy { $0 == 0x30 }
                if !endsWith000, shifted.first != 0x30 { cached = text }
            }
        } else if case .binary(let b) = kind, denom.isEmpty {
            let precision = 15 - num.count - Int(Float(b) * 3 / 10) - 1
            if precision >= 0, let v = Int64(String(decoding: num, as: UTF8.self)), v & 0x07 != 0,
               v <= Int64.max >> b {
                cached = text
            }
        }

        if digits.isEmpty {
            self.init(coefficient: 0, exponent: 0, format: parsedFormat, cachedText: cached)
            return
        }

        switch kind {
        case .decimal(let e):
            exp10 += Int(e)
            if exp10 < -9 {
                // Round the magnitude up to whole nano-units (inf.RoundUp): S has no trailing zeros,
                // so dropping any digit drops a non-zero one.
                let drop = -9 - exp10
                if drop >= digits.count {
                    digits = [0x31]
                } else {
                    digits.removeLast(drop)
                    digits = Quantity.incremented(digits)
                }
                exp10 = -9
            }
            guard let c = Quantity.parseCoefficient(digits) else {
                throw PrimitivesError(.overflow, "quantity has more than 38 significant digits")
            }
            self.init(coefficient: positive ? c : -c, exponent: exp10, format: parsedFormat, cachedText: cached)
        case .binary(let b):
            // Nano-units N = ceil(S × 2^b × 10^(exp10 + 9)), capped at (2^63 - 1) × 10^9.
            var big = BigUInt(decimalDigits: digits)
            for _ in 0..<(b / 10) { big.multiply(by: 1024, adding: 0) }
            let shift = exp10 + 9
            if shift >= 0 {
                var k = 0
                while k < shift {
                    big.multiply(by: 10, adding: 0)
                    k += 1
                    if big.limbs.count > 8 { break } // already far above the cap
                }
            } else {
                var sticky = false
                for _ in 0..<(-shift) {
                    if big.isZero { break }
                    if big.divide(by: 10) != 0 { sticky = true }
                }
                if sticky { big.multiply(by: 1, adding: 1) }
            }
            let capNano = Int128(Int64.max) * 1_000_000_000
            var n: Int128
            if let v = big.int128Value, v <= capNano { n = v } else { n = capNano }
            var f = parsedFormat
            if n < 1_000_000_000 { f = .decimalSI } // below 1: Kubernetes switches to DecimalSI
            if !positive { n = -n }
            self.init(coefficient: n, exponent: -9, format: f, cachedText: cached)
        }
    }

    /// Go's `strconv.ParseInt(s, 10, 64)`.
    static func parseInt64(_ s: ArraySlice<UInt8>) -> Int64? {
        var rest = s
        var negative = false
        if let f = rest.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
            negative = f == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { return nil }
        var v: Int64 = 0
        for c in rest {
            guard c >= 0x30, c <= 0x39 else { return nil }
            let d = Int64(c - 0x30)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            v = a
        }
        return v
    }

    static func parseCoefficient(_ digits: [UInt8]) -> Int128? {
        guard digits.count <= 38 else { return nil }
        var v: Int128 = 0
        for d in digits { v = v * 10 + Int128(d - 0x30) }
        return v
    }

    /// Decimal digits plus one.
    static func incremented(_ digits: [UInt8]) -> [UInt8] {
        var d = digits
        var i = d.count - 1
        while i >= 0 {
            if d[i] == 0x39 { d[i] = 0x30; i -= 1 } else { d[i] += 1; return d }
        }
        return [0x31] + d
    }

    // MARK: Comparison

    /// Value equality (format and printed form are not compared).
    public static func == (a: Quantity, b: Quantity) -> Bool {
        a.coefficient == b.coefficient && a.exponent == b.exponent
    }

    /// Hashes the value.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(coefficient)
        hasher.combine(exponent)
    }

    private static func digitCount(_ v: Int128) -> Int {
        var m = v.magnitude
        var n = 0
        while m > 0 { m /= 10; n += 1 }
        return n
    }

    /// Orders by value, exactly.
    public static func < (a: Quantity, b: Quantity) -> Bool {
        if a.coefficient.signum() != b.coefficient.signum() { return a.coefficient.signum() < b.coefficient.signum() }
        if a.coefficient == 0 { return false }
        let negative = a.coefficient < 0
        // Order of magnitude first; equal magnitudes align within 38 digits.
        let ma = digitCount(a.coefficient) + a.exponent
        let mb = digitCount(b.coefficient) + b.exponent
        if ma != mb { return negative ? ma > mb : ma < mb }
        var ca = a.coefficient.magnitude, cb = b.coefficient.magnitude
        if a.exponent > b.exponent { ca *= UInt128(pow10(a.exponent - b.exponent)) } else if b.exponent > a.exponent { cb *= UInt128(pow10(b.exponent - a.exponent)) }
        return negative ? ca > cb : ca < cb
    }

    /// -1, 0 or 1.
    public var sign: Int { Int(coefficient.signum()) }

    /// Whether the value is zero.
    public var isZero: Bool { coefficient == 0 }

    // MARK: Arithmetic

    /// Both coefficients at the smaller exponent, or nil when that needs more than 38 digits.
    private static func aligned(_ a: Quantity, _ b: Quantity) -> (Int128, Int128, Int)? {
        let e = min(a.exponent, b.exponent)
        func scaled(_ q: Quantity) -> Int128? {
            let k = q.exponent - e
            guard k <= 38 else { return q.coefficient == 0 ? 0 : nil }
            let (r, o) = q.coefficient.multipliedReportingOverflow(by: pow10(k))
            return o ? nil : r
        }
        guard let ca = scaled(a), let cb = scaled(b) else { return nil }
        return (ca, cb, e)
    }

    private static func checked(_ c: Int128, _ e: Int, _ f: Format) throws -> Quantity {
        let q = Quantity(coefficient: c, exponent: e, format: f)
        guard q.coefficient.magnitude < coefficientLimit.magnitude else {
            throw PrimitivesError(.overflow, "quantity arithmetic exceeds 38 significant digits")
        }
        return q
    }

    /// The exact sum; the format is this one's unless this is zero (Kubernetes' `Add`).
    public func adding(_ other: Quantity) throws -> Quantity {
        guard let (a, b, e) = Quantity.aligned(self, other) else {
            throw PrimitivesError(.overflow, "quantity arithmetic exceeds 38 significant digits")
        }
        let (sum, o) = a.addingReportingOverflow(b)
        guard !o else { throw PrimitivesError(.overflow, "quantity arithmetic overflows") }
        return try Quantity.checked(sum, e, isZero ? other.format : format)
    }

    /// The exact difference; the format is this one's unless this is zero (Kubernetes' `Sub`).
    public func subtracting(_ other: Quantity) throws -> Quantity {
        guard let (a, b, e) = Quantity.aligned(self, other) else {
            throw PrimitivesError(.overflow, "quantity arithmetic exceeds 38 significant digits")
        }
        let (diff, o) = a.subtractingReportingOverflow(b)
        guard !o else { throw PrimitivesError(.overflow, "quantity arithmetic overflows") }
        return try Quantity.checked(diff, e, isZero ? other.format : format)
    }

    /// The exact product with an integer (Kubernetes' `Mul`).
    public func multiplied(by factor: Int64) throws -> Quantity {
        let (p, o) = coefficient.multipliedReportingOverflow(by: Int128(factor))
        guard !o else { throw PrimitivesError(.overflow, "quantity arithmetic overflows") }
        return try Quantity.checked(p, exponent, format)
    }

    /// The value with the opposite sign (Kubernetes' `Neg`).
    public func negated() -> Quantity {
        Quantity(coefficient: -coefficient, exponent: exponent, format: format)
    }

    // MARK: Conversions

    /// The nearest `Double` (Kubernetes' `AsApproximateFloat64`); ±infinity beyond its range.
    public var approximateDouble: Double {
        if coefficient == 0 { return 0 }
        return Double("\(coefficient)e\(exponent)") ?? (coefficient < 0 ? -.infinity : .infinity)
    }

    /// The value in units of 10^scale rounded away from zero (Kubernetes' `ScaledValue` on its
    /// int64 representation), nil when it does not fit `Int64`.
    public func scaledValue(_ scale: Int) -> Int64? {
        if coefficient == 0 { return 0 }
        let (shift, overflow) = exponent.subtractingReportingOverflow(scale)
        guard !overflow else { return scale > 0 ? (coefficient > 0 ? 1 : -1) : nil }
        if shift >= 0 {
            guard shift <= 38 else { return nil }
            let (v, o) = coefficient.multipliedReportingOverflow(by: Quantity.pow10(shift))
            guard !o else { return nil }
            return Int64(exactly: v)
        }
        let drop = -shift
        if drop > 38 { return coefficient > 0 ? 1 : -1 }
        let d = Quantity.pow10(drop)
        var (q, r) = coefficient.quotientAndRemainder(dividingBy: d)
        if r != 0 { q += coefficient > 0 ? 1 : -1 }
        return Int64(exactly: q)
    }

    /// Whole units rounded away from zero (Kubernetes' `Value()`), nil beyond `Int64`.
    public var int64Value: Int64? { scaledValue(0) }

    /// Thousandths rounded away from zero (Kubernetes' `MilliValue()`), nil beyond `Int64`.
    public var milliValue: Int64? { scaledValue(-3) }

    /// The value when it is an integer that fits `Int64`, else nil.
    public var exactInt64: Int64? {
        guard exponent >= 0 else { return nil }
        return scaledValue(0)
    }

    // MARK: Printing

    /// Kubernetes' `Quantity.String()`: the input text when Kubernetes keeps it (already canonical),
    /// else the canonical form: `1Gi`, `1536Mi`, `1500m`, `1500` for `1.5k`, `1e3`, `0`.
    /// Deviation: where Kubernetes has no suffix (decimal exponent above 18, binary above 2^60
    /// after arithmetic) it prints a wrong value; here the value stays correct (`1000E`, `1024Ei`).
    public var description: String {
        if let cachedText { return cachedText }
        if coefficient == 0 { return "0" }
        var f = format
        if f == .binarySI {
            let inSmallRange = Quantity(coefficient: coefficient, exponent: exponent, format: f) > Quantity(-1024)
                && Quantity(coefficient: coefficient, exponent: exponent, format: f) < Quantity(1024)
            if inSmallRange || exponent < 0 { f = .decimalSI }
        }
        switch f {
        case .binarySI:
            // Integer value: strip factors of 1024 (at most to Ei).
            guard exponent <= 38 else { return decimalText(.decimalExponent) }
            var (v, o) = coefficient.multipliedReportingOverflow(by: Quantity.pow10(exponent))
            if o { return decimalText(.decimalSI) }
            var times = 0
            while times < 6, v % 1024 == 0, v.magnitude >= 1024 { v /= 1024; times += 1 }
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            return String(v) + suffixes[times]
        case .decimalSI, .decimalExponent:
            return decimalText(f)
        }
    }

    private func decimalText(_ f: Format) -> String {
        var number = String(coefficient)
        var e = exponent
        // Lower the exponent to a multiple of 3 (Go's % truncates toward zero).
        switch e % 3 {
        case 1, -2: number += "0"; e -= 1
        case 2, -1: number += "00"; e -= 2
        default: break
        }
        if f == .decimalExponent {
            return e == 0 ? number : number + "e" + String(e)
        }
        switch e {
        case -9: return number + "n"
        case -6: return number + "u"
        case -3: return number + "m"
        case 0: return number
        case 3: return number + "k"
        case 6: return number + "M"
        case 9: return number + "G"
        case 12: return number + "T"
        case 15: return number + "P"
        case 18: return number + "E"
        default:
            if e > 18 && e - 18 <= 30 { return number + String(repeating: "0", count: e - 18) + "E" }
            return number + "e" + String(e)
        }
    }
}

/// A minimal arbitrary-precision unsigned integer for exact binary-suffix parsing; sizes are
/// bounded by `Quantity.maximumTextLength`.
struct BigUInt {
    var limbs: [UInt32] = [] // little-endian, no leading zero limbs

    init(decimalDigits: [UInt8]) {
        for d in decimalDigits { multiply(by: 10, adding: UInt32(d - 0x30)) }
    }

    var isZero: Bool { limbs.isEmpty }

    mutating func multiply(by m: UInt32, adding a: UInt32) {
        var carry = UInt64(a)
        for i in limbs.indices {
            let p = UInt64(limbs[i]) * UInt64(m) + carry
            limbs[i] = UInt32(truncatingIfNeeded: p)
            carry = p >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
    }

    /// Divides in place, returning the remainder.
    mutating func divide(by d: UInt32) -> UInt32 {
        var rem: UInt64 = 0
        for i in limbs.indices.reversed() {
            let cur = (rem << 32) | UInt64(limbs[i])
            limbs[i] = UInt32(truncatingIfNeeded: cur / UInt64(d))
            rem = cur % UInt64(d)
        }
        while let last = limbs.last, last == 0 { limbs.removeLast() }
        return UInt32(truncatingIfNeeded: rem)
    }

    var int128Value: Int128? {
        guard limbs.count <= 4 else { return nil }
        var v: UInt128 = 0
        for limb in limbs.reversed() { v = v << 32 | UInt128(limb) }
        return Int128(exactly: v)
    }
}
