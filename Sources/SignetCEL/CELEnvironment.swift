import SignetPrimitives

/// A declared variable: a name (possibly qualified, e.g. `request.auth`) and its type (`.dyn` when unknown).
public struct CELVariable: Sendable, Hashable {
    public let name: String
    public let type: CELType
    /// Creates a declaration.
    public init(_ name: String, _ type: CELType = .dyn) {
        self.name = name
        self.type = type
    }
}

/// Limits and switches for parsing, checking and evaluating.
public struct CELOptions: Sendable {
    /// Maximum expression length in UTF-8 bytes.
    public var maxExpressionSize: Int = 100_000
    /// Maximum nesting depth of the syntax tree (parentheses, calls, literals, selections).
    public var maxNestingDepth: Int = 250
    /// Default cost budget per evaluation (can be overridden per `evaluate` call).
    public var costLimit: Int64 = 10_000_000
    /// When true, references to undeclared variables and unknown functions fail at compile time;
    /// when false, variables are looked up in the activation at run time by name.
    public var checkDeclarations: Bool = true
    /// A container (namespace) for name resolution (langdef "Name Resolution"), e.g. `"google.api"`.
    public var container: String = ""
    /// Creates the default options.
    public init() {}
}

/// A set of declarations and functions that expressions are compiled against.
public struct CELEnvironment: Sendable {
    /// The declared variables, by name.
    public let variables: [String: CELType]
    /// The options.
    public let options: CELOptions
    /// Every function known to the environment, by name (standard library, libraries, then `functions`).
    let functions: [String: [CELOverload]]
    /// Type names contributed by libraries (beyond the built-in ones).
    let types: [String: CELType]

    /// Creates an environment with the standard library, the given libraries and caller functions.
    /// Later overloads with the id of an earlier one replace it.
    public init(variables: [CELVariable] = [], functions: [CELFunction] = [], libraries: [CELLibrary] = [],
                options: CELOptions = CELOptions()) {
        var vars: [String: CELType] = [:]
        var table: [String: [CELOverload]] = [:]
        var types: [String: CELType] = [:]
        for library in [CELStandardLibrary.library] + libraries + [CELLibrary(name: "caller", functions: functions)] {
            for v in library.variables { vars[v.name] = v.type }
            for t in library.types { types[t.name] = t }
            for f in library.functions {
                var list = table[f.name] ?? []
                for o in f.overloads {
                    if let i = list.firstIndex(where: { $0.id == o.id }) { list[i] = o } else { list.append(o) }
                }
                table[f.name] = list
            }
        }
        for v in variables { vars[v.name] = v.type }
        self.variables = vars
        self.functions = table
        self.types = types
        self.options = options
    }

    /// A copy with more declarations, functions or libraries.
    public func extended(variables: [CELVariable] = [], functions: [CELFunction] = [],
                         libraries: [CELLibrary] = []) -> CELEnvironment {
        var copy = self
        var vars = copy.variables
        var table = copy.functions
        var types = copy.types
        for library in libraries + [CELLibrary(name: "caller", functions: functions)] {
            for v in library.variables { vars[v.name] = v.type }
            for t in library.types { types[t.name] = t }
            for f in library.functions {
                var list = table[f.name] ?? []
                for o in f.overloads {
                    if let i = list.firstIndex(where: { $0.id == o.id }) { list[i] = o } else { list.append(o) }
                }
                table[f.name] = list
            }
        }
        for v in variables { vars[v.name] = v.type }
        copy = CELEnvironment(storage: vars, functions: table, types: types, options: options)
        return copy
    }

    init(storage: [String: CELType], functions: [String: [CELOverload]], types: [String: CELType], options: CELOptions) {
        self.variables = storage
        self.functions = functions
        self.types = types
        self.options = options
    }

    /// Parses and compiles an expression into a reusable, thread-safe program.
    public func compile(_ source: String) throws(CELError) -> CELProgram {
        try CELCompiler.compile(source, environment: self)
    }
}

/// The variable bindings of one evaluation.
public struct CELActivation: Sendable {
    /// The values by variable name (qualified names such as `a.b` allowed).
    public let values: [String: CELValue]

    /// Bindings from CEL values.
    public init(_ values: [String: CELValue]) { self.values = values }

    /// Bindings from JSON values (objects become maps, arrays lists, integers int, numbers double).
    public init(json: [String: JSONValue]) {
        var out: [String: CELValue] = [:]
        out.reserveCapacity(json.count)
        for (k, v) in json { out[k] = CELValue(json: v) }
        self.values = out
    }
}

/// The outcome of an evaluation with its cost.
public struct CELEvaluation: Sendable {
    /// The result: a value, or `.error`/`.unknown`.
    public let value: CELValue
    /// The cost charged.
    public let cost: Int64
}

/// A compiled expression. Immutable and `Sendable`: evaluate it from many tasks at once.
public struct CELProgram: Sendable {
    /// The expression text.
    public let source: String
    let root: Compiled
    let slotCount: Int
    /// Activation variables pre-resolved into slots at the start of each evaluation.
    let preloads: [(slot: Int, name: String)]
    let defaultCostLimit: Int64

    /// Evaluates, returning the result value (which may be `.error` or `.unknown`) and the cost.
    public func run(_ activation: CELActivation, costLimit: Int64? = nil) -> CELEvaluation {
        let context = CELEvaluationContext(costLimit: costLimit ?? defaultCostLimit, slotCount: slotCount,
                                           activation: activation)
        for (slot, name) in preloads {
            context.slots[slot] = activation.values[name]
                ?? .error(CELError(.undeclaredReference, "no such attribute: \(name)"))
        }
        var value = root(context)
        if let exhausted = context.exhausted { value = .error(exhausted) }
        return CELEvaluation(value: value, cost: context.cost)
    }

    /// Evaluates; throws when the result is an error (including an exceeded cost budget).
    /// An unknown result is returned as `.unknown`.
    public func evaluate(_ activation: CELActivation, costLimit: Int64? = nil) throws(CELError) -> CELValue {
        let result = run(activation, costLimit: costLimit)
        if case .error(let e) = result.value { throw e }
        return result.value
    }

    /// Evaluates with CEL-value bindings.
    public func evaluate(_ variables: [String: CELValue] = [:], costLimit: Int64? = nil) throws(CELError) -> CELValue {
        try evaluate(CELActivation(variables), costLimit: costLimit)
    }

    /// Evaluates with JSON bindings.
    public func evaluate(json variables: [String: JSONValue], costLimit: Int64? = nil) throws(CELError) -> CELValue {
        try evaluate(CELActivation(json: variables), costLimit: costLimit)
    }
}

/// A compiled node: evaluates against the per-evaluation context.
typealias Compiled = @Sendable (CELEvaluationContext) -> CELValue
