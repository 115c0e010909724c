/// Recursive-descent parser for CEL's grammar (langdef "Syntax"), with size and nesting limits.
struct Parser {
    let tokens: [LexedToken]
    let source: [UInt8]
    let maxDepth: Int
    var index = 0
    var nextID: Int64 = 1
    var recursion = 0

    struct Failure: Error {
        let message: String
        let offset: Int
    }

    static func parse(_ text: String, options: CELOptions) throws(CELError) -> Expr {
        let bytes = Array(text.utf8)
        guard bytes.count <= options.maxExpressionSize else {
            throw CELError(.parse, "expression size \(bytes.count) exceeds the limit of \(options.maxExpressionSize) bytes")
        }
        var lexer = Lexer(text)
        let tokens: [LexedToken]
        do {
            tokens = try lexer.tokenize()
        } catch {
            throw CELError(.parse, "syntax error: \(error.message)", position: position(error.offset, in: bytes))
        }
        var parser = Parser(tokens: tokens, source: bytes, maxDepth: options.maxNestingDepth)
        do throws(Failure) {
            let e = try parser.parseExpr()
            guard parser.current.token == .eof else {
                throw Failure(message: "unexpected \(describe(parser.current.token))", offset: parser.current.offset)
            }
            return e
        } catch {
            throw CELError(.parse, "syntax error: \(error.message)", position: position(error.offset, in: bytes))
        }
    }

    static func position(_ offset: Int, in bytes: [UInt8]) -> CELError.Position {
        var line = 1
        var column = 1
        var i = 0
        while i < offset, i < bytes.count {
            if bytes[i] == 10 { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return CELError.Position(line: line, column: column, offset: offset)
    }

    static func describe(_ t: Token) -> String {
        switch t {
        case .ident(let n): "'\(n)'"
        case .punct(let p): "'\(p)'"
        case .eof: "end of input"
        default: "literal"
        }
    }

    var current: LexedToken { tokens[index] }

    func isPunct(_ p: String, ahead: Int = 0) -> Bool {
        let i = index + ahead
        guard i < tokens.count else { return false }
        if case .punct(let q) = tokens[i].token { return q == p }
        return false
    }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    mutating func expect(_ p: String) throws(Failure) {
        guard isPunct(p) else {
            throw Failure(message: "expected '\(p)', found \(Parser.describe(current.token))", offset: current.offset)
        }
        advance()
    }

    mutating func make(_ kind: Expr.Kind, at offset: Int, children: [Expr]) throws(Failure) -> Expr {
        let height = (children.map(\.height).max() ?? 0) + 1
        guard height <= maxDepth else {
            throw Failure(message: "expression nesting exceeds the limit of \(maxDepth)", offset: offset)
        }
        let id = nextID
        nextID += 1
        return Expr(id: id, offset: offset, kind: kind, height: height)
    }

    mutating func call(_ function: String, _ args: [Expr], at offset: Int, target: Expr? = nil) throws(Failure) -> Expr {
        try make(.call(target: target, function: function, args: args), at: offset,
                 children: args + (target.map { [$0] } ?? []))
    }

    /// Counts recursion through `parseExpr` (every nested construct passes through it), bounding the stack.
    mutating func enter() throws(Failure) {
        recursion += 1
        guard recursion <= maxDepth else {
            throw Failure(message: "expression nesting exceeds the limit of \(maxDepth)", offset: current.offset)
        }
    }

    // Expr = ConditionalOr ["?" ConditionalOr ":" Expr]
    mutating func parseExpr() throws(Failure) -> Expr {
        try enter()
        defer { recursion -= 1 }
        let condition = try parseOr()
        guard isPunct("?") else { return condition }
        let offset = current.offset
        advance()
        let whenTrue = try parseOr()
        try expect(":")
        let whenFalse = try parseExpr()
        return try call(Operator.conditional, [condition, whenTrue, whenFalse], at: offset)
    }

    mutating func parseOr() throws(Failure) -> Expr {
        var left = try parseAnd()
        while isPunct("||") {
            let offset = current.offset
            advance()
            let right = try parseAnd()
            left = try call(Operator.logicalOr, [left, right], at: offset)
        }
        return left
    }

    mutating func parseAnd() throws(Failure) -> Expr {
        var left = try parseRelation()
        while isPunct("&&") {
            let offset = current.offset
            advance()
            let right = try parseRelation()
            left = try call(Operator.logicalAnd, [left, right], at: offset)
        }
        return left
    }

    mutating func parseRelation() throws(Failure) -> Expr {
        var left = try parseAddition()
        while true {
            let op: String
            switch current.token {
            case .punct("<"): op = Operator.less
            case .punct("<="): op = Operator.lessEquals
            case .punct(">"): op = Operator.greater
            case .punct(">="): op = Operator.greaterEquals
            case .punct("=="): op = Operator.equals
            case .punct("!="): op = Operator.notEquals
            case .ident("in"): op = Operator.in
            default: return left
            }
            let offset = current.offset
            advance()
            let right = try parseAddition()
            left = try call(op, [left, right], at: offset)
        }
    }

    mutating func parseAddition() throws(Failure) -> Expr {
        var left = try parseMultiplication()
        while true {
            let op: String
            switch current.token {
            case .punct("+"): op = Operator.add
            case .punct("-"): op = Operator.subtract
            default: return left
            }
            let offset = current.offset
            advance()
            let right = try parseMultiplication()
            left = try call(op, [left, right], at: offset)
        }
    }

    mutating func parseMultiplication() throws(Failure) -> Expr {
        var left = try parseUnary()
        while true {
            let op: String
            switch current.token {
            case .punct("*"): op = Operator.multiply
            case .punct("/"): op = Operator.divide
            case .punct("%"): op = Operator.modulo
            default: return left
            }
            let offset = current.offset
            advance()
            let right = try parseUnary()
            left = try call(op, [left, right], at: offset)
        }
    }

    // Unary = Member | "!" {"!"} Member | "-" {"-"} Member
    mutating func parseUnary() throws(Failure) -> Expr {
        let offset = current.offset
        if isPunct("!") {
            var count = 0
            while isPunct("!") { count += 1; advance() }
            var e = try parseMember()
            for _ in 0..<count { e = try call(Operator.logicalNot, [e], at: offset) }
            return e
        }
        if isPunct("-") {
            var count = 0
            while isPunct("-") { count += 1; advance() }
            var e: Expr
            // `-` directly before a numeric literal is part of the literal (INT_LIT = -? DIGIT+), which is
            // how -9223372036854775808 is written.
            let postfix = isPunct(".", ahead: 1) || isPunct("[", ahead: 1)
            if !postfix, case .int(let magnitude) = current.token {
                let literalOffset = current.offset
                advance()
                guard magnitude <= UInt64(Int64.max) + 1 else {
                    throw Failure(message: "integer literal out of range", offset: literalOffset)
                }
                let value = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
                e = try make(.literal(.int(value)), at: offset, children: [])
                count -= 1
            } else if !postfix, case .double(let d) = current.token {
                advance()
                e = try make(.literal(.double(-d)), at: offset, children: [])
                count -= 1
            } else {
                e = try parseMember()
            }
            for _ in 0..<count { e = try call(Operator.negate, [e], at: offset) }
            return e
        }
        return try parseMember()
    }

    // Member = Primary | Member "." SELECTOR ["(" args ")"] | Member "[" Expr "]" | qualified name "{" fields "}"
    mutating func parseMember() throws(Failure) -> Expr {
        var e = try parsePrimary()
        while true {
            let offset = current.offset
            if isPunct(".") {
                advance()
                var optional = false
                if isPunct("?") { optional = true; advance() }
                let name: String
                var quoted = false
                switch current.token {
                case .ident(let n): name = n
                case .quoted(let n): name = n; quoted = true
                default: throw Failure(message: "expected a field name after '.'", offset: current.offset)
                }
                if !quoted, name == "true" || name == "false" || name == "null" || name == "in" {
                    throw Failure(message: "reserved word '\(name)' cannot be a field name", offset: current.offset)
                }
                advance()
                if isPunct("("), !optional, !quoted {
                    advance()
                    let args = try parseArguments(closing: ")")
                    e = try call(name, args, at: offset, target: e)
                } else {
                    e = try make(.select(e, name, optional: optional), at: offset, children: [e])
                }
            } else if isPunct("[") {
                advance()
                var optional = false
                if isPunct("?") { optional = true; advance() }
                let indexExpr = try parseExpr()
                try expect("]")
                e = try call(optional ? Operator.optionalIndex : Operator.index, [e, indexExpr], at: offset)
            } else if isPunct("{"), let name = Parser.qualifiedName(e) {
                advance()
                let fields = try parseFields()
                e = try make(.message(name, fields), at: offset, children: fields.map(\.value))
            } else {
                return e
            }
        }
    }

    /// `a.b.c` (optionally with a leading dot) as a message type name.
    /// (Quoted selectors never form names: they are map keys such as `a.\`b.c\``.)
    static func qualifiedName(_ e: Expr) -> String? {
        switch e.kind {
        case .ident(let n, let dot): return dot ? "." + n : n
        case .select(let operand, let field, let optional):
            guard !optional, let prefix = qualifiedName(operand) else { return nil }
            return prefix + "." + field
        default: return nil
        }
    }

    mutating func parsePrimary() throws(Failure) -> Expr {
        let t = current
        switch t.token {
        case .int(let v):
            advance()
            guard let i = Int64(exactly: v) else { throw Failure(message: "integer literal out of range", offset: t.offset) }
            return try make(.literal(.int(i)), at: t.offset, children: [])
        case .uint(let v):
            advance()
            return try make(.literal(.uint(v)), at: t.offset, children: [])
        case .double(let d):
            advance()
            return try make(.literal(.double(d)), at: t.offset, children: [])
        case .string(let s):
            advance()
            return try make(.literal(.string(s)), at: t.offset, children: [])
        case .bytes(let b):
            advance()
            return try make(.literal(.bytes(b)), at: t.offset, children: [])
        case .ident(let name):
            return try parseIdentifier(leadingDot: false, name: name)
        case .punct("."):
            advance()
            guard case .ident(let name) = current.token else {
                throw Failure(message: "expected an identifier after '.'", offset: current.offset)
            }
            return try parseIdentifier(leadingDot: true, name: name)
        case .punct("("):
            advance()
            let e = try parseExpr()
            try expect(")")
            return e
        case .punct("["):
            advance()
            var elements: [Expr] = []
            var optional: [Bool] = []
            while !isPunct("]") {
                var opt = false
                if isPunct("?") { opt = true; advance() }
                elements.append(try parseExpr())
                optional.append(opt)
                if isPunct(",") { advance() } else { break }
            }
            try expect("]")
            return try make(.list(elements, optional: optional), at: t.offset, children: elements)
        case .punct("{"):
            advance()
            var entries: [Expr.MapEntry] = []
            while !isPunct("}") {
                var opt = false
                if isPunct("?") { opt = true; advance() }
                let key = try parseExpr()
                try expect(":")
                let value = try parseExpr()
                entries.append(Expr.MapEntry(key: key, value: value, optional: opt))
                if isPunct(",") { advance() } else { break }
            }
            try expect("}")
            return try make(.map(entries), at: t.offset, children: entries.flatMap { [$0.key, $0.value] })
        case .eof:
            throw Failure(message: "unexpected end of input", offset: t.offset)
        default:
            throw Failure(message: "unexpected \(Parser.describe(t.token))", offset: t.offset)
        }
    }

    mutating func parseIdentifier(leadingDot: Bool, name: String) throws(Failure) -> Expr {
        let offset = current.offset
        advance()
        switch name {
        case "true" where !leadingDot: return try make(.literal(.true), at: offset, children: [])
        case "false" where !leadingDot: return try make(.literal(.false), at: offset, children: [])
        case "null" where !leadingDot: return try make(.literal(.null), at: offset, children: [])
        case "in", "true", "false", "null":
            throw Failure(message: "reserved word '\(name)' cannot be an identifier", offset: offset)
        default: break
        }
        if Lexer.reserved.contains(name) {
            throw Failure(message: "reserved identifier '\(name)'", offset: offset)
        }
        if isPunct("(") {
            advance()
            let args = try parseArguments(closing: ")")
            return try call(leadingDot ? "." + name : name, args, at: offset)
        }
        return try make(.ident(name, leadingDot: leadingDot), at: offset, children: [])
    }

    mutating func parseArguments(closing: String) throws(Failure) -> [Expr] {
        var args: [Expr] = []
        while !isPunct(closing) {
            args.append(try parseExpr())
            if isPunct(",") {
                advance()
                if isPunct(closing) { throw Failure(message: "unexpected '\(closing)'", offset: current.offset) }
            } else {
                break
            }
        }
        try expect(closing)
        return args
    }

    mutating func parseFields() throws(Failure) -> [Expr.FieldEntry] {
        var fields: [Expr.FieldEntry] = []
        while !isPunct("}") {
            var opt = false
            if isPunct("?") { opt = true; advance() }
            guard case .ident(let name) = current.token else {
                throw Failure(message: "expected a field name", offset: current.offset)
            }
            advance()
            try expect(":")
            let value = try parseExpr()
            fields.append(Expr.FieldEntry(name: name, value: value, optional: opt))
            if isPunct(",") { advance() } else { break }
        }
        try expect("}")
        return fields
    }
}
