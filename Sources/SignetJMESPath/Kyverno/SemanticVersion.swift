/// A semantic version as blang/semver v4 parses it (strict `MAJOR.MINOR.PATCH[-pre][+build]`).
struct SemanticVersion: Sendable, Equatable {
    enum Prerelease: Sendable, Equatable {
        case numeric(UInt64)
        case alphanumeric(String)
    }

    var major: UInt64 = 0
    var minor: UInt64 = 0
    var patch: UInt64 = 0
    var prerelease: [Prerelease] = []

    init() {}

    private static let digits = Set("0123456789".unicodeScalars)
    private static let alphanumerics = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789".unicodeScalars)

    private static func only(_ s: Substring, _ set: Set<Unicode.Scalar>) -> Bool { s.unicodeScalars.allSatisfy { set.contains($0) } }

    private static func number(_ s: Substring, _ what: String) throws -> UInt64 {
        guard only(s, digits) else { throw JMESPathError(.functionFailed, "Invalid character(s) found in \(what) number \"\(s)\"") }
        if s.count > 1, s.hasPrefix("0") { throw JMESPathError(.functionFailed, "\(what.capitalized) number must not contain leading zeroes \"\(s)\"") }
        guard let v = UInt64(s) else { throw JMESPathError(.functionFailed, "strconv.ParseUint: parsing \"\(s)\": invalid syntax") }
        return v
    }

    /// Parses like `semver.Parse`.
    init(parsing text: String) throws {
        guard !text.isEmpty else { throw JMESPathError(.functionFailed, "Version string empty") }
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw JMESPathError(.functionFailed, "No Major.Minor.Patch elements found") }
        major = try Self.number(parts[0], "major")
        minor = try Self.number(parts[1], "minor")
        var patchText = parts[2]
        var build: [Substring] = []
        if let plus = patchText.firstIndex(of: "+") {
            build = patchText[patchText.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false)
            patchText = patchText[..<plus]
        }
        var pre: [Substring] = []
        if let dash = patchText.firstIndex(of: "-") {
            pre = patchText[patchText.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false)
            patchText = patchText[..<dash]
        }
        patch = try Self.number(patchText, "patch")
        for p in pre {
            guard !p.isEmpty else { throw JMESPathError(.functionFailed, "Prerelease is empty") }
            if Self.only(p, Self.digits) {
                if p.count > 1, p.hasPrefix("0") {
                    throw JMESPathError(.functionFailed, "Numeric PreRelease version must not contain leading zeroes \"\(p)\"")
                }
                guard let v = UInt64(p) else { throw JMESPathError(.functionFailed, "invalid prerelease number \"\(p)\"") }
                prerelease.append(.numeric(v))
            } else if Self.only(p, Self.alphanumerics) {
                prerelease.append(.alphanumeric(String(p)))
            } else {
                throw JMESPathError(.functionFailed, "Invalid character(s) found in prerelease \"\(p)\"")
            }
        }
        for b in build {
            guard !b.isEmpty else { throw JMESPathError(.functionFailed, "Build meta data is empty") }
            guard Self.only(b, Self.alphanumerics) else {
                throw JMESPathError(.functionFailed, "Invalid character(s) found in build meta data \"\(b)\"")
            }
        }
    }

    /// Precedence as semver 2.0 (build metadata ignored).
    func compare(_ o: SemanticVersion) -> Int {
        for (a, b) in [(major, o.major), (minor, o.minor), (patch, o.patch)] where a != b { return a > b ? 1 : -1 }
        if prerelease.isEmpty && o.prerelease.isEmpty { return 0 }
        if prerelease.isEmpty { return 1 }
        if o.prerelease.isEmpty { return -1 }
        for (a, b) in zip(prerelease, o.prerelease) {
            switch (a, b) {
            case (.numeric(let x), .numeric(let y)): if x != y { return x > y ? 1 : -1 }
            case (.numeric, .alphanumeric): return -1
            case (.alphanumeric, .numeric): return 1
            case (.alphanumeric(let x), .alphanumeric(let y)):
                let c = ValueOps.compareStrings(x, y)
                if c != 0 { return c }
            }
        }
        if prerelease.count == o.prerelease.count { return 0 }
        return prerelease.count < o.prerelease.count ? -1 : 1
    }
}

/// A version range as blang/semver v4's `ParseRange` reads it: space-separated comparators are
/// ANDed, `||` ORs groups, `x` wildcards expand (including blang's quirks, e.g. `!4.x.x`).
struct SemanticVersionRange: Sendable {
    enum Op: Sendable { case eq, ne, gt, ge, lt, le }
    struct Comparator: Sendable {
        var op: Op
        var version: SemanticVersion
    }

    var alternatives: [[Comparator]]

    init(parsing text: String) throws {
        let parts = Self.splitAndTrim(text)
        var groups: [[String]] = []
        var last = 0
        for (i, p) in parts.enumerated() where p == "||" {
            if i == 0 { throw JMESPathError(.functionFailed, "First element in range is '||'") }
            groups.append(Array(parts[last..<i]))
            last = i + 1
        }
        if last == parts.count { throw JMESPathError(.functionFailed, "Last element in range is '||'") }
        groups.append(Array(parts[last...]))
        alternatives = []
        for g in groups {
            var ands: [Comparator] = []
            for part in try Self.expandWildcards(g) {
                let (opText, versionText) = try Self.splitComparatorVersion(part)
                guard let op = Self.op(opText) else {
                    throw JMESPathError(.functionFailed, "Could not parse Range \"\(part)\": Could not parse comparator \"\(opText)\" in \"\(opText)\(versionText)\"")
                }
                let v: SemanticVersion
                do {
                    v = try SemanticVersion(parsing: versionText)
                } catch let e as JMESPathError {
                    throw JMESPathError(.functionFailed, "Could not parse Range \"\(part)\": Could not parse version \"\(versionText)\" in \"\(opText)\(versionText)\": \(e.message)")
                }
                ands.append(Comparator(op: op, version: v))
            }
            alternatives.append(ands)
        }
    }

    func contains(_ v: SemanticVersion) -> Bool {
        alternatives.contains { group in
            group.allSatisfy { c in
                let r = v.compare(c.version)
                switch c.op {
                case .eq: return r == 0
                case .ne: return r != 0
                case .gt: return r == 1
                case .ge: return r >= 0
                case .lt: return r == -1
                case .le: return r <= 0
                }
            }
        }
    }

    static func op(_ s: String) -> Op? {
        switch s {
        case "", "=", "==": return .eq
        case ">": return .gt
        case ">=": return .ge
        case "<": return .lt
        case "<=": return .le
        case "!", "!=": return .ne
        default: return nil
        }
    }

    /// blang's splitAndTrim: split on spaces not following an operator character.
    static func splitAndTrim(_ s: String) -> [String] {
        let b = Array(s.utf8)
        var result: [String] = []
        var last = 0
        var lastChar: UInt8 = 0
        for i in 0..<b.count {
            if b[i] == 0x20 && lastChar != UInt8(ascii: ">") && lastChar != UInt8(ascii: "<") && lastChar != UInt8(ascii: "=") {
                if last < i - 1 { result.append(String(decoding: b[last..<i], as: UTF8.self)) }
                last = i + 1
            } else if b[i] != 0x20 {
                lastChar = b[i]
            }
        }
        if last < b.count - 1 { result.append(String(decoding: b[last...], as: UTF8.self)) }
        return result.map { $0.replacingOccurrences(of: " ", with: "") }
    }

    static func splitComparatorVersion(_ s: String) throws -> (String, String) {
        guard let i = s.unicodeScalars.firstIndex(where: { $0.properties.numericType == .decimal }) else {
            throw JMESPathError(.functionFailed, "Could not get version from string: \"\(s)\"")
        }
        let head = String(s.unicodeScalars[..<i]).trimmingCharacters(in: .whitespaces)
        return (head, String(s.unicodeScalars[i...]))
    }

    static func expandWildcards(_ parts: [String]) throws -> [String] {
        var out: [String] = []
        for var ap in parts {
            if ap.contains("x") {
                let (opText, vText) = try splitComparatorVersion(ap)
                let pieces = vText.split(separator: ".", omittingEmptySubsequences: false)
                let wildcard = pieces.last == "x" ? pieces.count : 0 // 1 major, 2 minor, 3 patch
                var flat = vText.replacingFirst(".x.x", with: ".x").replacingFirst(".x", with: ".0")
                if flat.split(separator: ".", omittingEmptySubsequences: false).count == 2 { flat += ".0" }
                var resultOp = ""
                var increment = false
                switch opText {
                case ">": resultOp = ">="; increment = true
                case ">=": resultOp = ">="
                case "<": resultOp = "<"
                case "<=": resultOp = "<"; increment = true
                case "", "=", "==":
                    out.append(">=" + flat); resultOp = "<"; increment = true
                case "!=", "!":
                    out.append("<" + flat); resultOp = ">="; increment = true
                default: break
                }
                var resultVersion = ""
                if increment {
                    if wildcard == 3 { resultVersion = bump(flat, index: 1) } else if wildcard == 2 { resultVersion = bump(flat, index: 0) }
                } else {
                    resultVersion = flat
                }
                ap = resultOp + resultVersion
            }
            out.append(ap)
        }
        return out
    }

    /// Increments the dot-separated component `index` (blang ignores failures: empty result).
    static func bump(_ v: String, index: Int) -> String {
        var parts = v.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard index < parts.count, let n = Int(parts[index]) else { return "" }
        let (r, o) = n.addingReportingOverflow(1)
        guard !o else { return "" }
        parts[index] = String(r)
        return parts.joined(separator: ".")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
