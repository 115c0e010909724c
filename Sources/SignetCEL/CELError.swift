/// The single error type of SignetCEL: parse and compile errors are thrown, evaluation errors travel as
/// `CELValue.error` values (CEL's commutative logic absorbs them, langdef "Runtime Errors") and are thrown
/// by `CELProgram.evaluate` when they reach the result.
public struct CELError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure this is; compare codes, never messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short stable identifier, e.g. `"no_matching_overload"`.
        public let rawValue: String
        /// Creates a code; libraries may define their own as static members.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The expression text does not follow the grammar (or exceeds a parse limit).
        public static let parse = Code("parse")
        /// A reference to an undeclared variable or function, or a macro used wrongly (compile time).
        public static let check = Code("check")
        /// No overload of a function accepts the argument types.
        public static let noMatchingOverload = Code("no_matching_overload")
        /// A map lookup with a key that is not present.
        public static let noSuchKey = Code("no_such_key")
        /// A field selection on a map or message that has no such field.
        public static let noSuchField = Code("no_such_field")
        /// A variable is absent from the activation.
        public static let undeclaredReference = Code("undeclared_reference")
        /// Integer overflow or a value outside the range of its type ("return error for overflow").
        public static let overflow = Code("overflow")
        /// Division or modulo by zero.
        public static let divisionByZero = Code("division_by_zero")
        /// A list index outside the list.
        public static let indexOutOfRange = Code("index_out_of_range")
        /// An argument has the right type but an invalid value (bad regex, bad timestamp text, ...).
        public static let invalidArgument = Code("invalid_argument")
        /// The evaluation exceeded its cost budget.
        public static let costLimitExceeded = Code("cost_limit_exceeded")
        /// A feature this implementation does not provide (e.g. protobuf message types).
        public static let unsupported = Code("unsupported")
        /// A map literal repeats a key.
        public static let duplicateKey = Code("duplicate_key")
        /// A value cannot be converted (e.g. to JSON).
        public static let conversion = Code("conversion")
        /// The result of the evaluation is unknown (partial evaluation), raised only by `evaluate`.
        public static let unknown = Code("unknown")
    }

    /// A position in the expression source (1-based line and column, 0-based UTF-8 offset).
    public struct Position: Hashable, Sendable, CustomStringConvertible {
        public let line: Int
        public let column: Int
        public let offset: Int
        public init(line: Int, column: Int, offset: Int) {
            self.line = line
            self.column = column
            self.offset = offset
        }
        public var description: String { "\(line):\(column)" }
    }

    /// The kind of failure.
    public let code: Code
    /// A lowercase human-readable message.
    public let message: String
    /// Where in the source the problem was found, for parse and compile errors.
    public let position: Position?
    /// A lower-level cause, if any.
    public let underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, position: Position? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.position = position
        self.underlying = underlying
    }

    public var description: String {
        if let position { return "\(position): \(message)" }
        return message
    }

    public static func == (lhs: CELError, rhs: CELError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.position == rhs.position
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    // MARK: - Common constructors

    /// `no matching overload for 'name'` (langdef "Runtime Errors").
    public static func noMatchingOverload(_ function: String) -> CELError {
        CELError(.noMatchingOverload, "no such overload: \(function)")
    }
    /// `no such key: K`.
    public static func noSuchKey(_ key: String) -> CELError { CELError(.noSuchKey, "no such key: \(key)") }
    /// `no such field: F`.
    public static func noSuchField(_ field: String) -> CELError { CELError(.noSuchField, "no such field: \(field)") }
    /// Integer overflow in `operation`.
    public static func overflow(_ operation: String) -> CELError {
        CELError(.overflow, "return error for overflow: \(operation)")
    }
    /// Division by zero.
    public static let divisionByZero = CELError(.divisionByZero, "division by zero")
    /// Modulus by zero.
    public static let moduloByZero = CELError(.divisionByZero, "modulus by zero")
    /// An invalid argument.
    public static func invalidArgument(_ message: String) -> CELError { CELError(.invalidArgument, message) }
    /// A feature not provided.
    public static func unsupported(_ message: String) -> CELError { CELError(.unsupported, message) }
    /// Cost budget exceeded.
    public static func costLimitExceeded(_ limit: Int64) -> CELError {
        CELError(.costLimitExceeded, "operation cancelled: actual cost limit exceeded (limit \(limit))")
    }
}
