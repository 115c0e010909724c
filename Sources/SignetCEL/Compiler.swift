/// Compiles a syntax tree into a tree of closures with names resolved and overloads pre-bound, so that
/// evaluation does no lookups of function names (langdef "Evaluation").
enum CELCompiler {
    static func compile(_ source: String, environment: CELEnvironment) throws(CELError) -> CELProgram {
        let ast = try Parser.parse(source, options: environment.options)
        var compiler = Compiler(environment: environment, source: Array(source.utf8))
        let root = try compiler.compile(ast)
        return CELProgram(source: source, root: root, slotCount: compiler.slotCount,
                          preloads: compiler.preloads, defaultCostLimit: environment.options.costLimit)
    }
}

/// Built-in type names usable as values (langdef "Type Values").
let builtinTypeNames: [String: CELType] = [
    "int": .int, "uint": .uint, "double": .double, "bool": .bool, "string": .string, "bytes": .bytes,
    "list": .anyList, "map": .anyMap, "null_type": .null, "type": .type,
    "google.protobuf.Timestamp": .timestamp, "google.protobuf.Duration": .duration,
    "optional_type": .optional(.dyn),
]

/// Enum constants of the protobuf well-known types (the only enum CEL expressions commonly name).
let builtinConstants: [String: CELValue] = [
    "google.protobuf.NullValue.NULL_VALUE": .int(0),
]

struct Compiler {
    let environment: CELEnvironment
    let source: [UInt8]
    /// Comprehension variables in scope, innermost last.
    var scopes: [(name: String, slot: Int)] = []
    var slotCount = 0
    var preloads: [(slot: Int, name: String)] = []
    var preloadSlots: [String: Int] = [:]

    init(environment: CELEnvironment, source: [UInt8]) {
        self.environment = environment
        self.source = source
    }

    func failure(_ message: String, _ e: Expr) -> CELError {
        CELError(.check, message, position: Parser.position(e.offset, in: source))
    }

    mutating func newSlot() -> Int {
        slotCount += 1
        return slotCount - 1
    }

    func localSlot(_ name: String) -> Int? {
        scopes.last(where: { $0.name == name })?.slot
    }

    mutating func compile(_ e: Expr) throws(CELError) -> Compiled {
        switch e.kind {
        case .literal(let v):
            return { _ in v }
        case .ident(let name, let leadingDot):
            return try compileName(name, leadingDot: leadingDot, fields: [], e)
        case .select(let operand, let field, let optional):
            if !optional, let chain = Compiler.nameChain(e), localSlot(chain.root) == nil || chain.leadingDot {
                return try compileName(chain.root, leadingDot: chain.leadingDot, fields: chain.fields, e)
            }
            let target = try compile(operand)
            return Compiler.selector(target, field: field, optional: optional)
        case .call(let target, let function, let args):
            return try compileCall(e, target: target, function: function, args: args)
        case .list(let elements, let optional):
            let compiled = try elements.map { (x) throws(CELError) -> CompiledBox in CompiledBox(try compile(x)) }
            return Compiler.listBuilder(compiled, optional: optional)
        case .map(let entries):
            var keys: [CompiledBox] = []
            var values: [CompiledBox] = []
            for entry in entries {
                keys.append(CompiledBox(try compile(entry.key)))
                values.append(CompiledBox(try compile(entry.value)))
            }
            return Compiler.mapBuilder(keys: keys, values: values, optional: entries.map(\.optional))
        case .message(let name, let fields):
            var compiled: [(String, Compiled, Bool)] = []
            for f in fields { compiled.append((f.name, try compile(f.value), f.optional)) }
            let bare = name.hasPrefix(".") ? String(name.dropFirst()) : name
            let resolved = candidates(bare, leadingDot: name.hasPrefix(".")).first { WellKnown.names.contains($0) }
            guard let resolved else {
                let error = CELValue.error(.unsupported, "unsupported message type: \(bare)")
                return { _ in error }
            }
            let fieldClosures = compiled
            return { ctx in
                var values: [String: CELValue] = [:]
                for (field, c, optional) in fieldClosures {
                    let v = c(ctx)
                    if v.isErrorOrUnknown { return v }
                    if optional {
                        guard case .optional(let inner) = v else { return .error(.noMatchingOverload("optional field")) }
                        if let inner { values[field] = inner }
                    } else {
                        values[field] = v
                    }
                }
                return WellKnown.construct(resolved, values)
            }
        }
    }

    /// `a.b.c` as an identifier chain: root name, fields.
    static func nameChain(_ e: Expr) -> (root: String, leadingDot: Bool, fields: [String])? {
        switch e.kind {
        case .ident(let n, let dot): return (n, dot, [])
        case .select(let operand, let field, let optional):
            guard !optional, let inner = nameChain(operand) else { return nil }
            return (inner.root, inner.leadingDot, inner.fields + [field])
        default: return nil
        }
    }

    /// Candidate qualified names for `name` in the container, most specific first (langdef "Name Resolution").
    func candidates(_ name: String, leadingDot: Bool) -> [String] {
        if leadingDot || environment.options.container.isEmpty { return [name] }
        var out: [String] = []
        var parts = environment.options.container.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            out.append(parts.joined(separator: ".") + "." + name)
            parts.removeLast()
        }
        out.append(name)
        return out
    }

    /// Resolves `root.f1.f2...`: a comprehension variable, the longest declared qualified variable, a type
    /// name, or (when declarations are not checked) a run-time lookup in the activation.
    mutating func compileName(_ root: String, leadingDot: Bool, fields: [String], _ e: Expr) throws(CELError) -> Compiled {
        if !leadingDot, let slot = localSlot(root) {
            return Compiler.slotPath(slot, fields)
        }
        // Longest prefix first: `a.b.c` may be a variable named "a.b.c", "a.b" with field c, or "a".
        var runtimeCandidates: [(name: String, rest: [String])] = []
        for prefixLength in stride(from: fields.count, through: 0, by: -1) {
            let qualified = ([root] + fields.prefix(prefixLength)).joined(separator: ".")
            let rest = Array(fields.dropFirst(prefixLength))
            for candidate in candidates(qualified, leadingDot: leadingDot) {
                if environment.variables[candidate] != nil {
                    return Compiler.slotPath(preloadSlot(candidate), rest)
                }
                if let constant = builtinConstants[candidate] {
                    var c: Compiled = { _ in constant }
                    for f in rest { c = Compiler.selector(c, field: f, optional: false) }
                    return c
                }
                if let t = builtinTypeNames[candidate] ?? environment.types[candidate] {
                    var c: Compiled = { _ in .type(t) }
                    for f in rest { c = Compiler.selector(c, field: f, optional: false) }
                    return c
                }
                runtimeCandidates.append((candidate, rest))
            }
        }
        if environment.options.checkDeclarations {
            throw failure("undeclared reference to '\(([root] + fields).joined(separator: "."))'", e)
        }
        let list = runtimeCandidates
        let display = root
        return { ctx in
            for (name, rest) in list {
                guard var v = ctx.activation.values[name] else { continue }
                for f in rest { v = Compiler.select(v, FieldRef(f), optional: false) }
                return v
            }
            return .error(CELError(.undeclaredReference, "no such attribute: \(display)"))
        }
    }

    mutating func preloadSlot(_ name: String) -> Int {
        if let s = preloadSlots[name] { return s }
        let s = newSlot()
        preloadSlots[name] = s
        preloads.append((s, name))
        return s
    }

    // MARK: - Selection

    /// A variable followed by field selections, fused into one closure (`object.spec.containers`).
    static func slotPath(_ slot: Int, _ fields: [String]) -> Compiled {
        switch fields.count {
        case 0:
            return { ctx in ctx.slots[slot] }
        case 1:
            let r0 = FieldRef(fields[0])
            return { ctx in select(ctx.slots[slot], r0, optional: false) }
        case 2:
            let (r0, r1) = (FieldRef(fields[0]), FieldRef(fields[1]))
            return { ctx in select(select(ctx.slots[slot], r0, optional: false), r1, optional: false) }
        default:
            let refs = fields.map(FieldRef.init)
            return { ctx in
                var v = ctx.slots[slot]
                for r in refs { v = select(v, r, optional: false) }
                return v
            }
        }
    }

    static func selector(_ target: @escaping Compiled, field: String, optional: Bool) -> Compiled {
        let ref = FieldRef(field)
        return { ctx in select(target(ctx), ref, optional: optional) }
    }

    /// Field selection on maps (langdef "Field Selection"), optional chaining on optionals.
    static func select(_ value: CELValue, _ ref: FieldRef, optional: Bool) -> CELValue {
        switch value {
        case .map(let m):
            if let v = m.value(for: ref) { return optional ? .optional(v) : v }
            return optional ? .optional(nil) : .error(.noSuchKey(ref.name))
        case .optional(let inner):
            guard let inner else { return .optional(nil) }
            return select(inner, ref, optional: true)
        case .error, .unknown:
            return value
        case .opaque(let o):
            return .error(.noSuchField("\(ref.name) on \(o.celType.name)"))
        default:
            return .error(CELError(.noSuchField, "type '\(value.celType.name)' does not support field selection"))
        }
    }

    /// `has(e.f)`: presence of a map key (langdef "Macros").
    static func presence(_ value: CELValue, key: CELMapKey) -> CELValue {
        switch value {
        case .map(let m): return .bool(m[key] != nil)
        case .optional(let inner):
            guard let inner else { return .false }
            return presence(inner, key: key)
        case .error, .unknown: return value
        default:
            return .error(CELError(.noMatchingOverload, "invalid type for field selection: \(value.celType.name)"))
        }
    }

    // MARK: - Literals

    static func listBuilder(_ elements: [CompiledBox], optional: [Bool]) -> Compiled {
        if elements.isEmpty { return { _ in .list([]) } }
        let hasOptional = optional.contains(true)
        return { ctx in
            var out: [CELValue] = []
            out.reserveCapacity(elements.count)
            var unknown: CELUnknown?
            for (i, c) in elements.enumerated() {
                let v = c.run(ctx)
                switch v {
                case .error: return v
                case .unknown(let u): unknown = unknown.map { $0.merging(u) } ?? u
                default:
                    if hasOptional, optional[i] {
                        guard case .optional(let inner) = v else {
                            return .error(CELError(.noMatchingOverload, "optional list element is not an optional"))
                        }
                        if let inner { out.append(inner) }
                    } else {
                        out.append(v)
                    }
                }
            }
            if let unknown { return .unknown(unknown) }
            if let e = ctx.charge(Int64(out.count / 10)) { return .error(e) }
            return .list(out)
        }
    }

    static func mapBuilder(keys: [CompiledBox], values: [CompiledBox], optional: [Bool]) -> Compiled {
        return { ctx in
            var m = CELMap()
            var unknown: CELUnknown?
            for i in keys.indices {
                let k = keys[i].run(ctx)
                let v = values[i].run(ctx)
                if case .error = k { return k }
                if case .error = v { return v }
                if case .unknown(let u) = k { unknown = unknown.map { $0.merging(u) } ?? u; continue }
                if case .unknown(let u) = v { unknown = unknown.map { $0.merging(u) } ?? u; continue }
                guard let key = CELMapKey(k) else {
                    return .error(CELError(.invalidArgument, "unsupported key type: \(k.celType.name)"))
                }
                var value = v
                if optional[i] {
                    guard case .optional(let inner) = v else {
                        return .error(CELError(.noMatchingOverload, "optional map entry value is not an optional"))
                    }
                    guard let inner else { continue }
                    value = inner
                }
                if m[key] != nil { return .error(CELError(.duplicateKey, "failed with repeated key: \(key)")) }
                m.set(value, for: key)
            }
            if let unknown { return .unknown(unknown) }
            if let e = ctx.charge(Int64(m.count / 10)) { return .error(e) }
            return .map(m)
        }
    }
}
