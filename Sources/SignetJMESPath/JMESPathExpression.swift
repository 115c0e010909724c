import SignetPrimitives

/// Options for compiling and evaluating expressions.
public struct JMESPathOptions: Sendable {
    /// The functions calls may name (default: the specification's built-ins).
    public var functions: JMESPathFunctionTable
    /// Length, depth and budget bounds.
    public var limits: JMESPathLimits
    /// The time source of the time functions.
    public var clock: JMESPathClock

    /// Options with the given parts.
    public init(functions: JMESPathFunctionTable = .builtins, limits: JMESPathLimits = JMESPathLimits(),
                clock: JMESPathClock = .system) {
        self.functions = functions
        self.limits = limits
        self.clock = clock
    }
}

/// A compiled JMESPath expression: parse once, evaluate many times, from any thread.
public struct JMESPathExpression: Sendable {
    /// The source text.
    public let source: String
    /// The syntax tree.
    public let root: JMESPathNode
    /// The options it was compiled with (functions are bound at compile time).
    public let options: JMESPathOptions

    /// Compiles `expression`; throws `JMESPathError` (`syntax`, `unknown-function`,
    /// `invalid-arity`, `invalid-value`, `limit-exceeded`).
    public init(compiling expression: String, options: JMESPathOptions = JMESPathOptions()) throws {
        source = expression
        self.options = options
        root = try Parser.parse(expression, limits: options.limits, functions: options.functions)
    }

    /// Evaluates against `data`; throws `JMESPathError` for type errors, budget exhaustion and
    /// function failures.
    public func evaluate(_ data: JSONValue) throws -> JSONValue {
        var ctx = JMESPathContext(budget: options.limits.evaluationBudget, clock: options.clock,
                                  maximumDepth: options.limits.maximumDepth)
        return try Interpreter.evaluate(root, data, &ctx)
    }

    /// Evaluates as Kyverno's fork of go-jmespath does when `reportingMissingKeys` is true: a
    /// field looked up on an object without that key throws `unknown-key`
    /// ("Unknown key \"KEY\" in path"); the error passes through sub-expressions, indexes and
    /// the right side of `&&`, and becomes `null` in comparisons, function arguments,
    /// projections, multi-selects, `||`, `!` and pipes; the left side of a flatten, a filter or
    /// an object projection turns any error into `null`. With false, spec evaluation.
    public func evaluate(_ data: JSONValue, reportingMissingKeys: Bool) throws -> JSONValue {
        var ctx = JMESPathContext(budget: options.limits.evaluationBudget, clock: options.clock,
                                  maximumDepth: options.limits.maximumDepth)
        ctx.reportsMissingKeys = reportingMissingKeys
        return try Interpreter.evaluate(root, data, &ctx)
    }

    /// Evaluates with a different clock (for time functions in tests or replays).
    public func evaluate(_ data: JSONValue, clock: JMESPathClock) throws -> JSONValue {
        var ctx = JMESPathContext(budget: options.limits.evaluationBudget, clock: clock,
                                  maximumDepth: options.limits.maximumDepth)
        return try Interpreter.evaluate(root, data, &ctx)
    }

    /// Compiles and evaluates in one step.
    public static func search(_ expression: String, in data: JSONValue,
                              options: JMESPathOptions = JMESPathOptions()) throws -> JSONValue {
        try JMESPathExpression(compiling: expression, options: options).evaluate(data)
    }
}
