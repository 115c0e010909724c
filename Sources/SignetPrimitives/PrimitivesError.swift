/// The one error type of `SignetPrimitives`.
public struct PrimitivesError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable machine-readable name.
        public let rawValue: String
        /// A code named `rawValue`.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The raw name.
        public var description: String { rawValue }
        /// Malformed JSON text or a document beyond the nesting limit.
        public static let invalidJSON = Code("invalid-json")
        /// A regular expression that RE2 rejects or that exceeds the program size limit.
        public static let invalidRegex = Code("invalid-regex")
        /// Text that Go's `time.ParseDuration` rejects.
        public static let invalidDuration = Code("invalid-duration")
        /// Text that Kubernetes' `resource.ParseQuantity` rejects.
        public static let invalidQuantity = Code("invalid-quantity")
        /// A result that does not fit the representation.
        public static let overflow = Code("overflow")
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
