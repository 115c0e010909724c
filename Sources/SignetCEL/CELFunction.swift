/// A function known to an environment: a name and its overloads (langdef "Functions").
///
/// Global functions are called `f(x, y)`; receiver-style ("method") overloads are called `x.f(y)` and
/// receive the receiver as their first argument. Namespaced functions (`strings.quote(s)`,
/// `math.greatest(...)`) are global functions whose name contains dots.
public struct CELFunction: Sendable {
    /// The function name, e.g. `"size"`, `"startsWith"`, `"strings.quote"`.
    public let name: String
    /// The overloads; at run time the first overload (in order) whose style, arity and parameter types
    /// accept the arguments is called.
    public let overloads: [CELOverload]

    /// Creates a function.
    public init(_ name: String, _ overloads: [CELOverload]) {
        self.name = name
        self.overloads = overloads
    }

    /// Creates a function.
    public init(_ name: String, _ overloads: CELOverload...) {
        self.init(name, overloads)
    }
}

/// One signature and implementation of a function.
public struct CELOverload: Sendable {
    /// Whether the overload is called as `f(x)` or `x.f()`.
    public enum Style: Sendable, Hashable {
        /// `f(a, b)`.
        case global
        /// `a.f(b)`: the receiver `a` is the first argument.
        case receiver
    }

    /// A unique identifier, e.g. `"size_string"`; an environment replaces an earlier overload with the same id.
    public let id: String
    /// Global or receiver style.
    public let style: Style
    /// Parameter types, the receiver first for receiver style. `.dyn` and type parameters match anything.
    public let parameters: [CELType]
    /// When true, any number of arguments `>= parameters.count` is accepted (extra ones are `dyn`).
    public let isVariadic: Bool
    /// Strict overloads never see error or unknown arguments: the first such argument is the result.
    /// Non-strict overloads receive them (used for functions that absorb errors).
    public let isStrict: Bool
    /// The cost charged to the evaluation budget before each call.
    public let cost: CELCost
    /// The body.
    public let implementation: CELImplementation
    /// The result type the type checker deduces for a call (`CELEnvironment.check`); `.dyn` when not declared.
    /// `.typeParameter(name)` in `parameters` and `resultType` are the overload's type parameters.
    public let resultType: CELType

    /// Creates an overload from its parts; see the `function(...)` and `method(...)` shorthands.
    public init(id: String, style: Style, parameters: [CELType], isVariadic: Bool = false, isStrict: Bool = true,
                cost: CELCost = .fixed(1), resultType: CELType = .dyn, implementation: CELImplementation) {
        self.id = id
        self.style = style
        self.parameters = parameters
        self.isVariadic = isVariadic
        self.isStrict = isStrict
        self.cost = cost
        self.resultType = resultType
        self.implementation = implementation
    }

    /// A copy declaring the result type for the type checker: `.function("f", .string) { ... }.returning(.int)`.
    public func returning(_ type: CELType) -> CELOverload {
        CELOverload(id: id, style: style, parameters: parameters, isVariadic: isVariadic, isStrict: isStrict,
                    cost: cost, resultType: type, implementation: implementation)
    }

    /// A signature without an implementation, for type checking only (langdef "Type Checking"); calling it
    /// at run time yields an `unsupported` error value. Type parameters are written `.typeParameter("T")`.
    public static func declaration(_ id: String, style: Style = .global, parameters: [CELType],
                                   result: CELType) -> CELOverload {
        CELOverload(id: id, style: style, parameters: parameters, resultType: result,
                    implementation: .variadic { _ in .error(CELError(.unsupported, "no implementation for overload \(id)")) })
    }

    /// Whether the overload can be called with `count` arguments (receiver included).
    func acceptsArity(_ count: Int) -> Bool {
        isVariadic ? count >= parameters.count : count == parameters.count
    }

    /// Whether the overload's parameter types accept these arguments.
    func accepts(_ arguments: [CELValue]) -> Bool {
        guard acceptsArity(arguments.count) else { return false }
        for (i, p) in parameters.enumerated() where !p.accepts(arguments[i]) { return false }
        return true
    }

    // MARK: - Shorthands: global style

    /// A global one-argument overload: `f(a)`.
    public static func function(_ id: String, _ p0: CELType, cost: CELCost = .fixed(1),
                                _ body: @escaping @Sendable (CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .global, parameters: [p0], cost: cost, implementation: .unary(body))
    }

    /// A global two-argument overload: `f(a, b)`.
    public static func function(_ id: String, _ p0: CELType, _ p1: CELType, cost: CELCost = .fixed(1),
                                _ body: @escaping @Sendable (CELValue, CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .global, parameters: [p0, p1], cost: cost, implementation: .binary(body))
    }

    /// A global three-argument overload: `f(a, b, c)`.
    public static func function(_ id: String, _ p0: CELType, _ p1: CELType, _ p2: CELType,
                                cost: CELCost = .fixed(1),
                                _ body: @escaping @Sendable (CELValue, CELValue, CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .global, parameters: [p0, p1, p2], cost: cost, implementation: .ternary(body))
    }

    /// A global overload taking its arguments as an array (any arity; `variadic` accepts extra arguments).
    public static func function(_ id: String, parameters: [CELType], variadic: Bool = false,
                                cost: CELCost = .fixed(1),
                                _ body: @escaping @Sendable ([CELValue]) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .global, parameters: parameters, isVariadic: variadic, cost: cost,
                    implementation: .variadic(body))
    }

    // MARK: - Shorthands: receiver style

    /// A receiver overload without arguments: `a.f()`.
    public static func method(_ id: String, _ receiver: CELType, cost: CELCost = .fixed(1),
                              _ body: @escaping @Sendable (CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .receiver, parameters: [receiver], cost: cost, implementation: .unary(body))
    }

    /// A receiver overload with one argument: `a.f(b)`.
    public static func method(_ id: String, _ receiver: CELType, _ p1: CELType, cost: CELCost = .fixed(1),
                              _ body: @escaping @Sendable (CELValue, CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .receiver, parameters: [receiver, p1], cost: cost, implementation: .binary(body))
    }

    /// A receiver overload with two arguments: `a.f(b, c)`.
    public static func method(_ id: String, _ receiver: CELType, _ p1: CELType, _ p2: CELType,
                              cost: CELCost = .fixed(1),
                              _ body: @escaping @Sendable (CELValue, CELValue, CELValue) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .receiver, parameters: [receiver, p1, p2], cost: cost,
                    implementation: .ternary(body))
    }

    /// A receiver overload taking receiver and arguments as an array.
    public static func method(_ id: String, parameters: [CELType], variadic: Bool = false,
                              cost: CELCost = .fixed(1),
                              _ body: @escaping @Sendable ([CELValue]) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .receiver, parameters: parameters, isVariadic: variadic, cost: cost,
                    implementation: .variadic(body))
    }
}

/// The body of an overload. Bodies never throw: they return `.error(...)` values.
public enum CELImplementation: Sendable {
    case unary(@Sendable (CELValue) -> CELValue)
    case binary(@Sendable (CELValue, CELValue) -> CELValue)
    case ternary(@Sendable (CELValue, CELValue, CELValue) -> CELValue)
    case variadic(@Sendable ([CELValue]) -> CELValue)
    /// A body that also gets the evaluation context, to charge cost proportional to its work
    /// (e.g. a loop over the input) or to read the evaluation's clock.
    case contextual(@Sendable (CELEvaluationContext, [CELValue]) -> CELValue)
}

/// The cost an overload charges to the evaluation budget before each call.
///
/// Sizes: strings count UTF-8 bytes, bytes count bytes, lists and maps count elements, other values 1.
public struct CELCost: Sendable {
    enum Kind: Sendable {
        case fixed(Int64)
        case linear(base: Int64, perMille: Int64)
        case custom(@Sendable ([CELValue]) -> Int64)
    }
    let kind: Kind

    /// A constant cost per call.
    public static func fixed(_ cost: Int64) -> CELCost { CELCost(kind: .fixed(cost)) }
    /// `base + factor × (sum of argument sizes)`, e.g. `.linear(factor: 0.1)` for string scans.
    public static func linear(base: Int64 = 1, factor: Double) -> CELCost {
        let perMille = (factor * 1000).rounded(.up)
        let clamped: Int64 = perMille.isFinite ? (perMille < 0 ? 0 : (perMille > 1e12 ? 1_000_000_000_000 : Int64(perMille))) : 0
        return CELCost(kind: .linear(base: base, perMille: clamped))
    }
    /// A cost computed from the arguments (receiver first).
    public static func custom(_ cost: @escaping @Sendable ([CELValue]) -> Int64) -> CELCost {
        CELCost(kind: .custom(cost))
    }
}

/// The size of a value for cost purposes (langdef "Abstract Sizes").
@inlinable func celSize(_ value: CELValue) -> Int {
    switch value {
    case .string(let s): s.utf8.count
    case .bytes(let b): b.count
    case .list(let l): l.count
    case .map(let m): m.count
    default: 1
    }
}

/// A set of functions (and optional variable declarations) installed together into an environment,
/// e.g. the standard library or an extension such as `strings` or `kubernetes.quantity`.
public struct CELLibrary: Sendable {
    /// A descriptive name, e.g. `"cel.lib.ext.strings"`.
    public let name: String
    /// The functions; overloads of functions with the same name are merged across libraries.
    public let functions: [CELFunction]
    /// Variables (or constants given as declarations) the library adds.
    public let variables: [CELVariable]
    /// Types whose names become identifiers denoting type values, e.g. `.opaque("net.IP")` makes
    /// `type(ip('1.2.3.4')) == net.IP` work.
    public let types: [CELType]

    /// Creates a library.
    public init(name: String, functions: [CELFunction], variables: [CELVariable] = [], types: [CELType] = []) {
        self.name = name
        self.functions = functions
        self.variables = variables
        self.types = types
    }
}

/// Per-evaluation state handed to `.contextual` overload bodies. Not shared between evaluations.
public final class CELEvaluationContext {
    /// Cost charged so far.
    @exclusivity(unchecked) public internal(set) var cost: Int64 = 0
    /// The budget; charging beyond it fails.
    public let costLimit: Int64
    /// Set once the budget is exceeded: every later operation returns it.
    @exclusivity(unchecked) var exhausted: CELError?
    /// Comprehension variables and pre-resolved activation variables, by compile-time slot.
    @exclusivity(unchecked) var slots: [CELValue]
    /// The activation (for variables resolved at run time).
    let activation: CELActivation

    init(costLimit: Int64, slotCount: Int, activation: CELActivation) {
        self.costLimit = costLimit
        self.slots = Array(repeating: .null, count: slotCount)
        self.activation = activation
    }

    /// Adds `amount` to the cost; returns the error to return when the budget is exceeded.
    public func charge(_ amount: Int64) -> CELError? {
        let (sum, overflow) = cost.addingReportingOverflow(amount)
        cost = overflow ? Int64.max : sum
        if cost > costLimit { return limitExceeded() }
        return nil
    }

    @usableFromInline func limitExceeded() -> CELError {
        if let exhausted { return exhausted }
        let e = CELError.costLimitExceeded(costLimit)
        exhausted = e
        return e
    }
}
