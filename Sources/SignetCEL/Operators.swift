/// Built-in operators (langdef "Logical Operators", "Arithmetic Operators", "Comparison Operators",
/// "List Operators", "Map Operators"), compiled to direct closures.
enum Operators {
    // MARK: - Logic: commutative, absorbing errors and unknowns

    static func and(_ l: @escaping Compiled, _ r: @escaping Compiled) -> Compiled {
        return { ctx in
            let a = l(ctx)
            if case .bool(false) = a { return a }
            let b = r(ctx)
            if case .bool(false) = b { return b }
            if case .bool(true) = a, case .bool(true) = b { return a }
            return absorb(a, b, "_&&_")
        }
    }

    static func or(_ l: @escaping Compiled, _ r: @escaping Compiled) -> Compiled {
        return { ctx in
            let a = l(ctx)
            if case .bool(true) = a { return a }
            let b = r(ctx)
            if case .bool(true) = b { return b }
            if case .bool(false) = a, case .bool(false) = b { return a }
            return absorb(a, b, "_||_")
        }
    }

    /// Neither operand decided the result: unknowns (merged) win, then the first error; a non-bool is an error.
    static func absorb(_ a: CELValue, _ b: CELValue, _ op: String) -> CELValue {
        switch (a, b) {
        case (.unknown(let x), .unknown(let y)): return .unknown(x.merging(y))
        case (.unknown, _): return a
        case (_, .unknown): return b
        case (.error, _): return a
        case (_, .error): return b
        case (.bool, _): return .error(.noMatchingOverload(op))
        default: return .error(.noMatchingOverload(op))
        }
    }

    static func not(_ x: @escaping Compiled) -> Compiled {
        return { ctx in
            let v = x(ctx)
            switch v {
            case .bool(let b): return .bool(!b)
            case .error, .unknown: return v
            default: return .error(.noMatchingOverload("!_"))
            }
        }
    }

    static func conditional(_ c: @escaping Compiled, _ t: @escaping Compiled, _ f: @escaping Compiled) -> Compiled {
        return { ctx in
            let v = c(ctx)
            switch v {
            case .bool(true): return t(ctx)
            case .bool(false): return f(ctx)
            case .error, .unknown: return v
            default: return .error(.noMatchingOverload("_?_:_"))
            }
        }
    }

    static func negate(_ x: @escaping Compiled) -> Compiled {
        return { ctx in
            let v = x(ctx)
            switch v {
            case .int(let i):
                return i == Int64.min ? .error(.overflow("negation")) : .int(-i)
            case .double(let d): return .double(-d)
            case .error, .unknown: return v
            default: return .error(.noMatchingOverload("-_"))
            }
        }
    }

    // MARK: - Binary operators

    typealias Body = @Sendable (CELValue, CELValue, CELEvaluationContext) -> CELValue

    static func binary(_ op: String, _ l: @escaping Compiled, _ r: @escaping Compiled, extra: [CELOverload]) -> Compiled {
        let body: Body
        switch op {
        case Operator.equals: body = { a, b, ctx in equals(a, b, ctx) }
        case Operator.notEquals: body = { a, b, ctx in
            let v = equals(a, b, ctx)
            if case .bool(let x) = v { return .bool(!x) }
            return v
        }
        case Operator.less: body = { a, b, _ in relation(a, b, op) { $0 < 0 } }
        case Operator.lessEquals: body = { a, b, _ in relation(a, b, op) { $0 <= 0 } }
        case Operator.greater: body = { a, b, _ in relation(a, b, op) { $0 > 0 } }
        case Operator.greaterEquals: body = { a, b, _ in relation(a, b, op) { $0 >= 0 } }
        case Operator.in: body = { a, b, ctx in contains(a, b, ctx) }
        case Operator.add: body = { a, b, ctx in add(a, b, ctx) }
        case Operator.subtract: body = { a, b, _ in subtract(a, b) }
        case Operator.multiply: body = { a, b, _ in multiply(a, b) }
        case Operator.divide: body = { a, b, _ in divide(a, b) }
        case Operator.modulo: body = { a, b, _ in modulo(a, b) }
        case Operator.index: body = { a, b, _ in index(a, b, optional: false) }
        default: body = { a, b, _ in index(a, b, optional: true) }
        }
        if extra.isEmpty {
            if op == Operator.index || op == Operator.optionalIndex {
                // Indexing an optional chains even when the optional is none, so errors in the index still propagate.
                return { ctx in
                    let a = l(ctx)
                    let b = r(ctx)
                    if a.isErrorOrUnknown || b.isErrorOrUnknown { return Dispatch.propagate([a, b]) }
                    return body(a, b, ctx)
                }
            }
            return { ctx in
                let a = l(ctx)
                let b = r(ctx)
                if a.isErrorOrUnknown || b.isErrorOrUnknown { return Dispatch.propagate([a, b]) }
                return body(a, b, ctx)
            }
        }
        // Library overloads of an operator (e.g. for opaque types) are tried when the built-in has none.
        return { ctx in
            let a = l(ctx)
            let b = r(ctx)
            if a.isErrorOrUnknown || b.isErrorOrUnknown { return Dispatch.propagate([a, b]) }
            let v = body(a, b, ctx)
            if case .error(let e) = v, e.code == .noMatchingOverload {
                for o in extra where o.accepts([a, b]) {
                    if let e = Dispatch.charge(o.cost, ctx, [a, b]) { return .error(e) }
                    return Dispatch.invoke(o.implementation, [a, b], ctx)
                }
            }
            return v
        }
    }

    static func equals(_ a: CELValue, _ b: CELValue, _ ctx: CELEvaluationContext) -> CELValue {
        switch a {
        case .list(let l):
            if let e = ctx.charge(Int64(l.count)) { return .error(e) }
        case .map(let m):
            if let e = ctx.charge(Int64(m.count)) { return .error(e) }
        default: break
        }
        return .bool(a.celEquals(b))
    }

    static func relation(_ a: CELValue, _ b: CELValue, _ op: String, _ test: (Int) -> Bool) -> CELValue {
        if let c = a.compare(b) { return .bool(test(c)) }
        if isNumber(a), isNumber(b) { return .false }   // NaN is unordered: every comparison is false
        return .error(.noMatchingOverload(op))
    }

    static func isNumber(_ v: CELValue) -> Bool {
        switch v {
        case .int, .uint, .double: true
        default: false
        }
    }

    static func contains(_ element: CELValue, _ container: CELValue, _ ctx: CELEvaluationContext) -> CELValue {
        switch container {
        case .list(let l):
            if let e = ctx.charge(Int64(l.count)) { return .error(e) }
            for x in l where x.celEquals(element) { return .true }
            return .false
        case .map(let m):
            return .bool(m.lookup(element) != nil)
        default:
            return .error(.noMatchingOverload("@in"))
        }
    }

    static func add(_ a: CELValue, _ b: CELValue, _ ctx: CELEvaluationContext) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .error(.overflow("addition")) : .int(r)
        case (.uint(let x), .uint(let y)):
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .error(.overflow("addition")) : .uint(r)
        case (.double(let x), .double(let y)): return .double(x + y)
        case (.string(let x), .string(let y)):
            if let e = ctx.charge(Int64((x.utf8.count + y.utf8.count) / 10)) { return .error(e) }
            return .string(x + y)
        case (.bytes(let x), .bytes(let y)):
            if let e = ctx.charge(Int64((x.count + y.count) / 10)) { return .error(e) }
            return .bytes(x + y)
        case (.list(let x), .list(let y)):
            if let e = ctx.charge(Int64((x.count + y.count) / 10)) { return .error(e) }
            return .list(x + y)
        case (.timestamp(let t), .duration(let d)), (.duration(let d), .timestamp(let t)):
            guard let r = CELTimestamp(nanosecondsSinceEpoch: t.nanosecondsSinceEpoch + d.nanoseconds) else {
                return .error(.overflow("timestamp addition"))
            }
            return .timestamp(r)
        case (.duration(let x), .duration(let y)):
            guard let r = CELDuration(nanoseconds: x.nanoseconds + y.nanoseconds) else {
                return .error(.overflow("duration addition"))
            }
            return .duration(r)
        default:
            return .error(.noMatchingOverload("_+_"))
        }
    }

    static func subtract(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .error(.overflow("subtraction")) : .int(r)
        case (.uint(let x), .uint(let y)):
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .error(.overflow("subtraction")) : .uint(r)
        case (.double(let x), .double(let y)): return .double(x - y)
        case (.timestamp(let x), .timestamp(let y)):
            guard let r = CELDuration(nanoseconds: x.nanosecondsSinceEpoch - y.nanosecondsSinceEpoch) else {
                return .error(.overflow("timestamp subtraction"))
            }
            return .duration(r)
        case (.timestamp(let t), .duration(let d)):
            guard let r = CELTimestamp(nanosecondsSinceEpoch: t.nanosecondsSinceEpoch - d.nanoseconds) else {
                return .error(.overflow("timestamp subtraction"))
            }
            return .timestamp(r)
        case (.duration(let x), .duration(let y)):
            guard let r = CELDuration(nanoseconds: x.nanoseconds - y.nanoseconds) else {
                return .error(.overflow("duration subtraction"))
            }
            return .duration(r)
        default:
            return .error(.noMatchingOverload("_-_"))
        }
    }

    static func multiply(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .error(.overflow("multiplication")) : .int(r)
        case (.uint(let x), .uint(let y)):
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .error(.overflow("multiplication")) : .uint(r)
        case (.double(let x), .double(let y)): return .double(x * y)
        default:
            return .error(.noMatchingOverload("_*_"))
        }
    }

    static func divide(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            if y == 0 { return .error(.divisionByZero) }
            let (r, o) = x.dividedReportingOverflow(by: y)
            return o ? .error(.overflow("division")) : .int(r)
        case (.uint(let x), .uint(let y)):
            if y == 0 { return .error(.divisionByZero) }
            return .uint(x / y)
        case (.double(let x), .double(let y)): return .double(x / y)
        default:
            return .error(.noMatchingOverload("_/_"))
        }
    }

    static func modulo(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            if y == 0 { return .error(.moduloByZero) }
            let (r, o) = x.remainderReportingOverflow(dividingBy: y)
            return o ? .error(.overflow("modulus")) : .int(r)
        case (.uint(let x), .uint(let y)):
            if y == 0 { return .error(.moduloByZero) }
            return .uint(x % y)
        default:
            return .error(.noMatchingOverload("_%_"))
        }
    }

    /// `a[b]` and `a[?b]` on lists, maps, and (chaining) optionals.
    static func index(_ a: CELValue, _ b: CELValue, optional: Bool) -> CELValue {
        switch a {
        case .list(let l):
            let i: Int?
            switch b {
            case .int(let x): i = Int(exactly: x)
            case .uint(let x): i = Int(exactly: x)
            case .double(let d): i = Int(exactly: d)
            default: return .error(.noMatchingOverload("_[_]"))
            }
            guard let i, i >= 0, i < l.count else {
                if optional { return .optional(nil) }
                return .error(CELError(.indexOutOfRange, "index out of bounds: \(b.debugText), list size \(l.count)"))
            }
            return optional ? .optional(l[i]) : l[i]
        case .map(let m):
            if let v = m.lookup(b) { return optional ? .optional(v) : v }
            if optional { return .optional(nil) }
            switch b {
            case .int, .uint, .double, .bool, .string: return .error(.noSuchKey(b.debugText))
            default: return .error(CELError(.noMatchingOverload, "unsupported key type: \(b.celType.name)"))
            }
        case .optional(let inner):
            guard let inner else { return .optional(nil) }
            return index(inner, b, optional: true)
        default:
            return .error(.noMatchingOverload(optional ? "_[?_]" : "_[_]"))
        }
    }
}

extension CELValue {
    /// A short CEL-like rendering for error messages.
    var debugText: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .uint(let u): "\(u)u"
        case .double(let d): "\(d)"
        case .string(let s): "'\(s)'"
        case .bytes(let b): "b'\(b.count) bytes'"
        case .list(let l): "list(\(l.count))"
        case .map(let m): "map(\(m.count))"
        case .type(let t): t.name
        case .timestamp(let t): TimeSupport.format(t)
        case .duration(let d): TimeSupport.format(d)
        case .optional(let o): o.map { "optional(\($0.debugText))" } ?? "optional.none"
        case .opaque(let o): o.description
        case .error(let e): e.message
        case .unknown: "unknown"
        }
    }
}
