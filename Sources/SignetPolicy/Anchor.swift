/// A Kyverno anchor on a pattern key: `(k)` conditional, `<(k)` global, `X(k)` negation,
/// `+(k)` add-if-not-present, `=(k)` equality, `^(k)` existence.
public struct Anchor: Hashable, Sendable {
    public enum Kind: String, Sendable { case condition = "", global = "<", negation = "X", addIfNotPresent = "+", equality = "=", existence = "^" }
    public let kind: Kind
    public let key: String

    /// Parses `MOD(key)` (after trimming spaces); nil when the string is not an anchor.
    public init?(parsing raw: String) {
        // fast path: an anchor ends with ')' (possibly followed by spaces)
        guard let last = raw.utf8.last, last == UInt8(ascii: ")") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") else { return nil }
        let s = (last == UInt8(ascii: ")") && raw.utf8.first != UInt8(ascii: " ") && raw.utf8.first != UInt8(ascii: "\t")) ? raw : raw.trimmingCharacters(in: .whitespaces)
        guard s.hasSuffix(")") else { return nil }
        var body = Substring(s)
        var kind = Kind.condition
        if let f = body.first, let k = Kind(rawValue: String(f)), k != .condition {
            kind = k
            body = body.dropFirst()
        }
        guard body.first == "(" else { return nil }
        let key = body.dropFirst().dropLast()
        guard !key.isEmpty else { return nil }
        self.kind = kind
        self.key = String(key)
    }

    public init(kind: Kind, key: String) { self.kind = kind; self.key = key }

    /// `MOD(key)`.
    public var string: String { kind.rawValue + "(" + key + ")" }
}

import Foundation
