// The Kubernetes semver library (k8s.io/apiserver pkg/cel/library/semverlib.go): Semantic Versioning
// 2.0.0 (https://semver.org) parsing and precedence; build metadata is ignored when comparing.

/// A semantic version (`kubernetes.Semver`).
public struct CELSemver: CELOpaque, Hashable {
    /// The major version.
    public let major: UInt64
    /// The minor version.
    public let minor: UInt64
    /// The patch version.
    public let patch: UInt64
    /// Pre-release identifiers (`1.0.0-alpha.1` → `["alpha", "1"]`).
    public let prerelease: [String]
    /// Build metadata identifiers.
    public let build: [String]

    /// The CEL type `kubernetes.Semver`.
    public static let type = CELType.opaque("kubernetes.Semver")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }

    /// Parses strictly (`MAJOR.MINOR.PATCH[-PRE][+BUILD]`, no leading zeros). With `normalize` (Kubernetes'
    /// `semver(s, true)`), first drop one leading `v`, strip leading zeros from the three dot-separated parts
    /// and fill a missing minor/patch with `0` (a shortened version may not carry pre-release or build data).
    public init(parsing input: String, normalize: Bool = false) throws(CELError) {
        func bad(_ why: String) -> CELError { CELError(.invalidArgument, "invalid semver '\(input)': \(why)") }
        guard !input.isEmpty, input.utf8.count <= 1024 else { throw bad("version string empty or too long") }
        var source = input
        if normalize {
            var s = Substring(input)
            if s.hasPrefix("v") { s = s.dropFirst() }
            var parts = s.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            for i in parts.indices where parts[i].count > 1 {
                var p = Substring(parts[i])
                while p.hasPrefix("0") { p = p.dropFirst() }
                if !(p.first.map { $0.isASCII && $0.isNumber } ?? false) { p = "0" + p }
                parts[i] = String(p)
            }
            if parts.count < 3 {
                if let last = parts.last, last.contains("+") || last.contains("-") {
                    throw bad("short version cannot contain pre-release or build metadata")
                }
                while parts.count < 3 { parts.append("0") }
            }
            source = parts.joined(separator: ".")
        }
        var text = Substring(source)
        var buildPart: Substring?
        if let plus = text.firstIndex(of: "+") {
            buildPart = text[text.index(after: plus)...]
            text = text[..<plus]
        }
        var prePart: Substring?
        if let dash = text.firstIndex(of: "-") {
            prePart = text[text.index(after: dash)...]
            text = text[..<dash]
        }
        let core = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard core.count == 3 else { throw bad("no major, minor and patch version") }
        var numbers: [UInt64] = []
        for part in core {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw bad("invalid character(s) in version number")
            }
            guard part == "0" || !part.hasPrefix("0") else { throw bad("version number must not contain leading zeroes") }
            guard let n = UInt64(part) else { throw bad("version number out of range") }
            numbers.append(n)
        }
        major = numbers[0]
        minor = numbers[1]
        patch = numbers[2]
        func identifiers(_ part: Substring?, numericCheck: Bool) throws(CELError) -> [String] {
            guard let part else { return [] }
            var out: [String] = []
            for id in part.split(separator: ".", omittingEmptySubsequences: false) {
                guard !id.isEmpty else { throw bad("empty identifier") }
                guard id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                    || $0 == UInt8(ascii: "-") }) else { throw bad("invalid character(s) in identifier") }
                if numericCheck, id.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), id.count > 1, id.hasPrefix("0") {
                    throw bad("numeric pre-release identifier must not contain leading zeroes")
                }
                out.append(String(id))
            }
            return out
        }
        prerelease = try identifiers(prePart, numericCheck: true)
        build = try identifiers(buildPart, numericCheck: false)
    }

    /// The canonical text form (used by `string(x)` and JSON output).
    public var description: String {
        var s = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { s += "-" + prerelease.joined(separator: ".") }
        if !build.isEmpty { s += "+" + build.joined(separator: ".") }
        return s
    }

    /// Semver precedence (§11): -1, 0, 1.
    public func compare(_ o: CELSemver) -> Int {
        for (a, b) in [(major, o.major), (minor, o.minor), (patch, o.patch)] where a != b { return a < b ? -1 : 1 }
        if prerelease.isEmpty || o.prerelease.isEmpty {
            if prerelease.isEmpty == o.prerelease.isEmpty { return 0 }
            return prerelease.isEmpty ? 1 : -1
        }
        for (a, b) in zip(prerelease, o.prerelease) where a != b {
            switch (UInt64(a), UInt64(b)) {
            case (let x?, let y?): return x < y ? -1 : 1
            case (.some, nil): return -1
            case (nil, .some): return 1
            case (nil, nil): return ExtCompare.lexicographic(Array(a.utf8), Array(b.utf8))
            }
        }
        return prerelease.count == o.prerelease.count ? 0 : (prerelease.count < o.prerelease.count ? -1 : 1)
    }

    /// CEL equality with another library value.
    public func isEqual(to other: any CELOpaque) -> Bool {
        guard let o = other as? CELSemver else { return false }
        return compare(o) == 0
    }

    /// CEL ordering against a value of the same type; nil otherwise.
    public func compare(to other: any CELOpaque) -> Int? {
        guard let o = other as? CELSemver else { return nil }
        return compare(o)
    }
}

extension CELExtensions {
    /// Kubernetes semver functions: `semver(s[, normalize])`, `isSemver(s[, normalize])`, `major()`, `minor()`,
    /// `patch()`, `isLessThan(v)`, `isGreaterThan(v)`, `compareTo(v)`.
    public static let kubernetesSemver = CELLibrary(name: "kubernetes.semver", functions: [
        CELFunction("semver",
            .function("string_to_semver", .string, cost: Ext.linear()) { v in SemverExt.make(v, .false) },
            .function("string_bool_to_semver", .string, .bool, cost: Ext.linear()) { v, n in SemverExt.make(v, n) }),
        CELFunction("isSemver",
            .function("is_semver_string", .string, cost: Ext.linear()) { v in SemverExt.check(v, .false) },
            .function("is_semver_string_bool", .string, .bool, cost: Ext.linear()) { v, n in SemverExt.check(v, n) }),
        SemverExt.component("major", "semver_major") { $0.major },
        SemverExt.component("minor", "semver_minor") { $0.minor },
        SemverExt.component("patch", "semver_patch") { $0.patch },
        SemverExt.comparison("isLessThan", "semver_is_less_than") { .bool($0 < 0) },
        SemverExt.comparison("isGreaterThan", "semver_is_greater_than") { .bool($0 > 0) },
        SemverExt.comparison("compareTo", "semver_compare_to") { .int(Int64($0)) },
        CELFunction("string",
            .function("semver_to_string", CELSemver.type) { v in
                guard case .opaque(let o) = v else { return Ext.noOverload("string") }
                return .string(o.description)
            }),
    ], types: [CELSemver.type])
}

enum SemverExt {
    static func semver(_ v: CELValue) -> CELSemver? {
        if case .opaque(let o) = v { return o as? CELSemver }
        return nil
    }

    static func make(_ v: CELValue, _ normalize: CELValue) -> CELValue {
        guard case .string(let s) = v, case .bool(let n) = normalize else { return Ext.noOverload("semver") }
        return Ext.attempt { () throws(CELError) in .opaque(try CELSemver(parsing: s, normalize: n)) }
    }

    static func check(_ v: CELValue, _ normalize: CELValue) -> CELValue {
        guard case .string(let s) = v, case .bool(let n) = normalize else { return Ext.noOverload("isSemver") }
        return .bool((try? CELSemver(parsing: s, normalize: n)) != nil)
    }

    static func component(_ name: String, _ id: String, _ get: @escaping @Sendable (CELSemver) -> UInt64) -> CELFunction {
        CELFunction(name, .method(id, CELSemver.type) { v in
            guard let s = semver(v) else { return Ext.noOverload(name) }
            guard let i = Int64(exactly: get(s)) else { return Ext.overflow(name) }
            return .int(i)
        })
    }

    static func comparison(_ name: String, _ id: String, _ result: @escaping @Sendable (Int) -> CELValue) -> CELFunction {
        CELFunction(name, .method(id, CELSemver.type, CELSemver.type) { a, b in
            guard let x = semver(a), let y = semver(b) else { return Ext.noOverload(name) }
            return result(x.compare(y))
        })
    }
}
