import Foundation

// The strings extension (cel-go `ext.Strings`, cel-spec doc/extensions/strings.md). Indexes count
// Unicode code points, as in cel-go.

extension CELExtensions {
    /// String functions: `charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`,
    /// `substring`, `trim`, `join`, `reverse`, `format`, `strings.quote`.
    public static let strings = CELLibrary(name: "cel.lib.ext.strings", functions: [
        CELFunction("charAt",
            Ext.method("string_char_at_int", [.string, .int], cost: Ext.linear()) { _, a in
                StringsExt.charAt(a[0], a[1])
            }),
        CELFunction("indexOf",
            Ext.method("string_index_of_string", [.string, .string], cost: Ext.linear()) { _, a in
                StringsExt.indexOf(a[0], a[1], nil)
            },
            Ext.method("string_index_of_string_int", [.string, .string, .int], cost: Ext.linear()) { _, a in
                StringsExt.indexOf(a[0], a[1], a[2])
            }),
        CELFunction("lastIndexOf",
            Ext.method("string_last_index_of_string", [.string, .string], cost: Ext.linear()) { _, a in
                StringsExt.lastIndexOf(a[0], a[1], nil)
            },
            Ext.method("string_last_index_of_string_int", [.string, .string, .int], cost: Ext.linear()) { _, a in
                StringsExt.lastIndexOf(a[0], a[1], a[2])
            }),
        CELFunction("lowerAscii",
            Ext.method("string_lower_ascii", [.string], cost: Ext.linear()) { _, a in
                StringsExt.mapASCII(a[0], upper: false)
            }),
        CELFunction("upperAscii",
            Ext.method("string_upper_ascii", [.string], cost: Ext.linear()) { _, a in
                StringsExt.mapASCII(a[0], upper: true)
            }),
        CELFunction("replace",
            Ext.method("string_replace_string_string", [.string, .string, .string], cost: Ext.linear()) { c, a in
                StringsExt.replace(c, a[0], a[1], a[2], .int(-1))
            },
            Ext.method("string_replace_string_string_int", [.string, .string, .string, .int],
                       cost: Ext.linear()) { c, a in
                StringsExt.replace(c, a[0], a[1], a[2], a[3])
            }),
        CELFunction("split",
            Ext.method("string_split_string", [.string, .string], cost: Ext.linear()) { c, a in
                StringsExt.split(c, a[0], a[1], .int(-1))
            },
            Ext.method("string_split_string_int", [.string, .string, .int], cost: Ext.linear()) { c, a in
                StringsExt.split(c, a[0], a[1], a[2])
            }),
        CELFunction("substring",
            Ext.method("string_substring_int", [.string, .int], cost: Ext.linear()) { _, a in
                StringsExt.substring(a[0], a[1], nil)
            },
            Ext.method("string_substring_int_int", [.string, .int, .int], cost: Ext.linear()) { _, a in
                StringsExt.substring(a[0], a[1], a[2])
            }),
        CELFunction("trim",
            Ext.method("string_trim", [.string], cost: Ext.linear()) { _, a in StringsExt.trim(a[0]) }),
        CELFunction("join",
            Ext.method("list_join", [.list(.string)], cost: Ext.perElement) { c, a in
                StringsExt.join(c, a[0], .string(""))
            },
            Ext.method("list_join_string", [.list(.string), .string], cost: Ext.perElement) { c, a in
                StringsExt.join(c, a[0], a[1])
            }),
        CELFunction("reverse",
            Ext.method("string_reverse", [.string], cost: Ext.linear()) { _, a in StringsExt.reverse(a[0]) }),
        CELFunction("strings.quote",
            Ext.function("strings_quote", [.string], cost: Ext.linear()) { _, a in StringsExt.quote(a[0]) }),
        CELFunction("format",
            Ext.method("string_format", [.string, .list(.dyn)], cost: Ext.linear()) { c, a in
                StringsExt.format(c, a[0], a[1])
            }),
    ])
}

enum StringsExt {
    /// The largest string a strings function builds (64 MiB).
    static let maxOutputBytes: Int64 = 64 << 20

    static func rangeError(_ i: Int64) -> CELValue { Ext.fail("index out of range: \(i)") }

    static func charAt(_ s: CELValue, _ i: CELValue) -> CELValue {
        guard case .string(let str) = s, case .int(let index) = i else { return Ext.noOverload("charAt") }
        let scalars = Array(str.unicodeScalars)
        guard index >= 0, let n = Ext.index(index), n <= scalars.count else { return rangeError(index) }
        if n == scalars.count { return .string("") }
        return .string(String(scalars[n]))
    }

    /// Position of `needle` in `hay` at or after `from`, in code points. Knuth-Morris-Pratt, so a search
    /// costs O(hay + needle) whatever the input (a naive scan is quadratic on hostile strings).
    static func find(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int,
                     table: [Int]? = nil) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        guard hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        let fail = table ?? failureTable(needle)
        var k = 0
        var i = from
        while i < hay.count {
            while k > 0, hay[i] != needle[k] { k = fail[k - 1] }
            if hay[i] == needle[k] { k += 1 }
            if k == needle.count { return i - needle.count + 1 }
            i += 1
        }
        return nil
    }

    /// KMP failure function: for each prefix length, the longest proper prefix that is also a suffix.
    static func failureTable(_ needle: [Unicode.Scalar]) -> [Int] {
        var fail = [Int](repeating: 0, count: needle.count)
        var k = 0
        var i = 1
        while i < needle.count {
            while k > 0, needle[i] != needle[k] { k = fail[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            fail[i] = k
            i += 1
        }
        return fail
    }

    static func indexOf(_ s: CELValue, _ sub: CELValue, _ offset: CELValue?) -> CELValue {
        guard case .string(let str) = s, case .string(let subStr) = sub else { return Ext.noOverload("indexOf") }
        let hay = Array(str.unicodeScalars)
        let needle = Array(subStr.unicodeScalars)
        var start = 0
        if let offset {
            guard case .int(let o) = offset else { return Ext.noOverload("indexOf") }
            guard o >= 0, let n = Ext.index(o), n <= hay.count else { return rangeError(o) }
            start = n
        }
        guard let found = find(hay, needle, from: start) else { return .int(-1) }
        return .int(Int64(found))
    }

    static func lastIndexOf(_ s: CELValue, _ sub: CELValue, _ offset: CELValue?) -> CELValue {
        guard case .string(let str) = s, case .string(let subStr) = sub else {
            return Ext.noOverload("lastIndexOf")
        }
        let hay = Array(str.unicodeScalars)
        let needle = Array(subStr.unicodeScalars)
        var last = hay.count
        if let offset {
            guard case .int(let o) = offset else { return Ext.noOverload("lastIndexOf") }
            guard o >= 0, let n = Ext.index(o), n <= hay.count else { return rangeError(o) }
            last = n
        }
        if needle.isEmpty { return .int(Int64(last)) }
        guard hay.count >= needle.count else { return .int(-1) }
        // The last match starting at or before `last` is the first match of the reversed needle in the
        // reversed text, starting from the mirrored position.
        let start = min(last, hay.count - needle.count)
        let reversedHay = Array(hay.reversed())
        let from = hay.count - (start + needle.count)
        guard let r = find(reversedHay, Array(needle.reversed()), from: from) else { return .int(-1) }
        return .int(Int64(hay.count - r - needle.count))
    }

    static func mapASCII(_ s: CELValue, upper: Bool) -> CELValue {
        guard case .string(let str) = s else { return Ext.noOverload(upper ? "upperAscii" : "lowerAscii") }
        var bytes = Array(str.utf8)
        for i in bytes.indices {
            let b = bytes[i]
            if upper, b >= 0x61, b <= 0x7A { bytes[i] = b - 0x20 }
            if !upper, b >= 0x41, b <= 0x5A { bytes[i] = b + 0x20 }
        }
        return .string(String(decoding: bytes, as: UTF8.self))
    }

    /// Go `strings.Replace` semantics: `limit < 0` replaces all, `0` none; an empty `old` matches before
    /// every code point and at the end.
    static func replace(_ c: CELEvaluationContext, _ s: CELValue, _ old: CELValue, _ new: CELValue,
                        _ limit: CELValue) -> CELValue {
        guard case .string(let str) = s, case .string(let oldStr) = old, case .string(let newStr) = new,
              case .int(let n) = limit
        else { return Ext.noOverload("replace") }
        if n == 0 || oldStr.utf8.elementsEqual(newStr.utf8) { return .string(str) }
        let hay = Array(str.unicodeScalars)
        let needle = Array(oldStr.unicodeScalars)
        // Find match positions first, so the output size can be charged before it is built.
        var matches: [Int] = []
        let table = failureTable(needle)
        var i = 0
        while n < 0 || Int64(matches.count) < n {
            if needle.isEmpty {
                guard i <= hay.count else { break }
                matches.append(i)
                i += 1
            } else {
                guard let f = find(hay, needle, from: i, table: table) else { break }
                matches.append(f)
                i = f + needle.count
            }
        }
        let (growth, overflow) = Int64(newStr.utf8.count).multipliedReportingOverflow(by: Int64(matches.count))
        // Output is bounded outright as well as charged, whatever budget the caller chose.
        guard !overflow, growth <= StringsExt.maxOutputBytes else { return Ext.fail("replace: result too large") }
        if let e = c.charge(growth / 10) { return .error(e) }
        var out = String.UnicodeScalarView()
        var pos = 0
        for m in matches {
            out.append(contentsOf: hay[pos..<m])
            out.append(contentsOf: newStr.unicodeScalars)
            pos = m + needle.count
        }
        if pos < hay.count { out.append(contentsOf: hay[pos...]) }
        return .string(String(out))
    }

    /// Go `strings.SplitN` semantics.
    static func split(_ c: CELEvaluationContext, _ s: CELValue, _ sep: CELValue, _ limit: CELValue) -> CELValue {
        guard case .string(let str) = s, case .string(let sepStr) = sep, case .int(let n) = limit else {
            return Ext.noOverload("split")
        }
        if n == 0 { return .list([]) }
        let hay = Array(str.unicodeScalars)
        let needle = Array(sepStr.unicodeScalars)
        var parts: [CELValue] = []
        if needle.isEmpty {
            var i = 0
            while i < hay.count {
                if n > 0, Int64(parts.count) == n - 1 {
                    parts.append(.string(String(String.UnicodeScalarView(hay[i...]))))
                    break
                }
                parts.append(.string(String(hay[i])))
                i += 1
            }
            if let e = c.charge(Int64(parts.count)) { return .error(e) }
            return .list(parts)
        }
        var pos = 0
        let table = failureTable(needle)
        while n < 0 || Int64(parts.count) < n - 1, let f = find(hay, needle, from: pos, table: table) {
            parts.append(.string(String(String.UnicodeScalarView(hay[pos..<f]))))
            pos = f + needle.count
        }
        parts.append(.string(String(String.UnicodeScalarView(hay[pos...]))))
        if let e = c.charge(Int64(parts.count)) { return .error(e) }
        return .list(parts)
    }

    static func substring(_ s: CELValue, _ start: CELValue, _ end: CELValue?) -> CELValue {
        guard case .string(let str) = s, case .int(let b) = start else { return Ext.noOverload("substring") }
        let scalars = Array(str.unicodeScalars)
        guard b >= 0, let bi = Ext.index(b), bi <= scalars.count else { return rangeError(b) }
        var ei = scalars.count
        if let end {
            guard case .int(let e) = end else { return Ext.noOverload("substring") }
            guard e >= 0, let en = Ext.index(e), en <= scalars.count else { return rangeError(e) }
            guard bi <= en else { return Ext.fail("invalid substring range. start: \(b), end: \(e)") }
            ei = en
        }
        return .string(String(String.UnicodeScalarView(scalars[bi..<ei])))
    }

    /// Trims Unicode White_Space code points from both ends.
    static func trim(_ s: CELValue) -> CELValue {
        guard case .string(let str) = s else { return Ext.noOverload("trim") }
        let scalars = Array(str.unicodeScalars)
        var lo = 0
        var hi = scalars.count
        while lo < hi, scalars[lo].properties.isWhitespace { lo += 1 }
        while hi > lo, scalars[hi - 1].properties.isWhitespace { hi -= 1 }
        return .string(String(String.UnicodeScalarView(scalars[lo..<hi])))
    }

    static func join(_ c: CELEvaluationContext, _ list: CELValue, _ sep: CELValue) -> CELValue {
        guard case .list(let items) = list, case .string(let separator) = sep else { return Ext.noOverload("join") }
        var out = ""
        var bytes: Int64 = 0
        for (i, item) in items.enumerated() {
            guard case .string(let part) = item else { return Ext.noOverload("join") }
            if i > 0 { out += separator }
            out += part
            bytes += Int64(part.utf8.count) + Int64(separator.utf8.count)
        }
        if let e = c.charge(bytes / 10) { return .error(e) }
        return .string(out)
    }

    static func reverse(_ s: CELValue) -> CELValue {
        guard case .string(let str) = s else { return Ext.noOverload("reverse") }
        return .string(String(String.UnicodeScalarView(str.unicodeScalars.reversed())))
    }

    /// `strings.quote`: a double-quoted CEL string literal with escapes for quotes, backslashes and
    /// control characters that have short escapes.
    static func quote(_ s: CELValue) -> CELValue {
        guard case .string(let str) = s else { return Ext.noOverload("strings.quote") }
        var out = "\""
        for ch in str.unicodeScalars {
            switch ch {
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out.unicodeScalars.append(ch)
            }
        }
        out += "\""
        return .string(out)
    }

    // MARK: format

    /// `string.format(list)`: `%[.precision]conversion` clauses (s d f e x X o b) and `%%`.
    static func format(_ c: CELEvaluationContext, _ fmt: CELValue, _ args: CELValue) -> CELValue {
        guard case .string(let pattern) = fmt, case .list(let values) = args else { return Ext.noOverload("format") }
        let chars = Array(pattern.unicodeScalars)
        var out = ""
        var i = 0
        var argIndex = 0
        while i < chars.count {
            let ch = chars[i]
            i += 1
            guard ch == "%" else {
                out.unicodeScalars.append(ch)
                continue
            }
            guard i < chars.count else {
                return Ext.fail("could not parse formatting clause: unexpected end of format string")
            }
            if chars[i] == "%" {
                out += "%"
                i += 1
                continue
            }
            var precision: Int?
            if chars[i] == "." {
                i += 1
                var p = 0
                var digits = 0
                while i < chars.count, chars[i].value >= 48, chars[i].value <= 57 {
                    let d = Int(chars[i].value - 48)
                    p = p * 10 + d
                    digits += 1
                    i += 1
                    // Precision is bounded so one clause cannot allocate without limit.
                    guard p <= 1000 else { return Ext.fail("could not parse formatting clause: precision too large") }
                }
                guard digits > 0 else {
                    return Ext.fail("could not parse formatting clause: missing precision")
                }
                precision = p
            }
            guard i < chars.count else {
                return Ext.fail("could not parse formatting clause: unexpected end of format string")
            }
            let verb = chars[i]
            i += 1
            guard "sdfexXob".unicodeScalars.contains(verb) else {
                return Ext.fail("could not parse formatting clause: unrecognized formatting clause \"\(verb)\"")
            }
            guard argIndex < values.count else { return Ext.fail("index \(argIndex) out of range") }
            let arg = values[argIndex]
            argIndex += 1
            let piece: Result<String, CELError>
            switch verb {
            case "s": piece = formatString(arg, depth: 0)
            case "d": piece = formatDecimal(arg)
            case "f": piece = formatFloating(arg, precision: precision ?? 6, scientific: false)
            case "e": piece = formatFloating(arg, precision: precision ?? 6, scientific: true)
            case "x": piece = formatHex(arg, upper: false)
            case "X": piece = formatHex(arg, upper: true)
            case "o": piece = formatRadix(arg, radix: 8, clause: "octal")
            default: piece = formatRadix(arg, radix: 2, clause: "binary")
            }
            switch piece {
            case .success(let text):
                out += text
                if let e = c.charge(Int64(text.utf8.count) / 10) { return .error(e) }
            case .failure(let e): return .error(e)
            }
        }
        return .string(out)
    }

    static func formattingError(_ message: String) -> CELError {
        CELError(.invalidArgument, "error during formatting: \(message)")
    }

    static func typeName(_ v: CELValue) -> String { v.celType.name }

    /// NaN and infinities print as `NaN`, `Infinity`, `-Infinity` in every numeric clause.
    static func specialDouble(_ d: Double) -> String? {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return nil
    }

    /// The shortest decimal representation without exponent and without insignificant zeros
    /// (`3.0` → `3`, `1e20` → `100000000000000000000`).
    static func plainDouble(_ d: Double) -> String {
        if let s = specialDouble(d) { return s }
        var text = "\(d)"
        if let eIndex = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let mantissa = String(text[..<eIndex])
            guard let exponent = Int(text[text.index(after: eIndex)...]) else { return text }
            var negative = false
            var digits = mantissa
            if digits.hasPrefix("-") {
                negative = true
                digits.removeFirst()
            }
            let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
            let intPart = parts.first.map(String.init) ?? ""
            let fracPart = parts.count > 1 ? String(parts[1]) : ""
            let all = intPart + fracPart
            let pointPosition = intPart.count + exponent
            var result: String
            if pointPosition <= 0 {
                result = "0." + String(repeating: "0", count: -pointPosition) + all
            } else if pointPosition >= all.count {
                result = all + String(repeating: "0", count: pointPosition - all.count)
            } else {
                let idx = all.index(all.startIndex, offsetBy: pointPosition)
                result = String(all[..<idx]) + "." + String(all[idx...])
            }
            text = (negative ? "-" : "") + result
        }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    static func formatString(_ v: CELValue, depth: Int) -> Result<String, CELError> {
        guard depth < 32 else { return .failure(formattingError("value nested too deeply")) }
        switch v {
        case .null: return .success("null")
        case .bool(let b): return .success(b ? "true" : "false")
        case .int(let i): return .success(String(i))
        case .uint(let u): return .success(String(u))
        case .double(let d): return .success(plainDouble(d))
        case .string(let s): return .success(s)
        case .bytes(let b): return .success(String(decoding: b, as: UTF8.self))
        case .type(let t): return .success(t.name)
        case .timestamp(let t): return .success(ExtTime.rfc3339(t))
        case .duration(let d): return .success(ExtTime.seconds(d))
        case .list(let items):
            var parts: [String] = []
            for item in items {
                switch formatString(item, depth: depth + 1) {
                case .success(let s): parts.append(s)
                case .failure(let e): return .failure(e)
                }
            }
            return .success("[" + parts.joined(separator: ", ") + "]")
        case .map(let map):
            var entries: [(String, String)] = []
            for (k, value) in map {
                guard case .success(let ks) = formatString(k.value, depth: depth + 1) else {
                    return .failure(formattingError("bad map key"))
                }
                switch formatString(value, depth: depth + 1) {
                case .success(let vs): entries.append((ks, vs))
                case .failure(let e): return .failure(e)
                }
            }
            entries.sort { ExtCompare.lexicographic(Array($0.0.utf8), Array($1.0.utf8)) < 0 }
            return .success("{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}")
        case .error(let e): return .failure(e)
        default:
            return .failure(formattingError(
                "string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, "
                    + "durations, and timestamps, was given \(typeName(v))"))
        }
    }

    static func formatDecimal(_ v: CELValue) -> Result<String, CELError> {
        switch v {
        case .int(let i): return .success(String(i))
        case .uint(let u): return .success(String(u))
        case .double(let d):
            if let s = specialDouble(d) { return .success(s) }
            fallthrough
        default:
            return .failure(formattingError(
                "decimal clause can only be used on integers, was given \(typeName(v))"))
        }
    }

    static func formatFloating(_ v: CELValue, precision: Int, scientific: Bool) -> Result<String, CELError> {
        let d: Double
        switch v {
        case .double(let x): d = x
        case .int(let i): d = Double(i)
        case .uint(let u): d = Double(u)
        default:
            let clause = scientific ? "scientific" : "fixed-point"
            return .failure(formattingError(
                "\(clause) clause can only be used on doubles, was given \(typeName(v))"))
        }
        if let s = specialDouble(d) { return .success(s) }
        // printf rounds the exact binary value half-to-even, as the spec asks.
        return .success(String(format: scientific ? "%.*e" : "%.*f", precision, d))
    }

    static func signedRadix(_ v: CELValue, radix: Int, upper: Bool) -> String? {
        switch v {
        case .int(let i):
            let magnitude = String(i.magnitude, radix: radix, uppercase: upper)
            return i < 0 ? "-" + magnitude : magnitude
        case .uint(let u): return String(u, radix: radix, uppercase: upper)
        default: return nil
        }
    }

    static func formatHex(_ v: CELValue, upper: Bool) -> Result<String, CELError> {
        if let s = signedRadix(v, radix: 16, upper: upper) { return .success(s) }
        let bytes: [UInt8]
        switch v {
        case .string(let s): bytes = Array(s.utf8)
        case .bytes(let b): bytes = b
        default:
            return .failure(formattingError(
                "only integers, byte buffers, and strings can be formatted as hex, was given \(typeName(v))"))
        }
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").unicodeScalars)
        var out = String.UnicodeScalarView()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return .success(String(out))
    }

    static func formatRadix(_ v: CELValue, radix: Int, clause: String) -> Result<String, CELError> {
        if let s = signedRadix(v, radix: radix, upper: false) { return .success(s) }
        if radix == 2, case .bool(let b) = v { return .success(b ? "1" : "0") }
        if radix == 2 {
            return .failure(formattingError("only integers and bools can be formatted as binary, was given \(typeName(v))"))
        }
        return .failure(formattingError("\(clause) clause can only be used on integers, was given \(typeName(v))"))
    }
}

/// Time formatting for the extensions (RFC 3339, durations in seconds).
enum ExtTime {
    /// RFC 3339 in UTC with the fractional seconds trimmed of trailing zeros (Go `time.RFC3339Nano`).
    static func rfc3339(_ t: CELTimestamp) -> String {
        let (year, month, day, _, secOfDay) = t.utc
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secOfDay / 3600, 2)):"
            + "\(pad(secOfDay % 3600 / 60, 2)):\(pad(secOfDay % 60, 2))"
        if t.nanos != 0 {
            var frac = pad(Int64(t.nanos), 9)
            while frac.hasSuffix("0") { frac.removeLast() }
            text += "." + frac
        }
        return text + "Z"
    }

    /// A duration as decimal seconds with an `s` suffix (`6347s`, `1.5s`).
    static func seconds(_ d: CELDuration) -> String {
        let negative = d.nanoseconds < 0
        let magnitude = negative ? -d.nanoseconds : d.nanoseconds
        let whole = magnitude / 1_000_000_000
        let frac = magnitude % 1_000_000_000
        var text = (negative ? "-" : "") + String(whole)
        if frac != 0 {
            var f = String(frac)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            text += "." + f
        }
        return text + "s"
    }
}
