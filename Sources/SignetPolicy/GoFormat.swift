import Foundation
import SignetPrimitives

/// Renders values the way Go's `fmt` `%v` does for decoded JSON (`map[k:v]`, `[a b]`, `<nil>`),
/// so Kyverno's messages come out identical.
enum GoFormat {
    static func v(_ value: JSONValue?) -> String {
        guard let value else { return "<nil>" }
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return float(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map { v($0) }.joined(separator: " ") + "]"
        case .object(let o): return "map[" + o.keys.sorted().map { "\($0):\(v(o[$0]))" }.joined(separator: " ") + "]"
        }
    }

    /// Go's `%v` for float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with Go's exponent threshold of 21).
    static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "+Inf" : "-Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (digits, exp) = shortestDigits(d)
        let neg = d < 0 ? "-" : ""
        // %v uses %g with shortest precision; exponent form when exp < -4 || exp >= 21
        if exp < -4 || exp >= 21 {
            var m = String(digits.first!)
            if digits.count > 1 { m += "." + digits.dropFirst() }
            let e = exp
            return neg + m + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
        }
        if exp < 0 {
            return neg + "0." + String(repeating: "0", count: -exp - 1) + digits
        }
        if digits.count <= exp + 1 {
            return neg + digits + String(repeating: "0", count: exp + 1 - digits.count)
        }
        let idx = digits.index(digits.startIndex, offsetBy: exp + 1)
        return neg + digits[..<idx] + "." + digits[idx...]
    }

    /// Go's `strconv.FormatFloat(f, 'E', -1, 64)`, e.g. 80 -> `8E+01`.
    static func floatE(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "+Inf" : "-Inf" }
        if d == 0 { return (d.sign == .minus ? "-" : "") + "0E+00" }
        let (digits, exp) = shortestDigits(d)
        var m = String(digits.first!)
        if digits.count > 1 { m += "." + digits.dropFirst() }
        return (d < 0 ? "-" : "") + m + "E" + (exp < 0 ? "-" : "+") + (abs(exp) < 10 ? "0" : "") + String(abs(exp))
    }

    /// The shortest decimal digits that round-trip, and the decimal exponent of the first digit.
    static func shortestDigits(_ d: Double) -> (String, Int) {
        let a = abs(d)
        for p in 0...16 {
            let s = String(format: "%.\(p)e", a)
            if Double(s) == a {
                let parts = s.split(separator: "e")
                let mant = parts[0].replacingOccurrences(of: ".", with: "")
                var digits = mant
                while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
                return (digits, Int(parts[1]) ?? 0)
            }
        }
        return ("0", 0)
    }
}
