/// The one error type of SignetSigning: a code, a lowercase message naming what failed, and the cause.
public struct SignetSigningError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public static let invalidKey = Code("invalid-key")
        public static let unsupportedAlgorithm = Code("unsupported-algorithm")
        public static let wrongPassword = Code("wrong-password")
        public static let invalidKeyReference = Code("invalid-key-reference")
        public static let unknownKeyScheme = Code("unknown-key-scheme")
        public static let invalidSignature = Code("invalid-signature")
        public static let invalidPayload = Code("invalid-payload")
        public static let limitExceeded = Code("limit-exceeded")
        public static let registry = Code("registry")
        public static let io = Code("io")
        /// A sealed box (secretbox) did not authenticate: tampered, or the wrong key.
        public static let authenticationFailed = Code("authentication-failed")
        /// A key provider cannot do what was asked (for example create a key in a file).
        public static let unsupportedOperation = Code("unsupported-operation")
        /// No password could be obtained (no terminal, passwords did not match...).
        public static let passwordUnavailable = Code("password-unavailable")
        public var description: String { name }
    }

    public let code: Code
    public let message: String
    public let underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
