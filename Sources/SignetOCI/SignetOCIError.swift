/// The one error type of SignetOCI: transport, registry and format problems.
///
/// `message` is lowercase and never contains credentials; `underlying` keeps the cause (if any).
public struct SignetOCIError: Error, CustomStringConvertible, Sendable {
    /// A stable, machine-readable category.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An image reference that does not follow the grammar.
        public static let invalidReference = Code(rawValue: "invalid-reference")
        /// A digest string that is malformed or uses an unsupported algorithm.
        public static let invalidDigest = Code(rawValue: "invalid-digest")
        /// A manifest, index, layout or JSON document that cannot be read.
        public static let invalidFormat = Code(rawValue: "invalid-format")
        /// Content whose digest does not match the one requested.
        public static let digestMismatch = Code(rawValue: "digest-mismatch")
        /// A manifest or blob over the allowed size, or a blob shorter than announced.
        public static let sizeMismatch = Code(rawValue: "size-mismatch")
        /// The manifest, blob or repository does not exist (404).
        public static let notFound = Code(rawValue: "not-found")
        /// The registry refused the credentials, or none were usable (401/403).
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// The registry answered with an unexpected status.
        public static let registryError = Code(rawValue: "registry-error")
        /// The connection failed, was refused or timed out.
        public static let transport = Code(rawValue: "transport")
        /// Plain HTTP to a non-loopback registry without `allowInsecure`.
        public static let insecureRegistry = Code(rawValue: "insecure-registry")
        /// A credential helper failed or a config file is malformed.
        public static let credentials = Code(rawValue: "credentials")
        /// Reading or writing a local file failed.
        public static let io = Code(rawValue: "io")
        /// Retries (429/503) exhausted.
        public static let tooManyRequests = Code(rawValue: "too-many-requests")
    }

    public let code: Code
    /// A lowercase, human-readable message without secrets.
    public let message: String
    /// The lower-level error that caused this one, if any.
    public let underlying: (any Error)?
    /// The HTTP status, when the error comes from a registry answer.
    public let status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.underlying = underlying
    }

    public var description: String { message }
}
