/// The parsed syntax tree (langdef "Syntax"). Operators are calls with CEL's internal names (`_+_`, `!_`, ...).
struct Expr: Sendable {
    /// A unique id (for unknown attribution), assigned in parse order starting at 1.
    let id: Int64
    /// UTF-8 offset in the source.
    let offset: Int
    let kind: Kind
    /// Height of the subtree (1 for leaves), bounded by `CELOptions.maxNestingDepth`.
    let height: Int

    indirect enum Kind: Sendable {
        case literal(CELValue)
        /// An identifier; `leadingDot` for `.name` (root-scoped).
        case ident(String, leadingDot: Bool)
        /// `operand.field`, `operand.?field` (optional) or `has(operand.field)` (testOnly).
        case select(Expr, String, optional: Bool)
        /// A call; `target` is the receiver of `target.function(args)`.
        case call(target: Expr?, function: String, args: [Expr])
        /// `[a, ?b]`: optional marks elements that are included only when the optional has a value.
        case list([Expr], optional: [Bool])
        /// `{k: v, ?k2: v2}`.
        case map([MapEntry])
        /// `pkg.Message{field: value}`.
        case message(String, [FieldEntry])
    }

    struct MapEntry: Sendable {
        let key: Expr
        let value: Expr
        let optional: Bool
    }

    struct FieldEntry: Sendable {
        let name: String
        let value: Expr
        let optional: Bool
    }
}

/// Internal names of the operators (as in CEL's canonical AST).
enum Operator {
    static let conditional = "_?_:_"
    static let logicalAnd = "_&&_"
    static let logicalOr = "_||_"
    static let logicalNot = "!_"
    static let negate = "-_"
    static let equals = "_==_"
    static let notEquals = "_!=_"
    static let less = "_<_"
    static let lessEquals = "_<=_"
    static let greater = "_>_"
    static let greaterEquals = "_>=_"
    static let `in` = "@in"
    static let add = "_+_"
    static let subtract = "_-_"
    static let multiply = "_*_"
    static let divide = "_/_"
    static let modulo = "_%_"
    static let index = "_[_]"
    static let optionalIndex = "_[?_]"
}
