/// Glob matching as Kyverno does it (go-wildcard 1.0): `*` matches any run of characters,
/// including `/` and the empty run; `?` matches exactly one character. Nothing else is special.
public enum Wildcard {
    /// Whether `name` matches `pattern`.
    public static func match(_ pattern: String, _ name: String) -> Bool {
        match(pattern[...], name)
    }

    /// Whether `name` matches `pattern` (a slice of a longer glob, say).
    public static func match(_ pattern: Substring, _ name: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.isEmpty { return name.isEmpty }
        var p = pattern.utf8.makeIterator()
        var fast = true
        while let c = p.next() { if c == 0x2A || c == 0x3F || c >= 0x80 { fast = false; break } }
        if fast { return pattern == name }
        if !pattern.utf8.contains(where: { $0 >= 0x80 }) && !name.utf8.contains(where: { $0 >= 0x80 }) {
            return pattern.utf8.withContiguousStorageIfAvailable { pb in
                name.utf8.withContiguousStorageIfAvailable { nb in matchBytes(pb, nb) }
            }.flatMap { $0 } ?? matchScalars(Array(pattern.unicodeScalars), Array(name.unicodeScalars))
        }
        return matchScalars(Array(pattern.unicodeScalars), Array(name.unicodeScalars))
    }

    /// Whether the string contains `*` or `?`.
    public static func containsWildcard(_ s: String) -> Bool {
        s.utf8.contains(where: { $0 == 0x2A || $0 == 0x3F })
    }

    /// Whether any of `patterns` matches `name`.
    public static func matchAny(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { match($0, name) }
    }

    static func matchBytes(_ p: UnsafeBufferPointer<UInt8>, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == 0x3F || (p[pi] != 0x2A && p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count, p[pi] == 0x2A {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == 0x2A { pi += 1 }
        return pi == p.count
    }

    static func matchScalars(_ p: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == "?" || (p[pi] != "*" && p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
