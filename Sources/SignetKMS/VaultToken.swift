/// A Vault token (or any other secret this module handles): its text never appears in
/// `description`, `debugDescription`, string interpolation, logs or errors.
public struct VaultToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; only ever sent in the `X-Vault-Token` header or a login body.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "VaultToken(<redacted>)" }
}
