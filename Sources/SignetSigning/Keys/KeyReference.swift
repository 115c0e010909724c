/// What `--key` names: a file path, `env://VAR` (the key's PEM is in that environment variable, as
/// cosign allows), or `SCHEME://REST` for a key provider (`hashivault://cosign`, `openbao://cosign`).
public struct KeyReference: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased scheme; `file` for a plain path.
    public let scheme: String
    /// What follows `SCHEME://` (for `file`, the path as given).
    public let value: String
    /// The reference exactly as written.
    public let rawValue: String

    /// The scheme of plain paths (and of `file://PATH`).
    public static let fileScheme = "file"
    /// `env://VAR`.
    public static let environmentScheme = "env"

    /// Parses `--key`. A string without `SCHEME://` is a path; schemes are letters, digits, `+`,
    /// `-` and `.`, starting with a letter (RFC 3986).
    public init(parsing text: String) throws {
        guard !text.isEmpty else {
            throw SignetSigningError(.invalidKeyReference, "key reference is empty")
        }
        guard !text.contains("\0") else {
            throw SignetSigningError(.invalidKeyReference, "key reference contains a NUL character")
        }
        rawValue = text
        if let range = text.range(of: "://") {
            let scheme = text[..<range.lowerBound]
            let isScheme = scheme.first.map { $0.isASCII && $0.isLetter } == true
                && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            if isScheme {
                self.scheme = scheme.lowercased()
                value = String(text[range.upperBound...])
                guard !value.isEmpty else {
                    throw SignetSigningError(.invalidKeyReference, "key reference '\(text)' names no key after '\(scheme)://'")
                }
                return
            }
        }
        scheme = Self.fileScheme
        value = text
    }

    /// A reference to a file.
    public init(path: String) {
        scheme = Self.fileScheme
        value = path
        rawValue = path
    }

    public var description: String { rawValue }
}
