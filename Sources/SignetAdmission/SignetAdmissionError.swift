/// The one error type of SignetAdmission: a code, a lowercase message naming what failed, and the cause.
public struct SignetAdmissionError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        /// The request body is not an AdmissionReview v1 we can answer (HTTP 400).
        public static let badRequest = Code("bad-request")
        /// The request body is larger than the server accepts (HTTP 413).
        public static let bodyTooLarge = Code("body-too-large")
        /// A policy file could not be read or parsed.
        public static let policy = Code("policy")
        /// A TLS certificate or key could not be read or used.
        public static let tls = Code("tls")
        /// Certificate generation failed.
        public static let certificate = Code("certificate")
        /// An image could not be verified (registry, KMS, timeout): handled by failurePolicy.
        public static let verification = Code("verification")
        /// The decision did not finish within the webhook timeout minus its margin.
        public static let timeout = Code("timeout")
        public static let io = Code("io")
        /// The Kubernetes API server could not be asked (namespace labels, RBAC bindings).
        public static let cluster = Code("cluster")
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
