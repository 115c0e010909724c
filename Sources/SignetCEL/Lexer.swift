/// Tokens of CEL's lexis (langdef "Syntax": IDENT, LITERAL, operators).
enum Token: Equatable, Sendable {
    case ident(String)
    case int(UInt64)          // magnitude; sign is applied by the parser (so -9223372036854775808 parses)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case punct(String)        // operators and delimiters
    case quoted(String)       // `field name` (backtick-quoted selector)
    case eof
}

struct LexedToken: Sendable {
    let token: Token
    let offset: Int
}

/// Splits source text into tokens; errors carry the UTF-8 offset.
struct Lexer {
    let bytes: [UInt8]
    var pos = 0

    init(_ source: String) { bytes = Array(source.utf8) }

    struct Failure: Error {
        let message: String
        let offset: Int
    }

    static let pairs: Set<String> = ["==", "!=", "<=", ">=", "&&", "||"]
    static let singles: Set<UInt8> = Set("+-*/%!<>?:.,()[]{}".utf8)

    static let reserved: Set<String> = ["as", "break", "const", "continue", "else", "for", "function", "if",
                                        "import", "let", "loop", "package", "namespace", "return", "var",
                                        "void", "while"]

    mutating func tokenize() throws(Failure) -> [LexedToken] {
        var out: [LexedToken] = []
        while true {
            let t = try next(previous: out.last?.token)
            out.append(t)
            if t.token == .eof { return out }
        }
    }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let i = pos + ahead
        return i < bytes.count ? bytes[i] : nil
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
    static func isIdentStart(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 }
    static func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }

    mutating func skipTrivia() {
        while let c = peek() {
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 12 {
                pos += 1
            } else if c == 47, peek(1) == 47 {
                while let d = peek(), d != 10 { pos += 1 }
            } else {
                return
            }
        }
    }

    mutating func next(previous: Token?) throws(Failure) -> LexedToken {
        skipTrivia()
        let start = pos
        guard let c = peek() else { return LexedToken(token: .eof, offset: pos) }

        // String and bytes literals with optional r/b prefixes.
        if c == 34 || c == 39 {
            return LexedToken(token: try lexString(raw: false, isBytes: false), offset: start)
        }
        if Lexer.isIdentStart(c) {
            // Prefixes: r, b, rb, br (any case) directly followed by a quote.
            var raw = false
            var isBytes = false
            var j = pos
            while j < bytes.count, j - pos < 2 {
                let p = bytes[j] | 0x20
                if p == UInt8(ascii: "r"), !raw { raw = true; j += 1 }
                else if p == UInt8(ascii: "b"), !isBytes { isBytes = true; j += 1 }
                else { break }
            }
            if j > pos, j < bytes.count, bytes[j] == 34 || bytes[j] == 39 {
                pos = j
                return LexedToken(token: try lexString(raw: raw, isBytes: isBytes), offset: start)
            }
            while let d = peek(), Lexer.isIdentPart(d) { pos += 1 }
            let name = String(decoding: bytes[start..<pos], as: UTF8.self)
            return LexedToken(token: .ident(name), offset: start)
        }
        if c == 96 {
            // Backtick-quoted field names: `content-type` (selectors only).
            pos += 1
            let nameStart = pos
            while let d = peek(), d != 96, d != 10 { pos += 1 }
            guard peek() == 96, pos > nameStart else { throw Failure(message: "unterminated quoted identifier", offset: start) }
            let name = String(decoding: bytes[nameStart..<pos], as: UTF8.self)
            pos += 1
            return LexedToken(token: .quoted(name), offset: start)
        }
        if Lexer.isDigit(c) || (c == 46 && peek(1).map(Lexer.isDigit) == true && !Lexer.endsOperand(previous)) {
            return LexedToken(token: try lexNumber(), offset: start)
        }
        if let d = peek(1) {
            let pair = String(decoding: [c, d], as: UTF8.self)
            if Lexer.pairs.contains(pair) {
                pos += 2
                return LexedToken(token: .punct(pair), offset: start)
            }
        }
        if Lexer.singles.contains(c) {
            pos += 1
            return LexedToken(token: .punct(String(decoding: [c], as: UTF8.self)), offset: start)
        }
        throw Failure(message: "unexpected character '\(String(decoding: [c], as: UTF8.self))'", offset: start)
    }

    /// Whether the previous token ends an operand, so that `.5` after it is a selection, not a number.
    static func endsOperand(_ t: Token?) -> Bool {
        switch t {
        case .ident, .int, .uint, .double, .string, .bytes: return true
        case .punct(let p): return p == ")" || p == "]" || p == "}"
        default: return false
        }
    }

    mutating func lexNumber() throws(Failure) -> Token {
        let start = pos
        // Hexadecimal integers.
        if peek() == 48, let x = peek(1), x | 0x20 == UInt8(ascii: "x") {
            pos += 2
            let digitsStart = pos
            while let d = peek(), Lexer.isHex(d) { pos += 1 }
            guard pos > digitsStart else { throw Failure(message: "invalid hex literal", offset: start) }
            guard let v = UInt64(String(decoding: bytes[digitsStart..<pos], as: UTF8.self), radix: 16) else {
                throw Failure(message: "integer literal out of range", offset: start)
            }
            if let u = peek(), u | 0x20 == UInt8(ascii: "u") {
                pos += 1
                return .uint(v)
            }
            return .int(v)
        }
        var isFloat = false
        while let d = peek(), Lexer.isDigit(d) { pos += 1 }
        if peek() == 46, let d = peek(1), Lexer.isDigit(d) {
            isFloat = true
            pos += 1
            while let d = peek(), Lexer.isDigit(d) { pos += 1 }
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            var j = pos + 1
            if j < bytes.count, bytes[j] == 43 || bytes[j] == 45 { j += 1 }
            if j < bytes.count, Lexer.isDigit(bytes[j]) {
                isFloat = true
                pos = j
                while let d = peek(), Lexer.isDigit(d) { pos += 1 }
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isFloat {
            guard let d = Double(text) else { throw Failure(message: "invalid double literal", offset: start) }
            return .double(d)
        }
        guard let v = UInt64(text) else { throw Failure(message: "integer literal out of range", offset: start) }
        if let u = peek(), u | 0x20 == UInt8(ascii: "u") {
            pos += 1
            return .uint(v)
        }
        return .int(v)
    }

    mutating func lexString(raw: Bool, isBytes: Bool) throws(Failure) -> Token {
        let start = pos
        guard let quote = peek() else { throw Failure(message: "unterminated string", offset: start) }
        let triple = peek(1) == quote && peek(2) == quote
        pos += triple ? 3 : 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw Failure(message: "unterminated string literal", offset: start) }
            if c == quote {
                if !triple { pos += 1; break }
                if peek(1) == quote, peek(2) == quote { pos += 3; break }
                out.append(c)
                pos += 1
                continue
            }
            if !triple, c == 10 || c == 13 {
                throw Failure(message: "newline in string literal", offset: pos)
            }
            if c == 92, !raw {
                try lexEscape(into: &out, isBytes: isBytes)
                continue
            }
            if c == 92, raw {
                // A raw string still cannot end at an escaped quote of its own kind? No: raw keeps the backslash.
                out.append(c)
                pos += 1
                continue
            }
            out.append(c)
            pos += 1
        }
        if isBytes { return .bytes(out) }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(message: "invalid UTF-8 in string literal", offset: start)
        }
        return .string(s)
    }

    /// Escapes (langdef ESCAPE). In strings, `\x`/octal denote code points; in bytes, single bytes.
    mutating func lexEscape(into out: inout [UInt8], isBytes: Bool) throws(Failure) {
        let start = pos
        pos += 1
        guard let c = peek() else { throw Failure(message: "unterminated escape", offset: start) }
        pos += 1
        func append(scalar value: UInt32) throws(Failure) {
            if isBytes, value <= 0xFF, !(c == UInt8(ascii: "u") || c == UInt8(ascii: "U")) {
                out.append(UInt8(value))
                return
            }
            guard let s = Unicode.Scalar(value) else {
                throw Failure(message: "invalid unicode code point in escape", offset: start)
            }
            out.append(contentsOf: Array(String(Character(s)).utf8))
        }
        func hex(_ n: Int) throws(Failure) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<n {
                guard let d = peek(), Lexer.isHex(d) else { throw Failure(message: "invalid escape sequence", offset: start) }
                let digit: UInt32 = Lexer.isDigit(d) ? UInt32(d - 48) : UInt32((d | 0x20) - 87)
                v = v << 4 | digit
                pos += 1
            }
            return v
        }
        switch c {
        case UInt8(ascii: "a"): out.append(7)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "v"): out.append(11)
        case 92, 39, 34, 63, 96: out.append(c)   // \\ \' \" \? \`
        case UInt8(ascii: "x"), UInt8(ascii: "X"): try append(scalar: try hex(2))
        case UInt8(ascii: "u"):
            if isBytes { throw Failure(message: "\\u escape not allowed in bytes literal", offset: start) }
            try append(scalar: try hex(4))
        case UInt8(ascii: "U"):
            if isBytes { throw Failure(message: "\\U escape not allowed in bytes literal", offset: start) }
            try append(scalar: try hex(8))
        case 48...51:
            guard let d1 = peek(), d1 >= 48, d1 <= 55, let d2 = peek(1), d2 >= 48, d2 <= 55 else {
                throw Failure(message: "invalid octal escape", offset: start)
            }
            pos += 2
            try append(scalar: UInt32(c - 48) << 6 | UInt32(d1 - 48) << 3 | UInt32(d2 - 48))
        default:
            throw Failure(message: "invalid escape sequence", offset: start)
        }
    }
}
