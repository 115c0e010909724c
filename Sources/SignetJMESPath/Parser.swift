import SignetPrimitives

/// A top-down operator-precedence (Pratt) parser over the token list (spec: "Grammar").
struct Parser {
    private var tokens: [Token]
    private var pos = 0
    private var depth = 0
    private let limits: JMESPathLimits
    private let functions: JMESPathFunctionTable

    init(tokens: [Token], limits: JMESPathLimits, functions: JMESPathFunctionTable) {
        self.tokens = tokens
        self.limits = limits
        self.functions = functions
    }

    static func parse(_ expression: String, limits: JMESPathLimits, functions: JMESPathFunctionTable) throws -> JMESPathNode {
        guard expression.utf8.count <= limits.maximumExpressionLength else {
            throw JMESPathError(.limitExceeded, "expression longer than \(limits.maximumExpressionLength) bytes")
        }
        var lexer = Lexer(expression)
        var parser = Parser(tokens: try lexer.tokenize(), limits: limits, functions: functions)
        let node = try parser.expression(0)
        guard parser.current.kind == .eof else {
            throw parser.unexpected()
        }
        guard node.treeDepth(limit: limits.maximumDepth) <= limits.maximumDepth else {
            throw JMESPathError(.limitExceeded, "expression nests deeper than \(limits.maximumDepth)")
        }
        return node
    }

    private var current: Token { tokens[min(pos, tokens.count - 1)] }

    private func lookahead(_ k: Int) -> Token { tokens[min(pos + k, tokens.count - 1)] }

    private mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }

    private func unexpected() -> JMESPathError {
        let t = current
        if t.kind == .eof { return JMESPathError(.syntax, "incomplete expression at position \(t.position)") }
        return JMESPathError(.syntax, "unexpected token \(t.kind) at position \(t.position)")
    }

    private mutating func match(_ kind: TokenKind) throws {
        guard current.kind == kind else {
            throw JMESPathError(.syntax, "expected \(kind), found \(current.kind) at position \(current.position)")
        }
        advance()
    }

    mutating func expression(_ bindingPower: Int) throws -> JMESPathNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= limits.maximumDepth else {
            throw JMESPathError(.limitExceeded, "expression nests deeper than \(limits.maximumDepth)")
        }
        let token = current
        advance()
        var left = try nud(token)
        while bindingPower < current.kind.bindingPower {
            let t = current
            advance()
            left = try led(t, left)
        }
        return left
    }

    private mutating func nud(_ token: Token) throws -> JMESPathNode {
        switch token.kind {
        case .literal: return .literal(token.value)
        case .rawString: return .literal(.string(token.text))
        case .unquotedIdentifier: return .field(token.text)
        case .quotedIdentifier:
            if current.kind == .lparen {
                throw JMESPathError(.syntax, "quoted identifier cannot name a function at position \(token.position)")
            }
            return .field(token.text)
        case .star:
            // `*` at the start: object projection of the current node.
            let right: JMESPathNode = current.kind == .rbracket ? .current : try projectionRHS(TokenKind.star.bindingPower)
            return .objectProjection(.current, right)
        case .filter:
            return try filter(left: .current)
        case .lbrace:
            return try multiSelectHash()
        case .lparen:
            let e = try expression(0)
            try match(.rparen)
            return e
        case .flatten:
            let right = try projectionRHS(TokenKind.flatten.bindingPower)
            return .listProjection(.flatten(.current), right)
        case .not:
            return .not(try expression(TokenKind.not.bindingPower))
        case .lbracket:
            if current.kind == .number || current.kind == .colon {
                return try indexOrSlice(left: .current)
            }
            if current.kind == .star, lookahead(1).kind == .rbracket {
                advance()
                advance()
                return .listProjection(.current, try projectionRHS(TokenKind.star.bindingPower))
            }
            return try multiSelectList()
        case .current: return .current
        case .expref:
            return .expressionReference(try expression(0))
        case .eof:
            throw JMESPathError(.syntax, "incomplete expression at position \(token.position)")
        default:
            throw JMESPathError(.syntax, "unexpected token \(token.kind) at position \(token.position)")
        }
    }

    private mutating func led(_ token: Token, _ left: JMESPathNode) throws -> JMESPathNode {
        switch token.kind {
        case .dot:
            if current.kind == .star {
                advance()
                return .objectProjection(left, try projectionRHS(TokenKind.dot.bindingPower))
            }
            return .subexpression(left, try dotRHS(TokenKind.dot.bindingPower))
        case .pipe: return .pipe(left, try expression(TokenKind.pipe.bindingPower))
        case .or: return .or(left, try expression(TokenKind.or.bindingPower))
        case .and: return .and(left, try expression(TokenKind.and.bindingPower))
        case .eq: return .comparison(.equal, left, try expression(token.kind.bindingPower))
        case .ne: return .comparison(.notEqual, left, try expression(token.kind.bindingPower))
        case .lt: return .comparison(.less, left, try expression(token.kind.bindingPower))
        case .lte: return .comparison(.lessOrEqual, left, try expression(token.kind.bindingPower))
        case .gt: return .comparison(.greater, left, try expression(token.kind.bindingPower))
        case .gte: return .comparison(.greaterOrEqual, left, try expression(token.kind.bindingPower))
        case .lparen:
            guard case .field(let name) = left else {
                throw JMESPathError(.syntax, "invalid function name at position \(token.position)")
            }
            var args: [JMESPathNode] = []
            while current.kind != .rparen {
                guard args.count < limits.maximumDepth else {
                    throw JMESPathError(.limitExceeded, "too many function arguments")
                }
                args.append(try expression(0))
                if current.kind == .comma { advance() }
            }
            try match(.rparen)
            guard let f = functions[name] else {
                throw JMESPathError(.unknownFunction, "unknown function: \(name)()")
            }
            try f.signature.checkArity(args.count, name: name)
            return .function(f, args)
        case .filter:
            return try filter(left: left)
        case .flatten:
            return .listProjection(.flatten(left), try projectionRHS(TokenKind.flatten.bindingPower))
        case .lbracket:
            if current.kind == .number || current.kind == .colon {
                return try indexOrSlice(left: left)
            }
            try match(.star)
            try match(.rbracket)
            return .listProjection(left, try projectionRHS(TokenKind.star.bindingPower))
        default:
            throw JMESPathError(.syntax, "unexpected token \(token.kind) at position \(token.position)")
        }
    }

    private mutating func filter(left: JMESPathNode) throws -> JMESPathNode {
        let condition = try expression(0)
        try match(.rbracket)
        let right: JMESPathNode = current.kind == .flatten ? .current : try projectionRHS(TokenKind.filter.bindingPower)
        return .filterProjection(left, condition: condition, right)
    }

    /// After `[` with a number or colon next: an index, or a slice which projects.
    private mutating func indexOrSlice(left: JMESPathNode) throws -> JMESPathNode {
        if lookahead(0).kind == .colon || lookahead(1).kind == .colon {
            var parts: [Int?] = [nil, nil, nil]
            var k = 0
            while current.kind != .rbracket && k < 3 {
                if current.kind == .colon {
                    k += 1
                    if k == 3 { throw JMESPathError(.syntax, "too many colons in slice at position \(current.position)") }
                    advance()
                } else if current.kind == .number {
                    parts[k] = current.number
                    advance()
                } else {
                    throw unexpected()
                }
            }
            try match(.rbracket)
            if let step = parts[2], step == 0 {
                throw JMESPathError(.invalidValue, "slice step cannot be 0")
            }
            let slice = JMESPathNode.slice(left, start: parts[0], stop: parts[1], step: parts[2])
            return .listProjection(slice, try projectionRHS(TokenKind.star.bindingPower))
        }
        let n = current.number
        try match(.number)
        try match(.rbracket)
        return .index(left, n)
    }

    private mutating func projectionRHS(_ bindingPower: Int) throws -> JMESPathNode {
        // Tokens binding weaker than 10 (pipe, or, and, comparators, flatten, eof...) stop a projection.
        if current.kind.bindingPower < 10 { return .current }
        switch current.kind {
        case .lbracket, .filter:
            return try expression(bindingPower)
        case .dot:
            advance()
            return try dotRHS(bindingPower)
        default:
            throw unexpected()
        }
    }

    private mutating func dotRHS(_ bindingPower: Int) throws -> JMESPathNode {
        switch current.kind {
        case .unquotedIdentifier, .quotedIdentifier, .star:
            return try expression(bindingPower)
        case .lbracket:
            advance()
            return try multiSelectList()
        case .lbrace:
            advance()
            return try multiSelectHash()
        default:
            throw unexpected()
        }
    }

    private mutating func multiSelectList() throws -> JMESPathNode {
        var items: [JMESPathNode] = []
        while true {
            items.append(try expression(0))
            if current.kind == .rbracket { break }
            try match(.comma)
        }
        try match(.rbracket)
        return .multiSelectList(items)
    }

    private mutating func multiSelectHash() throws -> JMESPathNode {
        var pairs: [(key: String, value: JMESPathNode)] = []
        while true {
            let keyToken = current
            guard keyToken.kind == .unquotedIdentifier || keyToken.kind == .quotedIdentifier else {
                throw unexpected()
            }
            advance()
            try match(.colon)
            pairs.append((key: keyToken.text, value: try expression(0)))
            if current.kind == .comma {
                advance()
            } else {
                try match(.rbrace)
                break
            }
        }
        return .multiSelectHash(pairs)
    }
}

extension JMESPathNode {
    /// The depth of the tree, stopping early once it passes `limit` (evaluation recurses this deep).
    func treeDepth(limit: Int) -> Int {
        var best = 0
        var stack: [(JMESPathNode, Int)] = [(self, 1)]
        while let (n, d) = stack.popLast() {
            best = Swift.max(best, d)
            if best > limit { return best }
            for c in n.children { stack.append((c, d + 1)) }
        }
        return best
    }

    var children: [JMESPathNode] {
        switch self {
        case .current, .field, .literal: return []
        case .subexpression(let l, let r), .listProjection(let l, let r), .objectProjection(let l, let r),
             .pipe(let l, let r), .or(let l, let r), .and(let l, let r), .comparison(_, let l, let r):
            return [l, r]
        case .index(let l, _), .slice(let l, _, _, _), .flatten(let l), .not(let l), .expressionReference(let l):
            return [l]
        case .filterProjection(let l, let c, let r): return [l, c, r]
        case .multiSelectList(let items): return items
        case .multiSelectHash(let pairs): return pairs.map(\.value)
        case .function(_, let args): return args
        }
    }
}
