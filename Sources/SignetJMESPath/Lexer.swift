import SignetPrimitives

/// The kinds of tokens of the JMESPath grammar (spec: "Grammar").
enum TokenKind: Sendable, Equatable {
    case unquotedIdentifier, quotedIdentifier, number, literal, rawString
    case dot, star, flatten, filter, lbracket, rbracket, lbrace, rbrace, lparen, rparen
    case comma, colon, pipe, or, and, not, expref, current
    case eq, ne, lt, lte, gt, gte
    case eof

    /// Left binding power for the Pratt parser; the values follow the spec's precedence table
    /// (pipe < or < and < comparators < flatten < star < filter < dot < not < { < [ < ().
    var bindingPower: Int {
        switch self {
        case .pipe: return 1
        case .or: return 2
        case .and: return 3
        case .eq, .ne, .lt, .lte, .gt, .gte: return 5
        case .flatten: return 9
        case .star: return 20
        case .filter: return 21
        case .dot: return 40
        case .not: return 45
        case .lbrace: return 50
        case .lbracket: return 55
        case .lparen: return 60
        default: return 0
        }
    }
}

/// One lexical token with its decoded payload.
struct Token: Sendable {
    var kind: TokenKind
    /// Identifier name or raw string text.
    var text: String = ""
    /// Number tokens (indices, slice bounds).
    var number: Int = 0
    /// JSON literal tokens.
    var value: JSONValue = .null
    /// Byte offset in the expression, for messages.
    var position: Int
}

/// Splits an expression into tokens (spec: "Lexical grammar"); every failure is a `syntax` error.
struct Lexer {
    private let bytes: [UInt8]
    private var i = 0

    init(_ expression: String) { bytes = Array(expression.utf8) }

    private func fail(_ message: String, at pos: Int) -> JMESPathError {
        JMESPathError(.syntax, "\(message) at position \(pos)")
    }

    mutating func tokenize() throws -> [Token] {
        var out: [Token] = []
        while true {
            let t = try next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    private func peek(_ k: Int = 0) -> UInt8? {
        let j = i + k
        return j < bytes.count ? bytes[j] : nil
    }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    private static func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private mutating func next() throws -> Token {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        let start = i
        guard let c = peek() else { return Token(kind: .eof, position: start) }
        func simple(_ k: TokenKind, _ len: Int = 1) -> Token {
            i += len
            return Token(kind: k, position: start)
        }
        switch c {
        case UInt8(ascii: "."): return simple(.dot)
        case UInt8(ascii: "*"): return simple(.star)
        case UInt8(ascii: ","): return simple(.comma)
        case UInt8(ascii: ":"): return simple(.colon)
        case UInt8(ascii: "{"): return simple(.lbrace)
        case UInt8(ascii: "}"): return simple(.rbrace)
        case UInt8(ascii: "]"): return simple(.rbracket)
        case UInt8(ascii: "("): return simple(.lparen)
        case UInt8(ascii: ")"): return simple(.rparen)
        case UInt8(ascii: "@"): return simple(.current)
        case UInt8(ascii: "["):
            if peek(1) == UInt8(ascii: "]") { return simple(.flatten, 2) }
            if peek(1) == UInt8(ascii: "?") { return simple(.filter, 2) }
            return simple(.lbracket)
        case UInt8(ascii: "|"):
            return peek(1) == UInt8(ascii: "|") ? simple(.or, 2) : simple(.pipe)
        case UInt8(ascii: "&"):
            return peek(1) == UInt8(ascii: "&") ? simple(.and, 2) : simple(.expref)
        case UInt8(ascii: "!"):
            return peek(1) == UInt8(ascii: "=") ? simple(.ne, 2) : simple(.not)
        case UInt8(ascii: "<"):
            return peek(1) == UInt8(ascii: "=") ? simple(.lte, 2) : simple(.lt)
        case UInt8(ascii: ">"):
            return peek(1) == UInt8(ascii: "=") ? simple(.gte, 2) : simple(.gt)
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") { return simple(.eq, 2) }
            throw fail("unexpected '=' (did you mean '==')", at: start)
        case UInt8(ascii: "\""): return try quotedIdentifier()
        case UInt8(ascii: "'"): return try rawString()
        case UInt8(ascii: "`"): return try jsonLiteral()
        case UInt8(ascii: "-"):
            guard let d = peek(1), Lexer.isDigit(d) else { throw fail("'-' must be followed by a digit", at: start) }
            return try number()
        default:
            if Lexer.isDigit(c) { return try number() }
            if Lexer.isIdentStart(c) {
                while let p = peek(), Lexer.isIdentPart(p) { i += 1 }
                return Token(kind: .unquotedIdentifier, text: String(decoding: bytes[start..<i], as: UTF8.self), position: start)
            }
            throw fail("unexpected character", at: start)
        }
    }

    private mutating func number() throws -> Token {
        let start = i
        if peek() == UInt8(ascii: "-") { i += 1 }
        while let p = peek(), Lexer.isDigit(p) { i += 1 }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        // Out-of-range numbers are syntax errors rather than silently wrapped values.
        guard let n = Int(text) else { throw fail("number out of range", at: start) }
        return Token(kind: .number, number: n, position: start)
    }

    /// Bytes up to the closing `delimiter`, honouring backslash escapes; the index ends after it.
    private mutating func delimited(_ delimiter: UInt8) throws -> ArraySlice<UInt8> {
        let start = i
        i += 1
        while let c = peek() {
            if c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if c == delimiter {
                let body = bytes[(start + 1)..<i]
                i += 1
                return body
            }
            i += 1
        }
        throw fail("unterminated \(String(UnicodeScalar(delimiter)))", at: start)
    }

    private mutating func quotedIdentifier() throws -> Token {
        let start = i
        let body = try delimited(UInt8(ascii: "\""))
        // A quoted identifier is a JSON string (spec: quoted-string).
        guard case .string(let s)? = try? JSONValue(json: "\"" + String(decoding: body, as: UTF8.self) + "\"") else {
            throw fail("invalid quoted identifier", at: start)
        }
        return Token(kind: .quotedIdentifier, text: s, position: start)
    }

    private mutating func rawString() throws -> Token {
        let start = i
        let body = try delimited(UInt8(ascii: "'"))
        // Only `\'` is an escape in raw string literals; other backslashes stay (spec: raw-string-escape).
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var k = body.startIndex
        while k < body.endIndex {
            if body[k] == UInt8(ascii: "\\"), k + 1 < body.endIndex, body[k + 1] == UInt8(ascii: "'") {
                out.append(UInt8(ascii: "'"))
                k += 2
                continue
            }
            out.append(body[k])
            k += 1
        }
        return Token(kind: .rawString, text: String(decoding: out, as: UTF8.self), position: start)
    }

    private mutating func jsonLiteral() throws -> Token {
        let start = i
        let body = try delimited(UInt8(ascii: "`"))
        var raw: [UInt8] = []
        raw.reserveCapacity(body.count)
        var k = body.startIndex
        while k < body.endIndex {
            if body[k] == UInt8(ascii: "\\"), k + 1 < body.endIndex, body[k + 1] == UInt8(ascii: "`") {
                raw.append(UInt8(ascii: "`"))
                k += 2
                continue
            }
            raw.append(body[k])
            k += 1
        }
        let text = String(decoding: raw, as: UTF8.self)
        if let v = try? JSONValue(json: text) {
            return Token(kind: .literal, value: v, position: start)
        }
        // Legacy form (spec: "literal" deprecation note): text that is not JSON is a string.
        let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if let v = try? JSONValue(json: "\"" + trimmed + "\"") {
            return Token(kind: .literal, value: v, position: start)
        }
        throw fail("invalid JSON literal", at: start)
    }
}
