import SignetPrimitives

/// Tree-walking evaluation (spec: the semantics of each expression kind).
enum Interpreter {
    static func evaluate(_ node: JMESPathNode, _ value: JSONValue, _ ctx: inout JMESPathContext) throws -> JSONValue {
        try ctx.charge(1)
        switch node {
        case .current:
            return value
        case .field(let name):
            if case .object(let o) = value {
                if let v = o[name] { return v }
                if ctx.reportsMissingKeys { throw JMESPathError(.unknownKey, "Unknown key \"\(name)\" in path") }
                return .null
            }
            return .null
        case .subexpression(let l, let r):
            return try evaluate(r, try evaluate(l, value, &ctx), &ctx)
        case .index(let l, let n):
            guard case .array(let a) = try evaluate(l, value, &ctx) else { return .null }
            var i = n
            if i < 0 { i += a.count } // n >= Int.min and count >= 0: no overflow
            guard i >= 0, i < a.count else { return .null }
            return a[i]
        case .slice(let l, let start, let stop, let step):
            guard case .array(let a) = try evaluate(l, value, &ctx) else { return .null }
            return .array(try slice(a, start: start, stop: stop, step: step, &ctx))
        case .listProjection(let l, let r):
            guard case .array(let a) = try soft(l, value, &ctx) else { return .null }
            var out: [JSONValue] = []
            out.reserveCapacity(a.count)
            for e in a {
                let v = try soft(r, e, &ctx)
                if case .null = v { continue }
                out.append(v)
            }
            return .array(out)
        case .objectProjection(let l, let r):
            guard case .object(let o) = try lenient(l, value, &ctx) else { return .null }
            try ctx.charge(o.count)
            var out: [JSONValue] = []
            out.reserveCapacity(o.count)
            for k in ValueOps.sortedKeys(o) {
                guard let e = o[k] else { continue }
                let v = try soft(r, e, &ctx)
                if case .null = v { continue }
                out.append(v)
            }
            return .array(out)
        case .filterProjection(let l, let condition, let r):
            guard case .array(let a) = try lenient(l, value, &ctx) else { return .null }
            var out: [JSONValue] = []
            for e in a where try soft(condition, e, &ctx).isTruthy {
                let v = try soft(r, e, &ctx)
                if case .null = v { continue }
                out.append(v)
            }
            return .array(out)
        case .flatten(let l):
            guard case .array(let a) = try lenient(l, value, &ctx) else { return .null }
            var out: [JSONValue] = []
            out.reserveCapacity(a.count)
            for e in a {
                if case .array(let inner) = e {
                    try ctx.charge(inner.count)
                    out.append(contentsOf: inner)
                } else {
                    out.append(e)
                }
            }
            return .array(out)
        case .literal(let v):
            return v
        case .multiSelectList(let items):
            if case .null = value { return .null }
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for i in items { out.append(try soft(i, value, &ctx)) }
            return .array(out)
        case .multiSelectHash(let pairs):
            if case .null = value { return .null }
            var out: [String: JSONValue] = [:]
            for p in pairs { out[p.key] = try soft(p.value, value, &ctx) }
            return .object(out)
        case .pipe(let l, let r):
            return try soft(r, try soft(l, value, &ctx), &ctx)
        case .or(let l, let r):
            let v = try soft(l, value, &ctx)
            return v.isTruthy ? v : try soft(r, value, &ctx)
        case .and(let l, let r):
            let v = try soft(l, value, &ctx)
            return v.isTruthy ? try evaluate(r, value, &ctx) : v
        case .not(let e):
            return .bool(!(try soft(e, value, &ctx).isTruthy))
        case .comparison(let op, let l, let r):
            let a = try soft(l, value, &ctx)
            let b = try soft(r, value, &ctx)
            switch op {
            case .equal: return .bool(try ValueOps.equal(a, b, &ctx))
            case .notEqual: return .bool(!(try ValueOps.equal(a, b, &ctx)))
            default:
                // Ordering is defined for numbers only; anything else yields null (go-jmespath).
                guard let c = ValueOps.compareNumbers(a, b) else { return .null }
                switch op {
                case .less: return .bool(c < 0)
                case .lessOrEqual: return .bool(c <= 0)
                case .greater: return .bool(c > 0)
                default: return .bool(c >= 0)
                }
            }
        case .expressionReference:
            // An expression reference outside a function argument has no JSON value.
            return .null
        case .function(let f, let argNodes):
            var args: [JMESPathArgument] = []
            args.reserveCapacity(argNodes.count)
            for n in argNodes {
                if case .expressionReference(let e) = n {
                    args.append(.expressionReference(JMESPathExpressionReference(node: e)))
                } else {
                    args.append(.value(try soft(n, value, &ctx)))
                }
            }
            try f.signature.checkTypes(args, name: f.name)
            return try f.body(&ctx, args)
        }
    }

    /// Evaluates `node`; in Kyverno mode an `unknown-key` error becomes `null` (where
    /// go-jmespath checks `err.(NotFoundError)`). Spec mode: plain evaluation.
    static func soft(_ node: JMESPathNode, _ value: JSONValue, _ ctx: inout JMESPathContext) throws -> JSONValue {
        guard ctx.reportsMissingKeys else { return try evaluate(node, value, &ctx) }
        do { return try evaluate(node, value, &ctx) } catch let e as JMESPathError where e.code == .unknownKey { return .null }
    }

    /// Evaluates `node`; in Kyverno mode any evaluation error becomes `null` (go-jmespath's
    /// flatten, filter and object projections ignore the error of their left side); limits and
    /// the budget still apply.
    static func lenient(_ node: JMESPathNode, _ value: JSONValue, _ ctx: inout JMESPathContext) throws -> JSONValue {
        guard ctx.reportsMissingKeys else { return try evaluate(node, value, &ctx) }
        do { return try evaluate(node, value, &ctx) } catch let e as JMESPathError where e.code != .budgetExceeded && e.code != .limitExceeded { return .null }
    }

    /// Spec "Slices": Python-style bounds, negative steps, all arithmetic checked.
    static func slice(_ a: [JSONValue], start: Int?, stop: Int?, step: Int?, _ ctx: inout JMESPathContext) throws -> [JSONValue] {
        let step = step ?? 1
        guard step != 0 else { throw JMESPathError(.invalidValue, "slice step cannot be 0") }
        let length = a.count
        func adjust(_ endpoint: Int) -> Int {
            if endpoint < 0 {
                let e = endpoint + length // endpoint < 0 <= length: cannot overflow
                return e < 0 ? (step < 0 ? -1 : 0) : e
            }
            if endpoint >= length { return step < 0 ? length - 1 : length }
            return endpoint
        }
        let from = start.map(adjust) ?? (step > 0 ? 0 : length - 1)
        let to = stop.map(adjust) ?? (step > 0 ? length : -1)
        var out: [JSONValue] = []
        var i = from
        while step > 0 ? i < to : i > to {
            if i >= 0 && i < length { out.append(a[i]) }
            try ctx.charge(1)
            let (n, overflow) = i.addingReportingOverflow(step)
            if overflow { break }
            i = n
        }
        return out
    }
}
