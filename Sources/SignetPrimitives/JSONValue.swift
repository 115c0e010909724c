import Foundation

/// A JSON document as a value: what policies, patterns and Kubernetes resources are made of.
///
/// Integers and floating-point numbers are kept apart (`integer` vs `number`) because Kyverno's
/// pattern semantics depend on it (Go's `int64` vs `float64`). Object keys are unordered; the engine
/// sorts keys wherever Kyverno's evaluation order matters.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object, or nil (also for non-objects).
    @inlinable public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The object's members, or nil.
    @inlinable public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The array's elements, or nil.
    @inlinable public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The string, or nil.
    @inlinable public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The boolean, or nil.
    @inlinable public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value as a Double when it is a number.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// The value following `keys` through nested objects.
    public func value(at keys: [String]) -> JSONValue? {
        var cur: JSONValue = self
        for k in keys {
            guard let next = cur[k] else { return nil }
            cur = next
        }
        return cur
    }

    /// A map of string values (labels, annotations); non-string members are dropped.
    public var stringMap: [String: String] {
        guard let o = objectValue else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in o { if case .string(let s) = v { out[k] = s } }
        return out
    }

    /// Same document with every integer turned into a floating-point number, as the Kyverno CLI
    /// does to resources it loads (`convertNumericValuesToFloat64`).
    public func integersAsNumbers() -> JSONValue {
        switch self {
        case .integer(let i): return .number(Double(i))
        case .array(let a): return .array(a.map { $0.integersAsNumbers() })
        case .object(let o): return .object(o.mapValues { $0.integersAsNumbers() })
        default: return self
        }
    }

    /// A short name of the JSON type, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .integer: return "int64"
        case .number: return "float64"
        case .string: return "string"
        case .array: return "array"
        case .object: return "map"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o: [String: JSONValue] = [:]
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A floating-point number.
    public init(floatLiteral value: Double) { self = .number(value) }
}

// MARK: - JSON text

extension JSONValue {
    /// The deepest nesting of arrays and objects the parser accepts.
    public static let maximumNestingDepth = 512

    /// Parses JSON text (RFC 8259). Integers without fraction or exponent that fit `Int64` become
    /// `.integer`, other numbers `.number`. Lone or mismatched `\u` surrogates and invalid UTF-8
    /// become U+FFFD as Go's encoding/json does. Throws `PrimitivesError(.invalidJSON)`; never traps.
    /// The caller bounds the total size.
    public init(json data: Data) throws {
        self = try data.withUnsafeBytes { try JSONValue(jsonBytes: $0) }
    }

    /// Parses JSON text from a string (see `init(json:)` for `Data`).
    public init(json text: String) throws {
        var text = text
        self = try text.withUTF8 { try JSONValue(jsonBytes: UnsafeRawBufferPointer($0)) }
    }

    /// Parses JSON text in place, without copying it first (a request body in a network buffer,
    /// say); see `init(json:)`.
    public init(jsonBytes: UnsafeRawBufferPointer) throws {
        var p = JSONTextParser(bytes: jsonBytes.assumingMemoryBound(to: UInt8.self))
        self = try p.parseDocument()
    }

    /// Compact JSON text with object keys sorted (stable output), in Go's form without HTML
    /// escaping (`jsonString(sortedKeys: true, escapeHTML: false)`).
    public var jsonString: String {
        var out: [UInt8] = []
        writeJSON(into: &out, sortedKeys: true, escapeHTML: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON text as Go's `json.Marshal` prints it: keys sorted when `sortedKeys`
    /// (Go always sorts map keys), `<`, `>`, `&` escaped as `\u003c` etc. when `escapeHTML`,
    /// U+2028 and U+2029 always escaped, floating-point numbers in Go's format (`1e+21`, `1e-7`,
    /// `0.000001`). Non-finite numbers, which Go refuses to encode, are written as `null`.
    public func jsonString(sortedKeys: Bool, escapeHTML: Bool = true) -> String {
        var out: [UInt8] = []
        writeJSON(into: &out, sortedKeys: sortedKeys, escapeHTML: escapeHTML)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `jsonString`'s bytes to `out` (no intermediate string: replies written on the
    /// hot path).
    public func appendJSON(to out: inout [UInt8]) {
        writeJSON(into: &out, sortedKeys: true, escapeHTML: false)
    }

    func writeJSON(into out: inout [UInt8], sortedKeys: Bool, escapeHTML: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .number(let d): out.append(contentsOf: JSONValue.goFloatString(d).utf8)
        case .string(let s): JSONValue.writeString(s, into: &out, escapeHTML: escapeHTML)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                e.writeJSON(into: &out, sortedKeys: sortedKeys, escapeHTML: escapeHTML)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let pairs: [(key: String, value: JSONValue)] = sortedKeys
                ? o.sorted { $0.key < $1.key }
                : o.map { (key: $0.key, value: $0.value) }
            for (i, kv) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(kv.key, into: &out, escapeHTML: escapeHTML)
                out.append(UInt8(ascii: ":"))
                kv.value.writeJSON(into: &out, sortedKeys: sortedKeys, escapeHTML: escapeHTML)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Go's `encodeState.string`, over UTF-8 bytes.
    static func writeString(_ s: String, into out: inout [UInt8], escapeHTML: Bool) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: their bytes go out as they are, without a copy.
        let plain = s.utf8.allSatisfy { b in
            b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") && b != 0xE2
                && !(escapeHTML && (b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == UInt8(ascii: "&")))
        }
        if plain {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                if escapeHTML { appendUnicodeEscape(UInt32(b), into: &out) } else { out.append(b) }
            case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                // U+2028 and U+2029: escaped even without HTML escaping.
                appendUnicodeEscape(bytes[i + 2] == 0xA8 ? 0x2028 : 0x2029, into: &out)
                i += 2
            default:
                if b < 0x20 { appendUnicodeEscape(UInt32(b), into: &out) } else { out.append(b) }
            }
            i += 1
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ v: UInt32, into out: inout [UInt8]) {
        out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hexDigits[Int((v >> UInt32(shift)) & 0xF)])
        }
    }

    /// A float64 as Go's encoding/json prints it: shortest round-trip digits, positional notation
    /// for 1e-6 <= |d| < 1e21, otherwise exponent notation with `e-07` shortened to `e-7`.
    static func goFloatString(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        // Swift's description is also the shortest round-trip representation; re-layout its digits.
        let text = "\(d.magnitude)"
        var mantissa = Substring(text)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp10 = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits: [UInt8] = []
        var pointPos = 0 // digits before the decimal point
        var sawPoint = false
        for c in mantissa.utf8 {
            if c == UInt8(ascii: ".") { sawPoint = true; continue }
            guard c >= 0x30, c <= 0x39 else { continue }
            digits.append(c)
            if !sawPoint { pointPos += 1 }
        }
        // Strip leading zeros (moving the point) and trailing zeros.
        while let f = digits.first, f == 0x30, digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while let l = digits.last, l == 0x30, digits.count > 1 { digits.removeLast() }
        let sign = d.sign == .minus ? "-" : ""
        if digits == [0x30] { return sign + "0" }
        pointPos += exp10
        let abs = d.magnitude
        if abs < 1e-6 || abs >= 1e21 {
            // d.ddde±XX
            var s = sign + String(decoding: digits[0..<1], as: UTF8.self)
            if digits.count > 1 { s += "." + String(decoding: digits[1...], as: UTF8.self) }
            let e = pointPos - 1
            s += e < 0 ? "e-" : "e+"
            let mag = e.magnitude
            if e >= 0 && mag < 10 { s += "0" }
            s += String(mag)
            return s
        }
        var s = sign
        if pointPos <= 0 {
            s += "0." + String(repeating: "0", count: -pointPos) + String(decoding: digits, as: UTF8.self)
        } else if pointPos >= digits.count {
            s += String(decoding: digits, as: UTF8.self) + String(repeating: "0", count: pointPos - digits.count)
        } else {
            s += String(decoding: digits[0..<pointPos], as: UTF8.self) + "." + String(decoding: digits[pointPos...], as: UTF8.self)
        }
        return s
    }
}

/// A strict RFC 8259 parser over bytes with a nesting bound; every failure is a thrown error.
struct JSONTextParser {
    // Every read is guarded by an explicit `i < bytes.count` test (debug builds and the fuzzer
    // check the subscripts as well).
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    /// The members of the objects being parsed, innermost last.
    var members: [(String, JSONValue)] = []
    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        skipWS()
        let v = try parseValue(depth: 0)
        skipWS()
        guard i == bytes.count else { throw fail("unexpected data after JSON value") }
        return v
    }

    mutating func skipWS() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    func fail(_ m: String) -> PrimitivesError { PrimitivesError(.invalidJSON, "\(m) at offset \(i)") }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < JSONValue.maximumNestingDepth else { throw fail("nesting too deep") }
        guard i < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            // Members gather on one stack shared by every nesting level, then fill a dictionary
            // sized once: no rehashing as an object grows.
            let first = members.count
            defer { members.removeSubrange(first...) }
            try parseMembers { p, key in p.members.append((key, try p.parseValue(depth: depth + 1))) }
            var o = [String: JSONValue](minimumCapacity: members.count - first)
            for (key, value) in members[first...] { o[key] = value }  // a repeated key keeps its last value
            return .object(o)
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipWS()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipWS()
                a.append(try parseValue(depth: depth + 1))
                skipWS()
                guard i < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        default:
            return try parseNumber()
        }
    }

    /// An object's members, after its `{` and up to past its `}`: each key is read here, its
    /// value by `member` (the one member grammar of values and envelopes).
    mutating func parseMembers(_ member: (inout JSONTextParser, String) throws -> Void) throws {
        skipWS()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWS()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected object key") }
            let k = try parseString()
            skipWS()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipWS()
            try member(&self, k)
            skipWS()
            guard i < bytes.count else { throw fail("unexpected end of JSON") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func literal(_ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard bytes.count - i >= n else { throw fail("invalid literal") }
        let ok = s.withUTF8Buffer { lit in
            for k in 0..<n where bytes[i + k] != lit[k] { return false }
            return true
        }
        guard ok else { throw fail("invalid literal") }
        i += n
    }

    private func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }

    /// RFC 8259 section 6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func parseNumber() throws -> JSONValue {
        let start = i
        var isFloat = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw fail("invalid JSON value") }
        if bytes[i] == 0x30 { i += 1 } else { while isDigit(i) { i += 1 } }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            guard isDigit(i) else { throw fail("invalid number") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isFloat = true
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw fail("invalid number") }
            while isDigit(i) { i += 1 }
        }
        if !isFloat {
            // Integers accumulate in place; one that overflows Int64 is read as a float, as before.
            var v: Int64 = 0
            var overflow = false
            let negative = bytes[start] == UInt8(ascii: "-")
            for k in (negative ? start + 1 : start)..<i where !overflow {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let d = Int64(bytes[k] &- 0x30)
                let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                overflow = o1 || o2
                v = a
            }
            if !overflow { return .integer(v) }
        }
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let d = Double(s), d.isFinite else { throw fail("number out of range") }
        return .number(d)
    }

    mutating func parseString() throws -> String {
        i += 1
        // Fast path: no escape before the closing quote, the bytes become the string as they are.
        let start = i
        var j = i
        while j < bytes.count {
            let c = bytes[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                // Invalid UTF-8 decodes to U+FFFD, as in Go.
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            j += 1
        }
        var buf: [UInt8] = []
        buf.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<j]))
        i = j
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                // Invalid UTF-8 decodes to U+FFFD, as in Go.
                return String(decoding: buf, as: UTF8.self)
            }
            guard c >= 0x20 else { throw fail("invalid character in string literal") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): buf.append(0x22)
                case UInt8(ascii: "\\"): buf.append(0x5C)
                case UInt8(ascii: "/"): buf.append(0x2F)
                case UInt8(ascii: "b"): buf.append(0x08)
                case UInt8(ascii: "f"): buf.append(0x0C)
                case UInt8(ascii: "n"): buf.append(0x0A)
                case UInt8(ascii: "r"): buf.append(0x0D)
                case UInt8(ascii: "t"): buf.append(0x09)
                case UInt8(ascii: "u"):
                    let code = try hex4(at: i)
                    i += 4
                    var scalar: Unicode.Scalar = "\u{FFFD}"
                    if code >= 0xD800 && code < 0xDC00 {
                        // A high surrogate joins only with a following `\uDC00`-`\uDFFF`; otherwise it
                        // becomes U+FFFD and the next escape is read on its own (Go's unquote).
                        if bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                           let low = try? hex4(at: i + 2), low >= 0xDC00, low <= 0xDFFF {
                            i += 6
                            let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            scalar = Unicode.Scalar(combined) ?? "\u{FFFD}"
                        }
                    } else if let s = Unicode.Scalar(code) {
                        scalar = s // lone low surrogates fail `Unicode.Scalar(_:)` and stay U+FFFD
                    }
                    appendUTF8(scalar, to: &buf)
                default: throw fail("invalid escape")
                }
                continue
            }
            buf.append(c)
            i += 1
        }
        throw fail("unterminated string")
    }

    private func appendUTF8(_ s: Unicode.Scalar, to buf: inout [UInt8]) {
        buf.append(contentsOf: String(Character(s)).utf8)
    }

    func hex4(at: Int) throws -> UInt32 {
        guard bytes.count - at >= 4 else { throw fail("invalid \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }
}
