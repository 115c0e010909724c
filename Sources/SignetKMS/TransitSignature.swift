import Foundation

/// A transit signature `vault:vN:BASE64`.
public struct TransitSignature: Sendable, Hashable, CustomStringConvertible {
    /// The key version that made it.
    public let keyVersion: Int
    /// The signature bytes (ASN.1 DER for ECDSA), as cosign stores them.
    public let bytes: Data

    public init(keyVersion: Int, bytes: Data) {
        self.keyVersion = keyVersion
        self.bytes = bytes
    }

    /// Parses `vault:vN:BASE64` (the prefix may be any word, as Vault's own parser allows).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].hasPrefix("v"), let version = Int(parts[1].dropFirst()), version > 0,
              let bytes = Data(base64Encoded: String(parts[2])), !bytes.isEmpty else {
            throw SignetKMSError(.invalidResponse, "transit signature is not of the form vault:vN:BASE64")
        }
        self.init(keyVersion: version, bytes: bytes)
    }

    /// `vault:vN:BASE64`.
    public var description: String { "vault:v\(keyVersion):\(bytes.base64EncodedString())" }
}
