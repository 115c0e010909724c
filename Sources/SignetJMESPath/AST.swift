import SignetPrimitives

/// A comparison operator (spec: comparator-expression).
public enum JMESPathComparator: String, Sendable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// The abstract syntax tree of a compiled expression.
public indirect enum JMESPathNode: Sendable {
    /// `@`, also the implicit right side of projections.
    case current
    /// `foo`, `"foo"`.
    case field(String)
    /// `a.b`.
    case subexpression(JMESPathNode, JMESPathNode)
    /// `[n]` applied to the left node's value.
    case index(JMESPathNode, Int)
    /// `[start:stop:step]` applied to the left node's value; a projection wraps it.
    case slice(JMESPathNode, start: Int?, stop: Int?, step: Int?)
    /// `left[*].right`, `left[n:m].right`.
    case listProjection(JMESPathNode, JMESPathNode)
    /// `left.*.right`.
    case objectProjection(JMESPathNode, JMESPathNode)
    /// `left[?condition].right`.
    case filterProjection(JMESPathNode, condition: JMESPathNode, JMESPathNode)
    /// `left[]` (the projection is a separate `listProjection`).
    case flatten(JMESPathNode)
    /// `` `json` `` and `'raw'`.
    case literal(JSONValue)
    /// `[a, b]`.
    case multiSelectList([JMESPathNode])
    /// `{k: a}`; keys in source order.
    case multiSelectHash([(key: String, value: JMESPathNode)])
    /// `a | b`.
    case pipe(JMESPathNode, JMESPathNode)
    /// `a || b`.
    case or(JMESPathNode, JMESPathNode)
    /// `a && b`.
    case and(JMESPathNode, JMESPathNode)
    /// `!a`.
    case not(JMESPathNode)
    /// `a == b` etc.
    case comparison(JMESPathComparator, JMESPathNode, JMESPathNode)
    /// `&expr`.
    case expressionReference(JMESPathNode)
    /// `name(args...)`; the function is resolved at compile time.
    case function(JMESPathFunction, [JMESPathNode])

    /// The tree in go-jmespath's `PrettyPrint` layout (what `kyverno jp parse` prints), with
    /// go-jmespath's node names; literal values print as JSON and slices as `[start:stop:step]`.
    public var prettyPrinted: String {
        var out = ""
        render(into: &out, indent: 0)
        return out
    }

    private static func goQuote(_ s: String) -> String { JSONValue.string(s).jsonString(sortedKeys: true, escapeHTML: false) }

    private enum Part {
        case node(JMESPathNode)
        case leaf(String, String)
        case keyValue(String, JMESPathNode)
    }

    private static func emit(_ out: inout String, _ indent: Int, _ type: String, value: String?, _ parts: [Part]) {
        let pad = String(repeating: " ", count: indent)
        out += "\(pad)\(type) {\n"
        if let value { out += "\(pad)  value: \(value)\n" }
        if !parts.isEmpty {
            // go-jmespath opens "children: {" without a closing brace; kept for identical output.
            out += "\(pad)  children: {\n"
            for p in parts {
                switch p {
                case .node(let n): n.render(into: &out, indent: indent + 4)
                case .leaf(let t, let v): emit(&out, indent + 4, t, value: v, [])
                case .keyValue(let k, let n): emit(&out, indent + 4, "ASTKeyValPair", value: goQuote(k), [.node(n)])
                }
            }
        }
        out += "\(pad)}\n"
    }

    private func render(into out: inout String, indent: Int) {
        func emit(_ type: String, _ value: String? = nil, _ parts: [Part] = []) {
            Self.emit(&out, indent, type, value: value, parts)
        }
        switch self {
        case .current: emit("ASTCurrentNode")
        case .field(let n): emit("ASTField", Self.goQuote(n))
        case .subexpression(let l, let r): emit("ASTSubexpression", nil, [.node(l), .node(r)])
        case .index(let l, let n): emit("ASTIndexExpression", nil, [.node(l), .leaf("ASTIndex", String(n))])
        case .slice(let l, let a, let b, let c):
            func s(_ v: Int?) -> String { v.map(String.init) ?? "" }
            emit("ASTIndexExpression", nil, [.node(l), .leaf("ASTSlice", "[\(s(a)):\(s(b)):\(s(c))]")])
        case .listProjection(let l, let r): emit("ASTProjection", nil, [.node(l), .node(r)])
        case .objectProjection(let l, let r): emit("ASTValueProjection", nil, [.node(l), .node(r)])
        case .filterProjection(let l, let c, let r): emit("ASTFilterProjection", nil, [.node(l), .node(r), .node(c)])
        case .flatten(let l): emit("ASTFlatten", nil, [.node(l)])
        case .literal(let v): emit("ASTLiteral", v.jsonString)
        case .multiSelectList(let items): emit("ASTMultiSelectList", nil, items.map { .node($0) })
        case .multiSelectHash(let pairs): emit("ASTMultiSelectHash", nil, pairs.map { .keyValue($0.key, $0.value) })
        case .pipe(let l, let r): emit("ASTPipe", nil, [.node(l), .node(r)])
        case .or(let l, let r): emit("ASTOrExpression", nil, [.node(l), .node(r)])
        case .and(let l, let r): emit("ASTAndExpression", nil, [.node(l), .node(r)])
        case .not(let e): emit("ASTNotExpression", nil, [.node(e)])
        case .comparison(let op, let l, let r):
            let name: String
            switch op {
            case .equal: name = "tEQ"
            case .notEqual: name = "tNE"
            case .less: name = "tLT"
            case .lessOrEqual: name = "tLTE"
            case .greater: name = "tGT"
            case .greaterOrEqual: name = "tGTE"
            }
            emit("ASTComparator", name, [.node(l), .node(r)])
        case .expressionReference(let e): emit("ASTExpRef", nil, [.node(e)])
        case .function(let f, let args): emit("ASTFunctionExpression", Self.goQuote(f.name), args.map { .node($0) })
        }
    }
}
