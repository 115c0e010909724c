/// The one error type of SignetKMS: a code, a lowercase message naming what failed, and the cause.
///
/// Messages never contain a Vault token, a JWT or an AppRole secret.
public struct SignetKMSError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        /// Vault could not be reached (connection refused, DNS, TLS handshake, timeout).
        public static let unreachable = Code("vault-unreachable")
        /// Vault answered 503 "Vault is sealed".
        public static let sealed = Code("vault-sealed")
        /// Vault answered 403: the token lacks a capability on a path (the message names it).
        public static let permissionDenied = Code("permission-denied")
        /// The transit key does not exist.
        public static let keyNotFound = Code("key-not-found")
        /// The transit key exists but its type cannot sign (aes256-gcm96, hmac...).
        public static let keyCannotSign = Code("key-cannot-sign")
        /// A login (JWT, Kubernetes, AppRole) was refused or gave no token.
        public static let loginFailed = Code("login-failed")
        /// No token or login method is configured, or a setting is invalid.
        public static let invalidConfiguration = Code("invalid-configuration")
        /// A `hashivault://` / `openbao://` reference that cannot be used.
        public static let invalidKeyReference = Code("invalid-key-reference")
        /// Vault answered with something this client cannot read.
        public static let invalidResponse = Code("invalid-response")
        /// Vault answered with another error status.
        public static let server = Code("vault-error")
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
