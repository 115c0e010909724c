import Foundation

/// Go's `time.ParseDuration`: a signed sequence of decimal numbers with units
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), or `0`. Returns nanoseconds.
enum GoDuration {
    static func parse(_ input: String) -> Double? {
        var s = Substring(input)
        var negative = false
        if let f = s.first, f == "-" || f == "+" { negative = f == "-"; s = s.dropFirst() }
        if s == "0" { return 0 }
        if s.isEmpty { return nil }
        var total = 0.0
        while !s.isEmpty {
            var num = ""
            while let c = s.first, c.isASCII, c.isNumber || c == "." { num.append(c); s = s.dropFirst() }
            guard !num.isEmpty, num != ".", let v = Double(num) else { return nil }
            var unit = ""
            while let c = s.first, !(c.isASCII && (c.isNumber || c == ".")) { unit.append(c); s = s.dropFirst() }
            let mult: Double
            switch unit {
            case "ns": mult = 1
            case "us", "µs", "μs": mult = 1e3
            case "ms": mult = 1e6
            case "s": mult = 1e9
            case "m": mult = 60e9
            case "h": mult = 3600e9
            default: return nil
            }
            total += v * mult
        }
        return negative ? -total : total
    }
}

/// A Kubernetes `resource.Quantity` parsed exactly (decimal mantissa and suffix), comparable.
struct KubeQuantity: Comparable, Sendable {
    let value: Decimal
    static let binary: [Decimal] = (1...6).map { pow(Decimal(1024), $0) }

    static func < (a: KubeQuantity, b: KubeQuantity) -> Bool { a.value < b.value }

    /// Parses `<signedNumber><suffix>`; suffixes: binary (Ki..Ei), decimal (n u m "" k M G T P E),
    /// or a decimal exponent (`e3`, `E-2`).
    init?(parsing input: String) {
        var s = Substring(input)
        guard !s.isEmpty else { return nil }
        var sign = ""
        if let f = s.first, f == "+" || f == "-" { if f == "-" { sign = "-" }; s = s.dropFirst() }
        var digits = ""
        var sawDot = false, sawDigit = false
        while let c = s.first {
            if c.isASCII && c.isNumber { digits.append(c); sawDigit = true; s = s.dropFirst() }
            else if c == "." && !sawDot { sawDot = true; digits.append(c); s = s.dropFirst() }
            else { break }
        }
        guard sawDigit else { return nil }
        // mantissa = integer digits scaled by 10^-fractionDigits (exact, no string parsing)
        var significand: UInt64 = 0
        var exponent = 0
        var overflow = false
        var afterDot = false
        for u in digits.utf8 {
            if u == UInt8(ascii: ".") { afterDot = true; continue }
            let (m, o1) = significand.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(u - 48))
            if o1 || o2 { overflow = true; break }
            significand = a
            if afterDot { exponent -= 1 }
        }
        let mantissa: Decimal
        if overflow {
            guard let m = Decimal(string: sign + (digits.hasPrefix(".") ? "0" + digits : digits), locale: Locale(identifier: "en_US_POSIX")) else { return nil }
            mantissa = m
        } else {
            mantissa = Decimal(sign: sign == "-" ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
        }
        let suffix = String(s)
        var factor: Decimal = 1
        switch suffix {
        case "": factor = 1
        case "Ki": factor = KubeQuantity.binary[0]
        case "Mi": factor = KubeQuantity.binary[1]
        case "Gi": factor = KubeQuantity.binary[2]
        case "Ti": factor = KubeQuantity.binary[3]
        case "Pi": factor = KubeQuantity.binary[4]
        case "Ei": factor = KubeQuantity.binary[5]
        case "n": factor = Decimal(sign: .plus, exponent: -9, significand: 1)
        case "u": factor = Decimal(sign: .plus, exponent: -6, significand: 1)
        case "m": factor = Decimal(sign: .plus, exponent: -3, significand: 1)
        case "k": factor = Decimal(sign: .plus, exponent: 3, significand: 1)
        case "M": factor = Decimal(sign: .plus, exponent: 6, significand: 1)
        case "G": factor = Decimal(sign: .plus, exponent: 9, significand: 1)
        case "T": factor = Decimal(sign: .plus, exponent: 12, significand: 1)
        case "P": factor = Decimal(sign: .plus, exponent: 15, significand: 1)
        case "E": factor = Decimal(sign: .plus, exponent: 18, significand: 1)
        default:
            guard let f = suffix.first, f == "e" || f == "E" else { return nil }
            let rest = suffix.dropFirst()
            guard !rest.isEmpty, let e = Int(rest), abs(e) < 300 else { return nil }
            factor = Decimal(sign: .plus, exponent: e, significand: 1)
        }
        value = mantissa * factor
    }
}
