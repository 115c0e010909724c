import Crypto
import Foundation

/// A content digest `ALGORITHM:ENCODED` (OCI image spec, descriptor.md#digests).
///
/// Only `sha256` (64 lowercase hex) and `sha512` (128 lowercase hex) are accepted, as registries do.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// `sha256` or `sha512`.
    public let algorithm: String
    /// The lowercase hex part.
    public let encoded: String

    /// Parses `sha256:HEX`; throws `SignetOCIError(.invalidDigest)` on anything else.
    public init(parsing string: String) throws {
        guard let colon = string.utf8.firstIndex(of: UInt8(ascii: ":")) else {
            throw SignetOCIError(.invalidDigest, "invalid digest \"\(Digest.clip(string))\": missing algorithm (expected sha256:<64 hex>)")
        }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        let expected: Int
        switch algorithm {
        case "sha256": expected = 64
        case "sha512": expected = 128
        default:
            throw SignetOCIError(.invalidDigest, "invalid digest \"\(Digest.clip(string))\": unsupported algorithm \"\(Digest.clip(algorithm))\"")
        }
        guard encoded.utf8.count == expected,
              encoded.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw SignetOCIError(.invalidDigest, "invalid digest \"\(Digest.clip(string))\": \(algorithm) needs \(expected) lowercase hex characters")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The SHA-256 digest of `data`.
    public static func sha256<D: DataProtocol>(_ data: D) -> Digest {
        Digest(uncheckedAlgorithm: "sha256", encoded: SHA256.hash(data: data).hexString)
    }

    /// Computes the digest of `data` with this digest's algorithm and compares.
    public func matches<D: DataProtocol>(_ data: D) -> Bool {
        switch algorithm {
        case "sha256": return SHA256.hash(data: data).hexString == encoded
        case "sha512": return SHA512.hash(data: data).hexString == encoded
        default: return false
        }
    }

    /// `sha256-HEX`: the tag cosign and the referrers fallback derive from a digest.
    public var tagSafe: String { "\(algorithm)-\(encoded)" }

    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    init(uncheckedAlgorithm algorithm: String, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func clip(_ s: String) -> String { s.count > 80 ? String(s.prefix(80)) + "..." : s }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex.
    var hexString: String {
        var s = ""
        for byte in self {
            s.append(hexDigits[Int(byte >> 4)])
            s.append(hexDigits[Int(byte & 0x0f)])
        }
        return s
    }
}

private let hexDigits: [Character] = Array("0123456789abcdef")
