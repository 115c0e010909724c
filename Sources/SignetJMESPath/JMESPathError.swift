/// The one error type of `SignetJMESPath`.
///
/// `code` carries the JMESPath specification's error kinds (`syntax`, `invalid-type`,
/// `invalid-arity`, `unknown-function`, `invalid-value`) plus this implementation's limits.
public struct JMESPathError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable machine-readable name (the spec's error names where it has one).
        public let rawValue: String
        /// A code named `rawValue`.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The raw name.
        public var description: String { rawValue }

        /// The expression is not valid JMESPath (spec: `syntax`).
        public static let syntax = Code("syntax")
        /// A function argument has the wrong type (spec: `invalid-type`).
        public static let invalidType = Code("invalid-type")
        /// A function got the wrong number of arguments (spec: `invalid-arity`).
        public static let invalidArity = Code("invalid-arity")
        /// A call names a function that is not registered (spec: `unknown-function`).
        public static let unknownFunction = Code("unknown-function")
        /// A value is out of the domain of an operation, e.g. a zero slice step (spec: `invalid-value`).
        public static let invalidValue = Code("invalid-value")
        /// The expression is longer or nests deeper than the configured limits.
        public static let limitExceeded = Code("limit-exceeded")
        /// Evaluation used up its cost budget.
        public static let budgetExceeded = Code("budget-exceeded")
        /// A function failed for a reason of its own (Kyverno functions: bad quantity, regex, ...).
        public static let functionFailed = Code("function-failed")
        /// A field was looked up on an object without that key, in the mode that reports it
        /// (Kyverno's go-jmespath `NotFoundError`; never raised by spec evaluation).
        public static let unknownKey = Code("unknown-key")
    }

    /// The kind of failure.
    public let code: Code
    /// A lowercase human-readable message.
    public let message: String
    /// The cause, when another error led to this one.
    public let underlying: (any Error & Sendable)?

    /// An error with `code`, `message` and an optional cause.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The message, followed by the cause if any.
    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
