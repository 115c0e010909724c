/// A Go `time.Duration`: a signed count of nanoseconds that fits `Int64`, parsed exactly as
/// `time.ParseDuration` parses and printed as `Duration.String()` prints.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in nanoseconds.
    public var nanoseconds: Int64

    /// A duration of `nanoseconds`.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Parses Go duration text: an optional sign, then one or more decimal numbers (with optional
    /// fraction) each followed by a unit `ns`, `us` (`µs`, `μs`), `ms`, `s`, `m` or `h`, e.g.
    /// `1h2m3.5s`, `-1.5h`, `300ms`; `0` alone needs no unit. Out-of-range values throw
    /// `PrimitivesError(.invalidDuration)` with Go's message, never trap.
    public init(parsing text: String) throws {
        let s = Array(text.utf8)
        func invalid() -> PrimitivesError {
            PrimitivesError(.invalidDuration, "time: invalid duration \(GoDuration.quote(text))")
        }
        var i = 0
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        if s.count - i == 1 && s[i] == UInt8(ascii: "0") {
            self.nanoseconds = 0
            return
        }
        guard i < s.count else { throw invalid() }
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < s.count {
            guard s[i] == UInt8(ascii: ".") || isDigit(s[i]) else { throw invalid() }
            // Integer part (Go's leadingInt): overflow beyond 2^63 is an error.
            var v: UInt64 = 0
            let intStart = i
            while i < s.count, isDigit(s[i]) {
                guard v <= limit / 10 else { throw invalid() }
                v = v * 10 + UInt64(s[i] - 0x30)
                guard v <= limit else { throw invalid() }
                i += 1
            }
            let pre = i != intStart
            // Fraction (Go's leadingFraction): precision stops accumulating on overflow.
            var f: UInt64 = 0
            var scale = 1.0
            var post = false
            if i < s.count, s[i] == UInt8(ascii: ".") {
                i += 1
                let fracStart = i
                var overflow = false
                while i < s.count, isDigit(s[i]) {
                    defer { i += 1 }
                    if overflow { continue }
                    if f > (limit - 1) / 10 { overflow = true; continue }
                    let y = f * 10 + UInt64(s[i] - 0x30)
                    if y > limit { overflow = true; continue }
                    f = y
                    scale *= 10
                }
                post = i != fracStart
            }
            guard pre || post else { throw invalid() }
            // Unit: everything up to the next digit or '.'.
            let unitStart = i
            while i < s.count, !(s[i] == UInt8(ascii: ".") || isDigit(s[i])) { i += 1 }
            guard i > unitStart else {
                throw PrimitivesError(.invalidDuration, "time: missing unit in duration \(GoDuration.quote(text))")
            }
            let unitBytes = Array(s[unitStart..<i])
            guard let unit = GoDuration.unit(unitBytes) else {
                let u = String(decoding: unitBytes, as: UTF8.self)
                throw PrimitivesError(.invalidDuration,
                                      "time: unknown unit \(GoDuration.quote(u)) in duration \(GoDuration.quote(text))")
            }
            guard v <= limit / unit else { throw invalid() }
            v *= unit
            if f > 0 {
                // Go computes the fraction in float64 (nanosecond-accurate up to hours) and truncates.
                let frac = Double(f) * (Double(unit) / scale)
                guard frac.isFinite, frac >= 0, frac < 1.8e19, let add = UInt64(exactly: frac.rounded(.towardZero)) else {
                    throw invalid()
                }
                let (sum, o) = v.addingReportingOverflow(add)
                guard !o, sum <= limit else { throw invalid() }
                v = sum
            }
            let (sum, o) = total.addingReportingOverflow(v)
            guard !o, sum <= limit else { throw invalid() }
            total = sum
        }
        if negative {
            // -2^63 is representable.
            if total == limit {
                self.nanoseconds = .min
            } else {
                self.nanoseconds = -Int64(total)
            }
            return
        }
        guard total <= UInt64(Int64.max) else { throw invalid() }
        self.nanoseconds = Int64(total)
    }

    private static func unit(_ u: [UInt8]) -> UInt64? {
        switch u {
        case Array("ns".utf8): return 1
        case Array("us".utf8), Array("µs".utf8), Array("μs".utf8): return 1_000
        case Array("ms".utf8): return 1_000_000
        case Array("s".utf8): return 1_000_000_000
        case Array("m".utf8): return 60_000_000_000
        case Array("h".utf8): return 3_600_000_000_000
        default: return nil
        }
    }

    /// Go's `time.quote`: control and non-ASCII characters as `\xHH` per UTF-8 byte.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 || u.value >= 0x80 {
                    for b in String(u).utf8 {
                        out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Go's `Duration.String()`: `72h3m0.5s`, `1.5µs`, `300ms`, `0s`.
    public var description: String {
        let negative = nanoseconds < 0
        var u = nanoseconds.magnitude
        var text = ""
        if u < 1_000_000_000 {
            if u == 0 { return "0s" }
            let unit: String
            let prec: Int
            if u < 1_000 { unit = "ns"; prec = 0 } else if u < 1_000_000 { unit = "µs"; prec = 3 } else { unit = "ms"; prec = 6 }
            let (frac, rest) = GoDuration.fraction(u, prec)
            text = String(rest) + frac + unit
        } else {
            let (frac, rest) = GoDuration.fraction(u, 9)
            u = rest
            text = String(u % 60) + frac + "s"
            u /= 60
            if u > 0 {
                text = String(u % 60) + "m" + text
                u /= 60
                if u > 0 { text = String(u) + "h" + text }
            }
        }
        return negative ? "-" + text : text
    }

    /// Go's `fmtFrac`: the fraction of `v / 10^prec` without trailing zeros (empty if zero), and
    /// the integer part.
    private static func fraction(_ v: UInt64, _ prec: Int) -> (String, UInt64) {
        var v = v
        var digits: [Character] = []
        var printed = false
        for _ in 0..<prec {
            let digit = v % 10
            printed = printed || digit != 0
            if printed { digits.append(Character(Unicode.Scalar(UInt8(48 + digit)))) }
            v /= 10
        }
        if !printed { return ("", v) }
        return ("." + String(digits.reversed()), v)
    }

    /// The same length as a Swift `Duration`.
    public var swiftDuration: Duration { .nanoseconds(nanoseconds) }

    /// Orders by length.
    public static func < (a: GoDuration, b: GoDuration) -> Bool { a.nanoseconds < b.nanoseconds }
}
