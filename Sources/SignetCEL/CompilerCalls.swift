/// Compilation of calls: operators, macros, namespaced functions and pre-bound overloads.
extension Compiler {
    mutating func compileCall(_ e: Expr, target: Expr?, function: String, args: [Expr]) throws(CELError) -> Compiled {
        if let target {
            if let macro = try compileReceiverMacro(e, target: target, function: function, args: args) {
                return macro
            }
            // `ns.f(x)`: a namespaced global function when `ns` is not a variable.
            if let chain = Compiler.nameChain(target), chain.leadingDot || localSlot(chain.root) == nil {
                let qualified = ([chain.root] + chain.fields + [function]).joined(separator: ".")
                if qualified == "cel.bind" { return try compileBind(e, args) }
                if qualified == "cel.block" { return try compileBlock(e, args) }
                if let internalName = Compiler.internalVariable(qualified, args) {
                    guard let slot = localSlot(internalName) else { throw failure("undeclared reference to '\(internalName)'", e) }
                    return { ctx in ctx.slots[slot] }
                }
                let declaredPrefix = (0...chain.fields.count).contains { n in
                    let name = ([chain.root] + chain.fields.prefix(n)).joined(separator: ".")
                    return candidates(name, leadingDot: chain.leadingDot).contains { environment.variables[$0] != nil }
                }
                if !declaredPrefix {
                    for candidate in candidates(qualified, leadingDot: chain.leadingDot)
                    where environment.functions[candidate] != nil {
                        return try compileFunction(e, name: candidate, style: .global, args: args, receiver: nil)
                    }
                }
            }
            return try compileFunction(e, name: function, style: .receiver, args: args, receiver: target)
        }
        switch function {
        case Operator.logicalAnd: return Operators.and(try compile(args[0]), try compile(args[1]))
        case Operator.logicalOr: return Operators.or(try compile(args[0]), try compile(args[1]))
        case Operator.conditional:
            return Operators.conditional(try compile(args[0]), try compile(args[1]), try compile(args[2]))
        case Operator.logicalNot: return Operators.not(try compile(args[0]))
        case Operator.negate: return Operators.negate(try compile(args[0]))
        case Operator.equals, Operator.notEquals, Operator.less, Operator.lessEquals, Operator.greater,
             Operator.greaterEquals, Operator.in, Operator.add, Operator.subtract, Operator.multiply,
             Operator.divide, Operator.modulo, Operator.index, Operator.optionalIndex:
            let lhs = try compile(args[0])
            let rhs = try compile(args[1])
            let extra = environment.functions[function] ?? []
            return Operators.binary(function, lhs, rhs, extra: extra)
        case "has":
            guard args.count == 1, case .select(let operand, let field, _) = args[0].kind else {
                throw failure("invalid argument to has() macro", e)
            }
            let inner = try compile(operand)
            let key = CELMapKey.string(field)
            return { ctx in Compiler.presence(inner(ctx), key: key) }
        default:
            break
        }
        let leadingDot = function.hasPrefix(".")
        let bare = leadingDot ? String(function.dropFirst()) : function
        for candidate in candidates(bare, leadingDot: leadingDot) where environment.functions[candidate] != nil {
            return try compileFunction(e, name: candidate, style: .global, args: args, receiver: nil)
        }
        return try compileFunction(e, name: bare, style: .global, args: args, receiver: nil)
    }

    /// Binds the overloads of `name` with the right style and arity, then builds the call closure.
    mutating func compileFunction(_ e: Expr, name: String, style: CELOverload.Style, args: [Expr],
                                  receiver: Expr?) throws(CELError) -> Compiled {
        // Boxes, not bare closures: an array of closures would store them reabstracted (thunks on every call).
        var compiledArgs: [CompiledBox] = []
        if let receiver { compiledArgs.append(CompiledBox(try compile(receiver))) }
        for a in args { compiledArgs.append(CompiledBox(try compile(a))) }
        let arity = compiledArgs.count
        let all = environment.functions[name] ?? []
        let overloads = all.filter { $0.style == style && $0.acceptsArity(arity) }
        if overloads.isEmpty {
            if environment.options.checkDeclarations {
                if all.isEmpty { throw failure("undeclared reference to '\(name)'", e) }
                throw failure("found no matching overload for '\(name)' with \(arity) argument(s)", e)
            }
            let error = CELValue.error(.noMatchingOverload(name))
            let argList = compiledArgs
            return { ctx in
                for a in argList {
                    let v = a.run(ctx)
                    if v.isErrorOrUnknown { return v }
                }
                return error
            }
        }
        return Dispatch.call(name: name, overloads: overloads, args: compiledArgs)
    }

    // MARK: - Macros (langdef "Macros")

    mutating func compileReceiverMacro(_ e: Expr, target: Expr, function: String, args: [Expr]) throws(CELError) -> Compiled? {
        func variable(_ x: Expr) throws(CELError) -> String {
            if case .ident(let n, false) = x.kind { return n }
            // `cel.iterVar(i, j)` as a comprehension variable (cel.block-optimized expressions).
            if case .call(let t?, let f, let a) = x.kind, case .ident("cel", false) = t.kind,
               let name = Compiler.internalVariable("cel." + f, a) {
                return name
            }
            throw failure("argument must be a simple name", x)
        }
        switch (function, args.count) {
        case ("all", 2), ("exists", 2), ("exists_one", 2), ("existsOne", 2), ("filter", 2), ("map", 2), ("map", 3):
            let name = try variable(args[0])
            let range = try compile(target)
            let slot = newSlot()
            scopes.append((name, slot))
            defer { scopes.removeLast() }
            let first = try compile(args[1])
            switch function {
            case "all": return Comprehensions.quantifier(range, valueSlot: slot, keySlot: nil, predicate: first, kind: .all)
            case "exists": return Comprehensions.quantifier(range, valueSlot: slot, keySlot: nil, predicate: first, kind: .exists)
            case "exists_one", "existsOne":
                return Comprehensions.quantifier(range, valueSlot: slot, keySlot: nil, predicate: first, kind: .existsOne)
            case "filter": return Comprehensions.mapList(range, valueSlot: slot, keySlot: nil, filter: first, transform: nil)
            default:
                if args.count == 3 {
                    let transform = try compile(args[2])
                    return Comprehensions.mapList(range, valueSlot: slot, keySlot: nil, filter: first, transform: transform)
                }
                return Comprehensions.mapList(range, valueSlot: slot, keySlot: nil, filter: nil, transform: first)
            }
        case ("all", 3), ("exists", 3), ("existsOne", 3), ("exists_one", 3), ("transformList", 3), ("transformList", 4),
             ("transformMap", 3), ("transformMap", 4):
            // Two-variable comprehensions: (index, value) over lists, (key, value) over maps.
            let keyName = try variable(args[0])
            let valueName = try variable(args[1])
            if keyName == valueName { throw failure("duplicate variable name '\(keyName)'", args[1]) }
            let range = try compile(target)
            let keySlot = newSlot()
            let valueSlot = newSlot()
            scopes.append((keyName, keySlot))
            scopes.append((valueName, valueSlot))
            defer { scopes.removeLast(2) }
            let first = try compile(args[2])
            let second = args.count == 4 ? try compile(args[3]) : nil
            switch function {
            case "all": return Comprehensions.quantifier(range, valueSlot: valueSlot, keySlot: keySlot, predicate: first, kind: .all)
            case "exists": return Comprehensions.quantifier(range, valueSlot: valueSlot, keySlot: keySlot, predicate: first, kind: .exists)
            case "existsOne", "exists_one":
                return Comprehensions.quantifier(range, valueSlot: valueSlot, keySlot: keySlot, predicate: first, kind: .existsOne)
            case "transformList":
                return second.map { Comprehensions.mapList(range, valueSlot: valueSlot, keySlot: keySlot, filter: first, transform: $0) }
                    ?? Comprehensions.mapList(range, valueSlot: valueSlot, keySlot: keySlot, filter: nil, transform: first)
            default:
                return second.map { Comprehensions.transformMap(range, valueSlot: valueSlot, keySlot: keySlot, filter: first, transform: $0) }
                    ?? Comprehensions.transformMap(range, valueSlot: valueSlot, keySlot: keySlot, filter: nil, transform: first)
            }
        case ("sortBy", 2):
            // cel-go lists extension: `l.sortBy(v, key)` is `@sortByAssociatedKeys(l, l.map(v, key))` with `l`
            // evaluated once; only where that function is installed (CELExtensions.lists).
            let sorter = (environment.functions["@sortByAssociatedKeys"] ?? []).filter { $0.style == .global && $0.acceptsArity(2) }
            if sorter.isEmpty { return nil }
            let name = try variable(args[0])
            let range = try compile(target)
            let listSlot = newSlot()
            let slot = newSlot()
            scopes.append((name, slot))
            defer { scopes.removeLast() }
            let key = try compile(args[1])
            let list: Compiled = { ctx in ctx.slots[listSlot] }
            let keys = Comprehensions.mapList(list, valueSlot: slot, keySlot: nil, filter: nil, transform: key)
            let call = Dispatch.call(name: "sortBy", overloads: sorter, args: [CompiledBox(list), CompiledBox(keys)])
            return { ctx in
                ctx.slots[listSlot] = range(ctx)
                return call(ctx)
            }
        case ("optMap", 2), ("optFlatMap", 2):
            let name = try variable(args[0])
            let optional = try compile(target)
            let slot = newSlot()
            scopes.append((name, slot))
            defer { scopes.removeLast() }
            let body = try compile(args[1])
            let flat = function == "optFlatMap"
            return { ctx in
                let o = optional(ctx)
                guard case .optional(let inner) = o else {
                    return o.isErrorOrUnknown ? o : .error(.noMatchingOverload(function))
                }
                guard let inner else { return .optional(nil) }
                ctx.slots[slot] = inner
                let r = body(ctx)
                if r.isErrorOrUnknown { return r }
                if flat {
                    guard case .optional = r else { return .error(.noMatchingOverload(function)) }
                    return r
                }
                return .optional(r)
            }
        default:
            return nil
        }
    }

    /// Internal variable names of the block extension: `cel.index(i)`, `cel.iterVar(i, j)`, `cel.accuVar(i, j)`.
    static func internalVariable(_ function: String, _ args: [Expr]) -> String? {
        var numbers: [Int64] = []
        for a in args {
            guard case .literal(.int(let n)) = a.kind else { return nil }
            numbers.append(n)
        }
        switch (function, numbers.count) {
        case ("cel.index", 1): return "@index:\(numbers[0])"
        case ("cel.iterVar", 2): return "@it:\(numbers[0]):\(numbers[1])"
        case ("cel.accuVar", 2): return "@ac:\(numbers[0]):\(numbers[1])"
        default: return nil
        }
    }

    /// `cel.block([e0, e1, ...], result)`: `cel.index(i)` in later expressions refers to `ei`. Bindings are
    /// evaluated eagerly, in order.
    mutating func compileBlock(_ e: Expr, _ args: [Expr]) throws(CELError) -> Compiled {
        guard args.count == 2, case .list(let bindings, let optional) = args[0].kind, !optional.contains(true) else {
            throw failure("cel.block() requires a list literal of bindings and an expression", e)
        }
        var steps: [(slot: Int, value: Compiled)] = []
        let depth = scopes.count
        defer { scopes.removeLast(scopes.count - depth) }
        for (i, b) in bindings.enumerated() {
            let value = try compile(b)
            let slot = newSlot()
            scopes.append(("@index:\(i)", slot))
            steps.append((slot, value))
        }
        let body = try compile(args[1])
        let program = steps
        return { ctx in
            for (slot, value) in program { ctx.slots[slot] = value(ctx) }
            return body(ctx)
        }
    }

    /// `cel.bind(name, init, body)` (cel-go bindings extension).
    mutating func compileBind(_ e: Expr, _ args: [Expr]) throws(CELError) -> Compiled {
        guard args.count == 3, case .ident(let name, false) = args[0].kind else {
            throw failure("cel.bind() requires a name, an initializer and an expression", e)
        }
        let initializer = try compile(args[1])
        let slot = newSlot()
        scopes.append((name, slot))
        defer { scopes.removeLast() }
        let body = try compile(args[2])
        return { ctx in
            ctx.slots[slot] = initializer(ctx)
            return body(ctx)
        }
    }
}

/// A compiled node in a struct, so arrays of nodes keep closures at their natural abstraction
/// (an array of bare closures makes every call go through reabstraction thunks).
struct CompiledBox: Sendable {
    let run: Compiled
    init(_ run: @escaping Compiled) { self.run = run }
}

/// Runtime dispatch of pre-bound overloads.
enum Dispatch {
    static func call(name: String, overloads: [CELOverload], args: [CompiledBox]) -> Compiled {
        if overloads.count == 1, let o = overloads.first, o.isStrict {
            switch (o.implementation, args.count) {
            case (.unary(let body), 1):
                let a0 = args[0].run
                let p0 = o.parameters[0]
                let cost = o.cost
                let error = CELValue.error(.noMatchingOverload(name))
                return { ctx in
                    let a = a0(ctx)
                    if a.isErrorOrUnknown { return a }
                    guard p0.accepts(a) else { return error }
                    if let e = charge(cost, ctx, a) { return .error(e) }
                    return body(a)
                }
            case (.binary(let body), 2):
                let a0 = args[0].run
                let a1 = args[1].run
                let p0 = o.parameters[0]
                let p1 = o.parameters[1]
                let cost = o.cost
                let error = CELValue.error(.noMatchingOverload(name))
                return { ctx in
                    let a = a0(ctx)
                    let b = a1(ctx)
                    if a.isErrorOrUnknown || b.isErrorOrUnknown { return propagate([a, b]) }
                    guard p0.accepts(a), p1.accepts(b) else { return error }
                    if let e = charge(cost, ctx, a, b) { return .error(e) }
                    return body(a, b)
                }
            default: break
            }
        }
        return { ctx in
            var values: [CELValue] = []
            values.reserveCapacity(args.count)
            var bad = false
            for a in args {
                let v = a.run(ctx)
                if v.isErrorOrUnknown { bad = true }
                values.append(v)
            }
            for o in overloads {
                if bad, o.isStrict { continue }
                guard o.accepts(values) else { continue }
                if let e = charge(o.cost, ctx, values) { return .error(e) }
                return invoke(o.implementation, values, ctx)
            }
            if bad { return propagate(values) }
            return .error(.noMatchingOverload(name))
        }
    }

    static func invoke(_ implementation: CELImplementation, _ values: [CELValue], _ ctx: CELEvaluationContext) -> CELValue {
        switch implementation {
        case .unary(let f): return values.count == 1 ? f(values[0]) : .error(.noMatchingOverload("arity"))
        case .binary(let f): return values.count == 2 ? f(values[0], values[1]) : .error(.noMatchingOverload("arity"))
        case .ternary(let f):
            return values.count == 3 ? f(values[0], values[1], values[2]) : .error(.noMatchingOverload("arity"))
        case .variadic(let f): return f(values)
        case .contextual(let f): return f(ctx, values)
        }
    }

    /// Strict propagation: unknowns (merged) win over errors; otherwise the first error.
    static func propagate(_ values: [CELValue]) -> CELValue {
        var unknown: CELUnknown?
        var error: CELValue?
        for v in values {
            switch v {
            case .unknown(let u): unknown = unknown.map { $0.merging(u) } ?? u
            case .error: if error == nil { error = v }
            default: break
            }
        }
        if let unknown { return .unknown(unknown) }
        return error ?? .error(CELError(.noMatchingOverload, "no such overload"))
    }

    @inline(__always)
    static func charge(_ cost: CELCost, _ ctx: CELEvaluationContext, _ a: CELValue) -> CELError? {
        switch cost.kind {
        case .fixed(let n): return ctx.charge(n)
        default: return charge(cost, ctx, [a])
        }
    }

    @inline(__always)
    static func charge(_ cost: CELCost, _ ctx: CELEvaluationContext, _ a: CELValue, _ b: CELValue) -> CELError? {
        switch cost.kind {
        case .fixed(let n): return ctx.charge(n)
        case .linear(let base, let perMille):
            return ctx.charge(saturatingAdd(base, scaled(celSize(a) + celSize(b), perMille)))
        default: return charge(cost, ctx, [a, b])
        }
    }

    static func charge(_ cost: CELCost, _ ctx: CELEvaluationContext, _ values: [CELValue]) -> CELError? {
        switch cost.kind {
        case .fixed(let n): return ctx.charge(n)
        case .linear(let base, let perMille):
            var total = 0
            for v in values { total += celSize(v) }
            return ctx.charge(saturatingAdd(base, scaled(total, perMille)))
        case .custom(let f): return ctx.charge(max(0, f(values)))
        }
    }

    /// `ceil(size × perMille / 1000)`, saturating.
    @inline(__always)
    static func scaled(_ size: Int, _ perMille: Int64) -> Int64 {
        let (product, overflow) = Int64(size).multipliedReportingOverflow(by: perMille)
        if overflow { return Int64.max / 2 }
        return product / 1000 + (product % 1000 == 0 ? 0 : 1)
    }

    @inline(__always)
    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int64.max : sum
    }
}
