/// The type checker (langdef "Gradual Type Checking"): deduces the static type of a parsed expression from
/// the declared variables and overload signatures, with type parameters unified as cel-spec's checkers do
/// (`dyn` is assignable both ways; `null` to abstract, message and time types; joins of literal elements
/// keep the more general type). Checking is separate from compilation: evaluation never needs it.
struct TypeChecker {
    let environment: CELEnvironment
    let source: [UInt8]
    /// Type variable bindings.
    var substitutions: [String: TType] = [:]
    /// Bindings made by the assignability test in progress, with the values they replaced.
    var trail: [(name: String, previous: TType?)] = []
    /// Local (comprehension, bind, block) variables in scope, innermost last.
    var scopes: [(name: String, type: TType)] = []
    var freshCount = 0
    /// Work done by type operations; bounded so hostile expressions cannot make checking explode.
    var steps = 0
    var exhausted = false

    static let stepLimit = 2_000_000
    /// Bound on the recursion of type operations (type nesting and variable chains): types are at most
    /// about twice as deep as the syntax tree, which the parser bounds.
    let depthLimit: Int

    init(environment: CELEnvironment, source: [UInt8]) {
        self.environment = environment
        self.source = source
        self.depthLimit = max(64, min(environment.options.maxNestingDepth, 1000)) * 2 + 16
    }

    static func check(_ text: String, environment: CELEnvironment) throws(CELError) -> CELType {
        let ast = try Parser.parse(text, options: environment.options)
        var checker = TypeChecker(environment: environment, source: Array(text.utf8))
        let t = try checker.check(ast)
        let result = checker.substitute(t, toDyn: true)
        try checker.verifyBudget(ast)
        return result.celType
    }

    // MARK: - Errors

    func failure(_ code: CELError.Code, _ message: String, _ e: Expr) -> CELError {
        CELError(code, message, position: Parser.position(e.offset, in: source))
    }

    func verifyBudget(_ e: Expr) throws(CELError) {
        if exhausted { throw failure(.costLimitExceeded, "type checking exceeded its complexity limit", e) }
    }

    /// Counts one unit of work; false once the budget or the depth bound is exceeded.
    mutating func tick(_ depth: Int) -> Bool {
        steps += 1
        if steps > TypeChecker.stepLimit || depth > depthLimit { exhausted = true }
        return !exhausted
    }

    mutating func fresh() -> TType {
        freshCount += 1
        return .variable("%\(freshCount)")
    }

    // MARK: - Type relations

    /// Applies the substitutions; with `toDyn`, unbound variables become `dyn`.
    mutating func substitute(_ t: TType, toDyn: Bool, depth: Int = 0) -> TType {
        guard tick(depth) else { return .dyn }
        switch t {
        case .variable(let n):
            if let s = substitutions[n] { return substitute(s, toDyn: toDyn, depth: depth + 1) }
            return toDyn ? .dyn : t
        case .list(let e): return .list(substitute(e, toDyn: toDyn, depth: depth + 1))
        case .map(let k, let v):
            return .map(substitute(k, toDyn: toDyn, depth: depth + 1), substitute(v, toDyn: toDyn, depth: depth + 1))
        case .abstract(let n, let ps):
            if ps.isEmpty { return t }
            var out: [TType] = []
            for p in ps { out.append(substitute(p, toDyn: toDyn, depth: depth + 1)) }
            return .abstract(n, out)
        case .type(let p?): return .type(substitute(p, toDyn: toDyn, depth: depth + 1))
        default: return t
        }
    }

    /// Whether the variable `name` does not occur in `t` (occurs check, through substitutions).
    mutating func notReferenced(_ name: String, in t: TType, depth: Int) -> Bool {
        guard tick(depth) else { return false }
        switch t {
        case .variable(let n):
            if n == name { return false }
            if let s = substitutions[n] { return notReferenced(name, in: s, depth: depth + 1) }
            return true
        case .list(let e): return notReferenced(name, in: e, depth: depth + 1)
        case .map(let k, let v):
            return notReferenced(name, in: k, depth: depth + 1) && notReferenced(name, in: v, depth: depth + 1)
        case .abstract(_, let ps):
            for p in ps where !notReferenced(name, in: p, depth: depth + 1) { return false }
            return true
        case .type(let p?): return notReferenced(name, in: p, depth: depth + 1)
        default: return true
        }
    }

    /// Whether `t` may be bound to (or agrees with the binding of) the variable `v`.
    /// Returns (valid, whether `v` already had a binding).
    mutating func substitution(_ t: TType, _ v: String, depth: Int) -> (Bool, Bool) {
        if case .variable(let n) = t, n == v { return (true, true) }
        if let bound = substitutions[v] {
            if bound == t { return (true, true) }
            if assignable(t, bound, depth: depth + 1) {
                let general = mostGeneral(t, bound, depth: depth + 1)
                if notReferenced(v, in: general, depth: depth + 1) { bind(v, general) }
                return (true, true)
            }
            return (false, true)
        }
        if notReferenced(v, in: t, depth: depth + 1) {
            bind(v, t)
            return (true, false)
        }
        return (false, false)
    }

    /// Assignability of `t1` (an argument) to `t2` (a parameter), binding variables in `m`.
    mutating func assignable(_ t1: TType, _ t2: TType, depth: Int) -> Bool {
        guard tick(depth) else { return false }
        if case .variable(let v2) = t2 {
            let (valid, bound) = substitution(t1, v2, depth: depth + 1)
            if valid { return true }
            if bound { return false }
        }
        if case .variable(let v1) = t1 { return substitution(t2, v1, depth: depth + 1).0 }
        if t1.isDynOrError || t2.isDynOrError { return true }
        if case .null = t1 { return t2 == .null || t2.isNullable }
        if case .null = t2 { return t1.isNullable }
        switch (t1, t2) {
        case (.wrapper(let a), .wrapper(let b)): return assignable(a, b, depth: depth + 1)
        case (.wrapper(let a), _): return assignable(a, t2, depth: depth + 1)
        case (_, .wrapper(let b)): return assignable(t1, b, depth: depth + 1)
        case (.list(let a), .list(let b)): return assignable(a, b, depth: depth + 1)
        case (.map(let k1, let v1), .map(let k2, let v2)):
            return assignable(k1, k2, depth: depth + 1) && assignable(v1, v2, depth: depth + 1)
        case (.abstract(let n1, let p1), .abstract(let n2, let p2)):
            guard n1 == n2, p1.count == p2.count else { return false }
            for i in p1.indices where !assignable(p1[i], p2[i], depth: depth + 1) { return false }
            return true
        case (.type, .type): return true
        default: return t1 == t2
        }
    }

    /// Whether `t1` is as general as `t2` or more (dyn and variables are the most general).
    mutating func lessSpecific(_ t1: TType, _ t2: TType, depth: Int) -> Bool {
        guard tick(depth) else { return true }
        if t1 == .dyn || t1.isVariable { return true }
        if t2 == .dyn || t2.isVariable { return false }
        // `null` joined with a nullable type keeps the nullable type (legacy nullability).
        if t2 == .null, t1.isNullable { return true }
        switch (t1, t2) {
        case (.wrapper(let a), .wrapper(let b)): return lessSpecific(a, b, depth: depth + 1)
        case (.wrapper(let a), _): return lessSpecific(a, t2, depth: depth + 1)
        case (.list(let a), .list(let b)): return lessSpecific(a, b, depth: depth + 1)
        case (.map(let k1, let v1), .map(let k2, let v2)):
            return lessSpecific(k1, k2, depth: depth + 1) && lessSpecific(v1, v2, depth: depth + 1)
        case (.abstract(let n1, let p1), .abstract(let n2, let p2)):
            guard n1 == n2, p1.count == p2.count else { return false }
            for i in p1.indices where !lessSpecific(p1[i], p2[i], depth: depth + 1) { return false }
            return true
        case (.type, .type): return true
        default: return t1 == t2
        }
    }

    mutating func mostGeneral(_ t1: TType, _ t2: TType, depth: Int) -> TType {
        lessSpecific(t1, t2, depth: depth) ? t1 : t2
    }

    /// Binds a variable, remembering the previous binding so a failed assignability test can undo it.
    mutating func bind(_ name: String, _ t: TType) {
        trail.append((name, substitutions[name]))
        substitutions[name] = t
    }

    /// Undoes the bindings made since `mark`.
    mutating func rollback(to mark: Int) {
        while trail.count > mark, let (name, previous) = trail.popLast() {
            substitutions[name] = previous
        }
    }

    /// Assignability that keeps the variable bindings only on success (an undo trail, not a copy of the
    /// substitutions, so checking stays linear in the number of variables).
    mutating func isAssignable(_ t1: TType, _ t2: TType) -> Bool {
        isAssignable([t1], [t2])
    }

    mutating func isAssignable(_ args: [TType], _ params: [TType]) -> Bool {
        guard args.count == params.count else { return false }
        let mark = trail.count
        for i in args.indices where !assignable(args[i], params[i], depth: 0) {
            rollback(to: mark)
            return false
        }
        if mark == 0 { trail.removeAll(keepingCapacity: true) }
        return true
    }

    /// The type of a literal's elements: the more general of agreeing types, `dyn` for disagreeing ones.
    mutating func join(_ previous: TType?, _ current: TType) -> TType {
        guard let previous else { return current }
        if isAssignable(previous, current) { return mostGeneral(previous, current, depth: 0) }
        return .dyn
    }

    /// Type variables in a signature type, in order of appearance.
    func variables(in t: TType, into out: inout [String]) {
        switch t {
        case .variable(let n): if !out.contains(n) { out.append(n) }
        case .list(let e): variables(in: e, into: &out)
        case .map(let k, let v): variables(in: k, into: &out); variables(in: v, into: &out)
        case .abstract(_, let ps): for p in ps { variables(in: p, into: &out) }
        case .type(let p?): variables(in: p, into: &out)
        default: break
        }
    }

    func rename(_ t: TType, _ names: [String: TType]) -> TType {
        switch t {
        case .variable(let n): names[n] ?? t
        case .list(let e): .list(rename(e, names))
        case .map(let k, let v): .map(rename(k, names), rename(v, names))
        case .abstract(let n, let ps): .abstract(n, ps.map { rename($0, names) })
        case .type(let p?): .type(rename(p, names))
        default: t
        }
    }

    /// A declared variable's type: its type parameters mean "anything".
    func declared(_ t: CELType) -> TType {
        var names: [String] = []
        let converted = TType(t)
        variables(in: converted, into: &names)
        if names.isEmpty { return converted }
        return rename(converted, Dictionary(names.map { ($0, TType.dyn) }, uniquingKeysWith: { a, _ in a }))
    }

    // MARK: - Expressions

    mutating func check(_ e: Expr) throws(CELError) -> TType {
        if exhausted { try verifyBudget(e) }
        switch e.kind {
        case .literal(let v):
            return TType(v.celType)
        case .ident(let name, let leadingDot):
            return try checkName(name, leadingDot: leadingDot, fields: [], e)
        case .select(let operand, let field, let optional):
            if !optional, let chain = Compiler.nameChain(e), local(chain.root) == nil || chain.leadingDot {
                return try checkName(chain.root, leadingDot: chain.leadingDot, fields: chain.fields, e)
            }
            return try select(try check(operand), field: field, optional: optional, e)
        case .call(let target, let function, let args):
            return try checkCall(e, target: target, function: function, args: args)
        case .list(let elements, let optional):
            var elementType: TType?
            for (i, x) in elements.enumerated() {
                var t = try check(x)
                if i < optional.count, optional[i] { t = try unwrapOptional(t, x) }
                elementType = join(elementType, t)
            }
            return .list(elementType ?? fresh())
        case .map(let entries):
            var keyType: TType?
            var valueType: TType?
            for entry in entries {
                keyType = join(keyType, try check(entry.key))
                var v = try check(entry.value)
                if entry.optional { v = try unwrapOptional(v, entry.value) }
                valueType = join(valueType, v)
            }
            return .map(keyType ?? fresh(), valueType ?? fresh())
        case .message(let name, let fields):
            for f in fields { _ = try check(f.value) }
            let bare = name.hasPrefix(".") ? String(name.dropFirst()) : name
            let resolved = candidates(bare, leadingDot: name.hasPrefix(".")).first { WellKnown.names.contains($0) }
            return TypeChecker.messageType(resolved ?? bare)
        }
    }

    /// The CEL type a message literal denotes (wrappers are their primitive; langdef "Dynamic Values").
    static func messageType(_ name: String) -> TType {
        switch name {
        case "google.protobuf.BoolValue": .wrapper(.bool)
        case "google.protobuf.BytesValue": .wrapper(.bytes)
        case "google.protobuf.DoubleValue", "google.protobuf.FloatValue": .wrapper(.double)
        case "google.protobuf.Int32Value", "google.protobuf.Int64Value": .wrapper(.int)
        case "google.protobuf.UInt32Value", "google.protobuf.UInt64Value": .wrapper(.uint)
        case "google.protobuf.StringValue": .wrapper(.string)
        default: TType(.message(name))
        }
    }

    /// The element type of an optional entry (`[?x]`, `{?k: v}`).
    mutating func unwrapOptional(_ t: TType, _ e: Expr) throws(CELError) -> TType {
        let inner = fresh()
        if isAssignable(t, .optional(inner)) { return substitute(inner, toDyn: false) }
        throw failure(.check, "expected type 'optional_type' but found '\(substitute(t, toDyn: false).display)'", e)
    }

    func local(_ name: String) -> TType? {
        scopes.last(where: { $0.name == name })?.type
    }

    /// Candidate qualified names in the container, most specific first (langdef "Name Resolution").
    func candidates(_ name: String, leadingDot: Bool) -> [String] {
        let container = environment.options.container
        if leadingDot || container.isEmpty { return [name] }
        var out: [String] = []
        var parts = container.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            out.append(parts.joined(separator: ".") + "." + name)
            parts.removeLast()
        }
        out.append(name)
        return out
    }

    /// `root.f1.f2`: a local, the longest declared qualified variable, a constant or a type name.
    mutating func checkName(_ root: String, leadingDot: Bool, fields: [String], _ e: Expr) throws(CELError) -> TType {
        if !leadingDot, let t = local(root) {
            return try selectChain(t, fields, e)
        }
        for prefixLength in stride(from: fields.count, through: 0, by: -1) {
            let qualified = ([root] + fields.prefix(prefixLength)).joined(separator: ".")
            let rest = Array(fields.dropFirst(prefixLength))
            for candidate in candidates(qualified, leadingDot: leadingDot) {
                if let t = environment.variables[candidate] { return try selectChain(declared(t), rest, e) }
                if builtinConstants[candidate] != nil { return try selectChain(.int, rest, e) }
                if let t = builtinTypeNames[candidate] ?? environment.types[candidate] {
                    return try selectChain(.type(declared(t)), rest, e)
                }
            }
        }
        // Without declaration checking, undeclared names are looked up in the activation at run time (dyn).
        if !environment.options.checkDeclarations { return .dyn }
        throw failure(.undeclaredReference, "undeclared reference to '\(([root] + fields).joined(separator: "."))'", e)
    }

    mutating func selectChain(_ t: TType, _ fields: [String], _ e: Expr) throws(CELError) -> TType {
        var t = t
        for f in fields { t = try select(t, field: f, optional: false, e) }
        return t
    }

    /// Field selection (langdef "Field Selection"): map values, `dyn`, messages without a schema as `dyn`;
    /// selecting on an optional yields an optional.
    mutating func select(_ t: TType, field: String, optional: Bool, _ e: Expr) throws(CELError) -> TType {
        var target = substitute(t, toDyn: false)
        var wrap = optional
        if case .abstract(TType.optionalName, let ps) = target, ps.count == 1 {
            target = ps[0]
            wrap = true
        }
        let result: TType
        switch target {
        case .map(_, let v): result = v
        case .dyn, .error, .message: result = .dyn
        case .variable:
            _ = isAssignable(.dyn, target)
            result = .dyn
        default:
            throw failure(.check, "type '\(target.display)' does not support field selection", e)
        }
        return wrap ? .optional(result) : result
    }

    // MARK: - Calls

    func hasFunction(_ name: String) -> Bool {
        environment.functions[name] != nil || CheckerDeclarations.operators[name] != nil
    }

    mutating func checkCall(_ e: Expr, target: Expr?, function: String, args: [Expr]) throws(CELError) -> TType {
        if let target {
            if let t = try receiverMacro(e, target: target, function: function, args: args) { return t }
            if let chain = Compiler.nameChain(target), chain.leadingDot || local(chain.root) == nil {
                let qualified = ([chain.root] + chain.fields + [function]).joined(separator: ".")
                if qualified == "cel.bind" { return try checkBind(e, args) }
                if qualified == "cel.block" { return try checkBlock(e, args) }
                if let internalName = Compiler.internalVariable(qualified, args) {
                    guard let t = local(internalName) else {
                        throw failure(.undeclaredReference, "undeclared reference to '\(internalName)'", e)
                    }
                    return t
                }
                let declaredPrefix = (0...chain.fields.count).contains { n in
                    let name = ([chain.root] + chain.fields.prefix(n)).joined(separator: ".")
                    return candidates(name, leadingDot: chain.leadingDot).contains { environment.variables[$0] != nil }
                }
                if !declaredPrefix {
                    for candidate in candidates(qualified, leadingDot: chain.leadingDot) where hasFunction(candidate) {
                        return try resolve(e, name: candidate, receiver: nil, args: args)
                    }
                }
            }
            return try resolve(e, name: function, receiver: target, args: args)
        }
        if function == "has" {
            guard args.count == 1, case .select(let operand, let field, _) = args[0].kind else {
                throw failure(.check, "invalid argument to has() macro", e)
            }
            _ = try select(try check(operand), field: field, optional: false, args[0])
            return .bool
        }
        let leadingDot = function.hasPrefix(".")
        let bare = leadingDot ? String(function.dropFirst()) : function
        for candidate in candidates(bare, leadingDot: leadingDot) where hasFunction(candidate) {
            return try resolve(e, name: candidate, receiver: nil, args: args)
        }
        return try resolve(e, name: bare, receiver: nil, args: args)
    }

    /// The checker signatures of a function: the standard declarations, then library and caller overloads.
    func signatures(_ name: String) -> [CheckSignature] {
        var out = CheckerDeclarations.operators[name] ?? []
        let declared = !out.isEmpty
        for o in environment.functions[name] ?? [] {
            if CheckerDeclarations.standardIDs.contains(o.id), o.resultType == .dyn {
                if declared { continue }
                let s = CheckSignature(o)
                out.append(CheckSignature(s.id, receiver: s.receiver, s.parameters,
                                          CheckerDeclarations.standardResults[name] ?? s.result, variadic: s.variadic))
            } else {
                out.append(CheckerDeclarations.signature(name, o))
            }
        }
        return out
    }

    /// Overload resolution: every signature whose parameters accept the argument types contributes; the
    /// result is the first one's type, or `dyn` when matching overloads disagree.
    mutating func resolve(_ e: Expr, name: String, receiver: Expr?, args: [Expr]) throws(CELError) -> TType {
        var argTypes: [TType] = []
        if let receiver { argTypes.append(try check(receiver)) }
        for a in args { argTypes.append(try check(a)) }
        let all = signatures(name)
        if all.isEmpty { throw failure(.undeclaredReference, "undeclared reference to '\(name)'", e) }
        var result: TType?
        for s in all where s.receiver == (receiver != nil) {
            guard s.variadic ? argTypes.count >= s.parameters.count : argTypes.count == s.parameters.count else { continue }
            var names: [String] = []
            for p in s.parameters { variables(in: p, into: &names) }
            variables(in: s.result, into: &names)
            var renaming: [String: TType] = [:]
            for n in names { renaming[n] = fresh() }
            var params = s.parameters.map { rename($0, renaming) }
            while params.count < argTypes.count { params.append(.dyn) }
            guard isAssignable(argTypes, params) else { continue }
            let r = substitute(rename(s.result, renaming), toDyn: false)
            if let previous = result {
                if previous != .dyn, previous != r { result = .dyn }
            } else {
                result = r
            }
        }
        if var result {
            if result == .dyn, name == "math.greatest" || name == "math.least" { result = extremumType(argTypes) }
            return result
        }
        let shown = argTypes.map { substitute($0, toDyn: false).display }.joined(separator: ", ")
        let call = receiver == nil ? "(\(shown))" : "receiver-style (\(shown))"
        throw failure(.noMatchingOverload, "found no matching overload for '\(name)' applied to \(call)", e)
    }

    /// `math.greatest`/`math.least` (cel-go math extension): the common numeric type of the arguments, or of
    /// the single list argument's elements; `dyn` when they are mixed.
    mutating func extremumType(_ args: [TType]) -> TType {
        var types = args.map { substitute($0, toDyn: true) }
        if types.count == 1, case .list(let element) = types[0] { types = [element] }
        guard let first = types.first, [TType.int, .uint, .double].contains(first),
              types.allSatisfy({ $0 == first }) else { return .dyn }
        return first
    }

    mutating func requireBool(_ t: TType, _ e: Expr) throws(CELError) {
        guard isAssignable(t, .bool) else {
            throw failure(.check, "expected type 'bool' but found '\(substitute(t, toDyn: false).display)'", e)
        }
    }

    /// The variable types of a comprehension over `range`: (key or element, value for two-variable forms).
    mutating func iterationTypes(_ range: TType, _ e: Expr) throws(CELError) -> (first: TType, second: TType, isMap: Bool) {
        let r = substitute(range, toDyn: false)
        switch r {
        case .list(let element): return (element, element, false)
        case .map(let k, let v): return (k, v, true)
        case .dyn, .error: return (.dyn, .dyn, false)
        case .variable:
            _ = isAssignable(.dyn, r)
            return (.dyn, .dyn, false)
        default:
            throw failure(.check, "expression of type '\(r.display)' cannot be range of a comprehension", e)
        }
    }

    func macroVariable(_ x: Expr) throws(CELError) -> String {
        if case .ident(let n, false) = x.kind { return n }
        if case .call(let t?, let f, let a) = x.kind, case .ident("cel", false) = t.kind,
           let name = Compiler.internalVariable("cel." + f, a) {
            return name
        }
        throw failure(.check, "argument must be a simple name", x)
    }

    /// The comprehension macros (langdef "Macros") and the extensions' receiver macros.
    mutating func receiverMacro(_ e: Expr, target: Expr, function: String, args: [Expr]) throws(CELError) -> TType? {
        if function == "sortBy", environment.functions["@sortByAssociatedKeys"] == nil { return nil }
        switch (function, args.count) {
        case ("all", 2), ("exists", 2), ("exists_one", 2), ("existsOne", 2), ("filter", 2), ("map", 2), ("map", 3),
             ("sortBy", 2):
            let name = try macroVariable(args[0])
            let range = try check(target)
            let element = try iterationTypes(range, target).first
            scopes.append((name, element))
            defer { scopes.removeLast() }
            let first = try check(args[1])
            switch function {
            case "map":
                if args.count == 3 {
                    try requireBool(first, args[1])
                    return .list(try check(args[2]))
                }
                return .list(first)
            case "filter":
                try requireBool(first, args[1])
                return .list(element)
            case "sortBy":
                return try resolveSortBy(e, range: range, keyType: first)
            default:
                try requireBool(first, args[1])
                return .bool
            }
        case ("all", 3), ("exists", 3), ("existsOne", 3), ("exists_one", 3), ("transformList", 3), ("transformList", 4),
             ("transformMap", 3), ("transformMap", 4):
            let keyName = try macroVariable(args[0])
            let valueName = try macroVariable(args[1])
            if keyName == valueName { throw failure(.check, "duplicate variable name '\(keyName)'", args[1]) }
            let range = try check(target)
            let types = try iterationTypes(range, target)
            let keyType: TType = types.isMap || types.first == .dyn ? types.first : .int
            scopes.append((keyName, keyType))
            scopes.append((valueName, types.second))
            defer { scopes.removeLast(2) }
            let first = try check(args[2])
            var transform = first
            if args.count == 4 {
                try requireBool(first, args[2])
                transform = try check(args[3])
            }
            switch function {
            case "transformList": return .list(transform)
            case "transformMap": return .map(keyType, transform)
            default:
                try requireBool(first, args[2])
                return .bool
            }
        case ("optMap", 2), ("optFlatMap", 2):
            let name = try macroVariable(args[0])
            let optional = try check(target)
            let inner = try unwrapOptional(optional, target)
            scopes.append((name, inner))
            defer { scopes.removeLast() }
            let body = try check(args[1])
            if function == "optMap" { return .optional(body) }
            let result = fresh()
            guard isAssignable(body, .optional(result)) else {
                throw failure(.check, "optFlatMap() expression must be an optional, found '\(substitute(body, toDyn: false).display)'", args[1])
            }
            return .optional(result)
        default:
            return nil
        }
    }

    /// `l.sortBy(v, key)` expands to `@sortByAssociatedKeys(l, l.map(v, key))` (cel-go lists extension), whose
    /// overloads are `(list(T), list(K)) -> list(T)` for each comparable K (int, uint, double, bool, duration,
    /// timestamp, string, bytes), tried in that order. A `dyn` key matches several of them: the result is then
    /// `dyn`, as Google's C++ checker deduces.
    mutating func resolveSortBy(_ e: Expr, range: TType, keyType: TType) throws(CELError) -> TType {
        var result: TType?
        var matches = 0
        for key: TType in [.int, .uint, .double, .bool, .duration, .timestamp, .string, .bytes] {
            let element = fresh()
            guard isAssignable([range, .list(keyType)], [.list(element), .list(key)]) else { continue }
            matches += 1
            if result == nil { result = substitute(.list(element), toDyn: false) }
        }
        guard let result else {
            let shown = "(\(substitute(range, toDyn: false).display), list(\(substitute(keyType, toDyn: false).display)))"
            throw failure(.noMatchingOverload, "found no matching overload for 'sortBy' applied to \(shown)", e)
        }
        return matches > 1 ? .dyn : result
    }

    mutating func checkBind(_ e: Expr, _ args: [Expr]) throws(CELError) -> TType {
        guard args.count == 3, case .ident(let name, false) = args[0].kind else {
            throw failure(.check, "cel.bind() requires a name, an initializer and an expression", e)
        }
        let initial = try check(args[1])
        scopes.append((name, initial))
        defer { scopes.removeLast() }
        return try check(args[2])
    }

    mutating func checkBlock(_ e: Expr, _ args: [Expr]) throws(CELError) -> TType {
        guard args.count == 2, case .list(let bindings, let optional) = args[0].kind, !optional.contains(true) else {
            throw failure(.check, "cel.block() requires a list literal of bindings and an expression", e)
        }
        let depth = scopes.count
        defer { scopes.removeLast(scopes.count - depth) }
        for (i, b) in bindings.enumerated() {
            let t = try check(b)
            scopes.append(("@index:\(i)", t))
        }
        return try check(args[1])
    }
}

extension CELEnvironment {
    /// Type-checks an expression (langdef "Gradual Type Checking") against the declared variables and the
    /// overload signatures of the standard library, the libraries and the caller's functions, and returns
    /// its deduced type (`.dyn` where nothing more specific is known; unbound type parameters are `dyn`).
    ///
    /// Throws `CELError` with code `.parse`, `.undeclaredReference`, `.noMatchingOverload`, `.check` (other
    /// type errors) or `.costLimitExceeded` (a pathological expression), with the position. Checking is
    /// optional: `compile` does not require it.
    public func check(_ source: String) throws(CELError) -> CELType {
        try TypeChecker.check(source, environment: self)
    }
}
