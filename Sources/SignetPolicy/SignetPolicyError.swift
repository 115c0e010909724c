/// The one error type of SignetPolicy: a code, a lowercase message and an optional underlying error.
public struct SignetPolicyError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        public static let invalidJSON = Code("invalid-json")
        public static let invalidYAML = Code("invalid-yaml")
        public static let invalidPolicy = Code("invalid-policy")
        public static let invalidTest = Code("invalid-test")
        public static let unsupported = Code("unsupported")
        public static let io = Code("io")
    }

    public let code: Code
    public let message: String
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
