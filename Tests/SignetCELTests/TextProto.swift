// A schema-less reader for the protobuf text format, enough for the cel-spec conformance files.
// Reference: https://protobuf.dev/reference/protobuf/textformat-spec/
//
// Without the schema a scalar keeps its lexical form (string bytes, identifier or number text); the
// conformance model interprets it according to the field it belongs to.

import Foundation

/// The one error type of the text-format reader.
struct TextProtoError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    struct Code: Hashable, Sendable {
        let rawValue: String
        static let syntax = Code(rawValue: "syntax")
        static let tooDeep = Code(rawValue: "too-deep")
        static let badEscape = Code(rawValue: "bad-escape")
        static let badValue = Code(rawValue: "bad-value")
    }

    let code: Code
    let message: String
    let line: Int

    var description: String { "textproto \(code.rawValue) at line \(line): \(message)" }
}

/// A scalar in its lexical form.
enum TextProtoScalar: Sendable, Equatable {
    /// A (possibly concatenated) quoted string, unescaped to bytes.
    case string([UInt8])
    /// A bare identifier such as `true`, `NULL_VALUE`, `inf`.
    case identifier(String)
    /// A number literal including its sign, e.g. `-12`, `0x1F`, `1.5e3`, `-inf`.
    case number(String)
}

/// A field value: a scalar or a nested message.
enum TextProtoValue: Sendable {
    case scalar(TextProtoScalar)
    case message(TextProtoMessage)
}

/// One field occurrence. `name` is the field name, or the bracketed name of an extension or an
/// expanded `Any` (`[type.googleapis.com/google.protobuf.Duration]`) with `isBracketed` set.
struct TextProtoField: Sendable {
    let name: String
    let isBracketed: Bool
    let value: TextProtoValue
}

/// A message: its field occurrences in order (repeated fields occur several times).
struct TextProtoMessage: Sendable {
    var fields: [TextProtoField] = []

    /// All values of the field `name`.
    func all(_ name: String) -> [TextProtoValue] {
        fields.filter { !$0.isBracketed && $0.name == name }.map(\.value)
    }

    /// The last value of the field `name` (text format: the last occurrence of a singular field wins).
    func value(_ name: String) -> TextProtoValue? {
        fields.last { !$0.isBracketed && $0.name == name }?.value
    }

    /// The last nested message of field `name`.
    func message(_ name: String) -> TextProtoMessage? {
        if case .message(let m)? = value(name) { return m }
        return nil
    }

    /// The nested messages of the repeated field `name`.
    func messages(_ name: String) -> [TextProtoMessage] {
        all(name).compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    /// The scalar of field `name`.
    func scalar(_ name: String) -> TextProtoScalar? {
        if case .scalar(let s)? = value(name) { return s }
        return nil
    }

    /// The string field `name` decoded as UTF-8 (lossy on invalid UTF-8, which the files do not contain).
    func string(_ name: String) -> String? {
        guard case .string(let bytes)? = scalar(name) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A bool field: `true`/`false`/`t`/`f`/`True`/`False`/`1`/`0`.
    func bool(_ name: String) -> Bool {
        switch scalar(name) {
        case .identifier(let s)?: return s == "true" || s == "True" || s == "t"
        case .number(let n)?: return n == "1"
        default: return false
        }
    }

    /// Has a field named `name`.
    func has(_ name: String) -> Bool { value(name) != nil }

    /// Whether the message has no field at all.
    var isEmpty: Bool { fields.isEmpty }
}

extension TextProtoScalar {
    /// Signed 64-bit integer value (decimal, hex `0x`, octal `0`).
    var int64: Int64? {
        guard case .number(let text) = self else { return nil }
        var t = Substring(text)
        var negative = false
        if t.hasPrefix("-") { negative = true; t = t.dropFirst() }
        guard let magnitude = Self.parseUnsigned(t) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard let v = Int64(exactly: magnitude) else { return nil }
            return -v
        }
        return Int64(exactly: magnitude)
    }

    /// Unsigned 64-bit integer value.
    var uint64: UInt64? {
        guard case .number(let text) = self, !text.hasPrefix("-") else { return nil }
        return Self.parseUnsigned(Substring(text))
    }

    /// Double value: numbers, `inf`, `-inf`, `infinity`, `nan` (case-insensitive), with an optional `f` suffix.
    var double: Double? {
        let text: String
        switch self {
        case .number(let n): text = n
        case .identifier(let i): text = i
        case .string: return nil
        }
        var t = Substring(text.lowercased())
        var negative = false
        if t.hasPrefix("-") { negative = true; t = t.dropFirst() }
        let magnitude: Double?
        if t == "inf" || t == "infinity" {
            magnitude = .infinity
        } else if t == "nan" {
            magnitude = .nan
        } else if t.hasPrefix("0x") {
            magnitude = Self.parseUnsigned(t).map(Double.init)
        } else {
            if t.hasSuffix("f") { t = t.dropLast() }
            magnitude = Double(t)
        }
        guard let m = magnitude else { return nil }
        return negative ? -m : m
    }

    /// An identifier's text.
    var identifier: String? {
        if case .identifier(let s) = self { return s }
        return nil
    }

    private static func parseUnsigned(_ t: Substring) -> UInt64? {
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
        if t.count > 1, t.hasPrefix("0") { return UInt64(t.dropFirst(), radix: 8) }
        return UInt64(t, radix: 10)
    }
}

/// Parses protobuf text format into a `TextProtoMessage`.
struct TextProtoParser {
    /// Nesting bound: the conformance files nest a few levels; hostile input must not exhaust the stack.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1

    /// Parses a whole text-format document.
    static func parse(_ text: String) throws(TextProtoError) -> TextProtoMessage {
        var parser = TextProtoParser(bytes: Array(text.utf8))
        let message = try parser.parseFields(depth: 0, terminator: nil)
        return message
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ code: TextProtoError.Code, _ message: String) -> TextProtoError {
        TextProtoError(code: code, message: message, line: line)
    }

    // MARK: lexing helpers

    private mutating func skipSpaceAndComments() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\n") {
                line += 1
                pos += 1
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while pos < bytes.count, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            } else {
                return
            }
        }
    }

    private var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func consume(_ c: Character) -> Bool {
        skipSpaceAndComments()
        guard let ascii = c.asciiValue, peek == ascii else { return false }
        pos += 1
        return true
    }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
    }

    private static func isIdentChar(_ c: UInt8) -> Bool {
        isIdentStart(c) || (c >= 0x30 && c <= 0x39)
    }

    private mutating func identifier() -> String? {
        skipSpaceAndComments()
        guard let c = peek, Self.isIdentStart(c) else { return nil }
        let start = pos
        while let c = peek, Self.isIdentChar(c) { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    // MARK: grammar

    private mutating func parseFields(depth: Int, terminator: UInt8?) throws(TextProtoError) -> TextProtoMessage {
        guard depth <= Self.maxDepth else { throw fail(.tooDeep, "nesting deeper than \(Self.maxDepth)") }
        var message = TextProtoMessage()
        while true {
            skipSpaceAndComments()
            guard let c = peek else {
                if terminator != nil { throw fail(.syntax, "unexpected end of input inside a message") }
                return message
            }
            if let t = terminator, c == t {
                pos += 1
                return message
            }
            // Field name: identifier or [extension.or/any.url].
            let name: String
            var bracketed = false
            if c == UInt8(ascii: "[") {
                pos += 1
                let start = pos
                while let d = peek, d != UInt8(ascii: "]") {
                    if d == UInt8(ascii: "\n") { line += 1 }
                    pos += 1
                }
                guard peek == UInt8(ascii: "]") else { throw fail(.syntax, "unterminated [name]") }
                name = String(decoding: bytes[start..<pos], as: UTF8.self)
                    .filter { !$0.isWhitespace }
                pos += 1
                bracketed = true
            } else if let ident = identifier() {
                name = ident
            } else {
                throw fail(.syntax, "expected a field name, found '\(Character(Unicode.Scalar(c)))'")
            }
            let hadColon = consume(":")
            let values = try parseFieldValue(depth: depth, hadColon: hadColon)
            for v in values {
                message.fields.append(TextProtoField(name: name, isBracketed: bracketed, value: v))
            }
            // Optional separators.
            if !consume(";") { _ = consume(",") }
        }
    }

    /// A field value; a `[a, b]` list yields several values (repeated field shorthand).
    private mutating func parseFieldValue(depth: Int, hadColon: Bool) throws(TextProtoError) -> [TextProtoValue] {
        guard depth <= Self.maxDepth else { throw fail(.tooDeep, "nesting deeper than \(Self.maxDepth)") }
        skipSpaceAndComments()
        guard let c = peek else { throw fail(.syntax, "missing field value") }
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "<") {
            pos += 1
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
            return [.message(try parseFields(depth: depth + 1, terminator: close))]
        }
        guard hadColon else { throw fail(.syntax, "scalar field value without ':'") }
        if c == UInt8(ascii: "[") {
            pos += 1
            var values: [TextProtoValue] = []
            if consume("]") { return values }
            while true {
                values.append(contentsOf: try parseFieldValue(depth: depth + 1, hadColon: true))
                if consume("]") { return values }
                guard consume(",") else { throw fail(.syntax, "expected ',' or ']' in a list") }
            }
        }
        return [.scalar(try parseScalar())]
    }

    private mutating func parseScalar() throws(TextProtoError) -> TextProtoScalar {
        skipSpaceAndComments()
        guard let c = peek else { throw fail(.syntax, "missing scalar") }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            var out: [UInt8] = []
            // Adjacent string literals concatenate.
            while true {
                skipSpaceAndComments()
                guard let q = peek, q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") else { break }
                pos += 1
                try readQuoted(quote: q, into: &out)
            }
            return .string(out)
        }
        if c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || (c >= 0x30 && c <= 0x39) {
            if c == UInt8(ascii: "-") {
                pos += 1
                skipSpaceAndComments()
            }
            let bodyStart = pos
            while let d = peek,
                  Self.isIdentChar(d) || d == UInt8(ascii: ".")
                    || ((d == UInt8(ascii: "+") || d == UInt8(ascii: "-"))
                        && pos > bodyStart && (bytes[pos - 1] | 0x20) == UInt8(ascii: "e")
                        && !(bytes[bodyStart...].starts(with: Array("0x".utf8))))
            {
                pos += 1
            }
            guard pos > bodyStart else { throw fail(.badValue, "bad number") }
            let sign = c == UInt8(ascii: "-") ? "-" : ""
            return .number(sign + String(decoding: bytes[bodyStart..<pos], as: UTF8.self))
        }
        if let ident = identifier() { return .identifier(ident) }
        throw fail(.syntax, "unexpected character '\(Character(Unicode.Scalar(c)))'")
    }

    private mutating func readQuoted(quote: UInt8, into out: inout [UInt8]) throws(TextProtoError) {
        while true {
            guard let c = peek else { throw fail(.syntax, "unterminated string") }
            pos += 1
            if c == quote { return }
            if c == UInt8(ascii: "\n") { throw fail(.syntax, "newline in string") }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard let e = peek else { throw fail(.badEscape, "dangling backslash") }
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"):
                out.append(e)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                // Up to three octal digits: one byte.
                var value = UInt32(e - 0x30)
                var n = 1
                while n < 3, let d = peek, d >= 0x30, d <= 0x37 {
                    value = value * 8 + UInt32(d - 0x30)
                    pos += 1
                    n += 1
                }
                guard value <= 0xFF else { throw fail(.badEscape, "octal escape above \\377") }
                out.append(UInt8(value))
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var value: UInt32 = 0
                var n = 0
                while n < 2, let d = peek, let h = Self.hexDigit(d) {
                    value = value * 16 + h
                    pos += 1
                    n += 1
                }
                guard n > 0 else { throw fail(.badEscape, "\\x without digits") }
                out.append(UInt8(value))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = e == UInt8(ascii: "u") ? 4 : 8
                var value: UInt32 = 0
                for _ in 0..<count {
                    guard let d = peek, let h = Self.hexDigit(d) else {
                        throw fail(.badEscape, "short unicode escape")
                    }
                    value = value &* 16 &+ h
                    pos += 1
                }
                guard let scalar = Unicode.Scalar(value) else { throw fail(.badEscape, "invalid code point") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail(.badEscape, "unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
    }

    private static func hexDigit(_ d: UInt8) -> UInt32? {
        switch d {
        case 0x30...0x39: return UInt32(d - 0x30)
        case 0x41...0x46: return UInt32(d - 0x41 + 10)
        case 0x61...0x66: return UInt32(d - 0x61 + 10)
        default: return nil
        }
    }
}
