import Foundation
import SignetPrimitives

/// Go's number formatting where Kyverno's behaviour depends on it (strconv).
enum GoFormat {
    /// Shortest digits and decimal exponent of a finite, positive double's shortest representation.
    static func digits(_ text: String) -> (digits: [UInt8], pointPosition: Int) {
        var mantissa = Substring(text)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp10 = Int(text[text.index(after: e)...]) ?? 0
        }
        var ds: [UInt8] = []
        var point = 0
        var sawPoint = false
        for c in mantissa.utf8 {
            if c == UInt8(ascii: ".") { sawPoint = true; continue }
            guard c >= 0x30, c <= 0x39 else { continue }
            ds.append(c)
            if !sawPoint { point += 1 }
        }
        while let f = ds.first, f == 0x30, ds.count > 1 { ds.removeFirst(); point -= 1 }
        while let l = ds.last, l == 0x30, ds.count > 1 { ds.removeLast() }
        return (ds, point + exp10)
    }

    static func positional(_ ds: [UInt8], _ point: Int, negative: Bool) -> String {
        var s = negative ? "-" : ""
        if ds == [0x30] { return "0" }
        if point <= 0 {
            s += "0." + String(repeating: "0", count: -point) + String(decoding: ds, as: UTF8.self)
        } else if point >= ds.count {
            s += String(decoding: ds, as: UTF8.self) + String(repeating: "0", count: point - ds.count)
        } else {
            s += String(decoding: ds[0..<point], as: UTF8.self) + "." + String(decoding: ds[point...], as: UTF8.self)
        }
        return s
    }

    /// `strconv.FormatFloat(d, 'f', -1, 32)`: shortest float32 digits, positional notation.
    static func float32Fixed(_ d: Double) -> String {
        let f = Float(d)
        if f.isNaN { return "NaN" }
        if f.isInfinite { return f < 0 ? "-Inf" : "+Inf" }
        if f == 0 { return f.sign == .minus ? "-0" : "0" }
        let (ds, point) = digits("\(f.magnitude)")
        return positional(ds, point, negative: f < 0)
    }

    /// `strconv.FormatFloat(d, 'f', -1, 64)`.
    static func float64Fixed(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (ds, point) = digits("\(d.magnitude)")
        return positional(ds, point, negative: d < 0)
    }

    /// `fmt.Sprintf("%g", d)` / `%v` of a float64: shortest digits, exponent form when the
    /// exponent is < -4 or >= 21 (%v) or >= 6... Go's %v uses %g with the shortest precision and
    /// switches at exponent 21.
    static func percentV(_ d: Double) -> String { general(d, exponentThreshold: 21) }

    /// `fmt.Sprintf("%g", d)`.
    static func percentG(_ d: Double) -> String { general(d, exponentThreshold: 21) }

    static func general(_ d: Double, exponentThreshold: Int) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (ds, point) = digits("\(d.magnitude)")
        let exp = point - 1
        if exp < -4 || exp >= exponentThreshold {
            var s = d < 0 ? "-" : ""
            s += String(decoding: ds[0..<1], as: UTF8.self)
            if ds.count > 1 { s += "." + String(decoding: ds[1...], as: UTF8.self) }
            s += exp < 0 ? "e-" : "e+"
            let mag = exp.magnitude
            if mag < 10 { s += "0" }
            s += String(mag)
            return s
        }
        return positional(ds, point, negative: d < 0)
    }
}

/// Go's `strings` functions with Go's exact semantics (byte-wise, rune-aware where Go is).
enum GoStrings {
    /// `strings.ToUpper`/`ToLower`: per-rune simple case mapping; runes whose full mapping is
    /// longer than one rune are kept, as Go's simple mapping does (e.g. "ß").
    static func mapCase(_ s: String, upper: Bool) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if u.isASCII {
                let v = u.value
                if upper, v >= 0x61, v <= 0x7A, let m = Unicode.Scalar(v - 32) { out.append(m); continue }
                if !upper, v >= 0x41, v <= 0x5A, let m = Unicode.Scalar(v + 32) { out.append(m); continue }
                out.append(u)
                continue
            }
            let mapped = upper ? u.properties.uppercaseMapping : u.properties.lowercaseMapping
            let scalars = mapped.unicodeScalars
            if scalars.count == 1, let m = scalars.first { out.append(m) } else { out.append(u) }
        }
        return String(out)
    }

    /// `strings.EqualFold`: equal under simple Unicode case folding.
    static func equalFold(_ a: String, _ b: String) -> Bool {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            if fold(p) != fold(q) { return false }
        }
        return true
    }

    private static func fold(_ u: Unicode.Scalar) -> Unicode.Scalar {
        let l = u.properties.lowercaseMapping.unicodeScalars
        let lower = l.count == 1 ? (l.first ?? u) : u
        let up = lower.properties.uppercaseMapping.unicodeScalars
        let upper = up.count == 1 ? (up.first ?? lower) : lower
        let l2 = upper.properties.lowercaseMapping.unicodeScalars
        return l2.count == 1 ? (l2.first ?? upper) : upper
    }

    /// `strings.Replace(s, old, new, n)`; n < 0 replaces all. Output size is charged.
    static func replace(_ s: String, _ old: String, _ new: String, _ n: Int, _ ctx: inout JMESPathContext) throws -> String {
        let h = Array(s.utf8), o = Array(old.utf8), r = Array(new.utf8)
        if n == 0 || (o == r) { return s }
        var out: [UInt8] = []
        var count = 0
        if o.isEmpty {
            // Go inserts `new` before every rune and at the end, up to n times.
            var i = 0
            let scalars = Array(s.unicodeScalars)
            for u in scalars {
                if n < 0 || count < n {
                    try ctx.charge(r.count)
                    out.append(contentsOf: r)
                    count += 1
                }
                out.append(contentsOf: Array(String(u).utf8))
                i += 1
            }
            if n < 0 || count < n {
                try ctx.charge(r.count)
                out.append(contentsOf: r)
            }
            return String(decoding: out, as: UTF8.self)
        }
        var start = 0
        while n < 0 || count < n, let at = StringOps.find(h, o, from: start) {
            try ctx.charge(r.count + at - start)
            out.append(contentsOf: h[start..<at])
            out.append(contentsOf: r)
            start = at + o.count
            count += 1
        }
        out.append(contentsOf: h[start...])
        return String(decoding: out, as: UTF8.self)
    }

    /// `strings.Trim(s, cutset)`: drops leading and trailing runes found in `cutset`.
    static func trim(_ s: String, cutset: String) -> String {
        let set = Set(cutset.unicodeScalars)
        let u = Array(s.unicodeScalars)
        var lo = 0, hi = u.count
        while lo < hi, set.contains(u[lo]) { lo += 1 }
        while hi > lo, set.contains(u[hi - 1]) { hi -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: u[lo..<hi])
        return String(out)
    }

    /// `strings.Split(s, sep)`; an empty separator splits into runes.
    static func split(_ s: String, _ sep: String, _ ctx: inout JMESPathContext) throws -> [String] {
        try ctx.charge(s.utf8.count + 1)
        if sep.isEmpty { return s.unicodeScalars.map { String($0) } }
        let h = Array(s.utf8), p = Array(sep.utf8)
        var out: [String] = []
        var start = 0
        while let at = StringOps.find(h, p, from: start) {
            out.append(String(decoding: h[start..<at], as: UTF8.self))
            start = at + p.count
        }
        out.append(String(decoding: h[start...], as: UTF8.self))
        return out
    }
}

/// Go's `path.Clean` (Unix `filepath.Clean`).
enum GoPath {
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(comp)
                }
                continue
            }
            parts.append(comp)
        }
        let body = parts.joined(separator: "/")
        if rooted { return "/" + body }
        return body.isEmpty ? "." : body
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, CR/LF ignored.
enum GoBase64 {
    static func decode(_ s: String) throws -> [UInt8] {
        var clean: [UInt8] = []
        clean.reserveCapacity(s.utf8.count)
        for c in s.utf8 where c != 0x0A && c != 0x0D { clean.append(c) }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x41...0x5A: return c - 0x41
            case 0x61...0x7A: return c - 0x61 + 26
            case 0x30...0x39: return c - 0x30 + 52
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
        func fail(_ at: Int) -> JMESPathError {
            JMESPathError(.functionFailed, "illegal base64 data at input byte \(at)")
        }
        var out: [UInt8] = []
        var i = 0
        while i < clean.count {
            var quad: [UInt8] = []
            var pad = 0
            for k in 0..<4 {
                let j = i + k
                guard j < clean.count else { throw fail(j == i ? i : clean.count) }
                let c = clean[j]
                if c == UInt8(ascii: "=") {
                    // Padding only in the last two positions of the final quantum.
                    guard k >= 2 else { throw fail(j) }
                    pad += 1
                    continue
                }
                guard pad == 0, let v = value(c) else { throw fail(j) }
                quad.append(v)
            }
            if pad > 0 && i + 4 != clean.count { throw fail(i + 4) }
            if pad == 1 && quad.count != 3 { throw fail(i + 3) }
            if pad == 2 && quad.count != 2 { throw fail(i + 2) }
            let b0 = quad[0] << 2 | (quad.count > 1 ? quad[1] >> 4 : 0)
            out.append(b0)
            if quad.count > 2 { out.append((quad[1] & 0x0F) << 4 | quad[2] >> 2) }
            if quad.count > 3 { out.append((quad[2] & 0x03) << 6 | quad[3]) }
            i += 4
        }
        return out
    }
}

/// Kyverno's wildcard matching (`ext/wildcard`, go-wildcard): `*` any run of characters,
/// `?` exactly one character; linear-space, O(n·m) worst case, no exponential backtracking.
enum KyvernoWildcard {
    static func match(pattern: String, name: String) -> Bool {
        if pattern.isEmpty { return name.isEmpty }
        if pattern == "*" { return true }
        let p = Array(pattern.unicodeScalars), s = Array(name.unicodeScalars)
        var pi = 0, si = 0
        var star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == "?" || (p[pi] != "*" && p[pi] == s[si]) {
                pi += 1
                si += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = si
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
