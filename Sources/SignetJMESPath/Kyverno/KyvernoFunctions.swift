import Foundation
import SignetPrimitives

/// Settings of Kyverno's function library that come from Kyverno's configuration.
public struct KyvernoFunctionConfiguration: Sendable {
    /// Registry prepended by `image_normalize` to names without one (Kyverno: `defaultRegistry`).
    public var defaultRegistry: String
    /// Whether `image_normalize` keeps the default registry it added (Kyverno: `enableDefaultRegistryMutation`).
    public var enableDefaultRegistryMutation: Bool
    /// Resolves a host name to IP addresses for `is_external_url`; nil means host names cannot be
    /// resolved (the function then fails, as Kyverno does when DNS fails).
    public var resolveHost: (@Sendable (String) -> [String]?)?

    var isDefault: Bool { defaultRegistry == "docker.io" && enableDefaultRegistryMutation && resolveHost == nil }

    /// Kyverno's defaults: `docker.io`, mutation enabled, no resolver.
    public init(defaultRegistry: String = "docker.io", enableDefaultRegistryMutation: Bool = true,
                resolveHost: (@Sendable (String) -> [String]?)? = nil) {
        self.defaultRegistry = defaultRegistry
        self.enableDefaultRegistryMutation = enableDefaultRegistryMutation
        self.resolveHost = resolveHost
    }
}

extension JMESPathFunctionTable {
    /// The built-ins plus Kyverno's function library (`pkg/engine/jmespath`); Kyverno's `sum`
    /// replaces the built-in one, as in Kyverno.
    public static func kyverno(_ configuration: KyvernoFunctionConfiguration = KyvernoFunctionConfiguration()) -> JMESPathFunctionTable {
        if configuration.isDefault { return defaultKyverno }
        return makeKyverno(configuration)
    }

    /// Built once: the table for Kyverno's default configuration.
    private static let defaultKyverno = makeKyverno(KyvernoFunctionConfiguration())

    private static func makeKyverno(_ configuration: KyvernoFunctionConfiguration) -> JMESPathFunctionTable {
        var t = JMESPathFunctionTable.builtins
        t.register(contentsOf: KyvernoFunctions.all(configuration))
        return t
    }

    /// Kyverno's functions only (what `kyverno jp function` lists).
    public static func kyvernoOnly(_ configuration: KyvernoFunctionConfiguration = KyvernoFunctionConfiguration()) -> JMESPathFunctionTable {
        var t = JMESPathFunctionTable()
        t.register(contentsOf: KyvernoFunctions.all(configuration))
        return t
    }
}

extension JMESPathOptions {
    /// Options with Kyverno's function library enabled.
    public static func kyverno(_ configuration: KyvernoFunctionConfiguration = KyvernoFunctionConfiguration(),
                               limits: JMESPathLimits = JMESPathLimits(), clock: JMESPathClock = .system) -> JMESPathOptions {
        JMESPathOptions(functions: .kyverno(configuration), limits: limits, clock: clock)
    }
}

/// Kyverno's function library; names, argument types, notes and error texts follow
/// kyverno/kyverno `pkg/engine/jmespath` (functions.go, arithmetic.go, time.go, error.go).
enum KyvernoFunctions {
    typealias Body = JMESPathFunctionBody

    /// Kyverno's signature types: `bool` is spelled as Kyverno prints it.
    static func fn(_ name: String, _ params: [JMESPathParameter], returns: String, note: String,
                   _ body: @escaping Body) -> JMESPathFunction {
        JMESPathFunction(name: name, signature: JMESPathSignature(params), returns: returns, summary: note, body: body)
    }

    static let s = JMESPathParameter(.string)
    static let n = JMESPathParameter(.number)
    static let any = JMESPathParameter(.any)
    static let sn = JMESPathParameter(.string, .number)

    static func all(_ configuration: KyvernoFunctionConfiguration) -> [JMESPathFunction] {
        stringFunctions + arithmeticFunctions + collectionFunctions + encodingFunctions
            + timeFunctions + miscFunctions(configuration)
    }

    // MARK: - Errors (error.go)

    static func error(_ function: String, _ text: String, code: JMESPathError.Code = .functionFailed) -> JMESPathError {
        JMESPathError(code, "JMESPath function '\(function)': \(text)")
    }

    static func invalidArgumentType(_ function: String, _ index: Int, _ type: String) -> JMESPathError {
        error(function, "argument #\(index) is not of type \(type)", code: .invalidType)
    }

    static func string(_ a: [JMESPathArgument], _ i: Int, _ function: String) throws -> String {
        guard i < a.count, case .string(let s) = a[i].value else { throw invalidArgumentType(function, i + 1, "string") }
        return s
    }

    static func number(_ a: [JMESPathArgument], _ i: Int, _ function: String) throws -> Double {
        guard i < a.count, let d = a[i].value.doubleValue else { throw invalidArgumentType(function, i + 1, "float64") }
        return d
    }

    /// Kyverno's `ifaceToString`: numbers print as float32 in positional notation, booleans as
    /// `true`/`false`, strings as themselves.
    static func ifaceToString(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return GoFormat.float32Fixed(Double(i))
        case .number(let d): return GoFormat.float32Fixed(d)
        default: return nil
        }
    }

    /// Kyverno's `intNumber`: an integral float in `int` range.
    static func intNumber(_ d: Double) -> Result<Int, JMESPathError> {
        if !d.isFinite || d.rounded(.towardZero) != d {
            return .failure(JMESPathError(.invalidValue, "expected an integer number but got: \(GoFormat.percentG(d))"))
        }
        guard let i = Int(exactly: d) else {
            return .failure(JMESPathError(.invalidValue, "number is outside the range of integer numbers: \(GoFormat.percentG(d))"))
        }
        return .success(i)
    }

    // MARK: - Strings

    static let stringFunctions: [JMESPathFunction] = [
        fn("compare", [s, s], returns: "number", note: "compares two strings lexicographically") { _, a in
            .integer(Int64(ValueOps.compareStrings(try string(a, 0, "compare"), try string(a, 1, "compare"))))
        },
        fn("equal_fold", [s, s], returns: "bool",
           note: "allows comparing two strings for equivalency where the only differences are letter cases") { _, a in
            .bool(GoStrings.equalFold(try string(a, 0, "equal_fold"), try string(a, 1, "equal_fold")))
        },
        fn("replace", [s, s, s, n], returns: "string",
           note: "replaces a specified number of instances of the source string with the replacement string in a parent ") { ctx, a in
            let str = try string(a, 0, "replace"), old = try string(a, 1, "replace"), new = try string(a, 2, "replace")
            let count = try number(a, 3, "replace")
            // Go converts with int(); out-of-range counts behave as "all" (negative) or a cap.
            let limit: Int = count.isNaN ? 0 : (count < 0 ? -1 : (count >= 1e15 ? Int.max : Int(count.rounded(.towardZero))))
            return .string(try GoStrings.replace(str, old, new, limit, &ctx))
        },
        fn("replace_all", [s, s, s], returns: "string",
           note: "replace all instances of one string with another in an overall parent string") { ctx, a in
            .string(try GoStrings.replace(try string(a, 0, "replace_all"), try string(a, 1, "replace_all"),
                                          try string(a, 2, "replace_all"), -1, &ctx))
        },
        fn("to_upper", [s], returns: "string",
           note: "takes in a string and outputs the same string with all upper-case letters") { ctx, a in
            let str = try string(a, 0, "to_upper")
            try ctx.charge(str.utf8.count)
            return .string(GoStrings.mapCase(str, upper: true))
        },
        fn("to_lower", [s], returns: "string",
           note: "takes in a string and outputs the same string with all lower-case letters") { ctx, a in
            let str = try string(a, 0, "to_lower")
            try ctx.charge(str.utf8.count)
            return .string(GoStrings.mapCase(str, upper: false))
        },
        fn("trim", [s, s], returns: "string",
           note: "trims both ends of the source string by characters appearing in the second string") { _, a in
            .string(GoStrings.trim(try string(a, 0, "trim"), cutset: try string(a, 1, "trim")))
        },
        fn("trim_prefix", [s, s], returns: "string",
           note: "trims the second string prefix from the first string if the first string starts with the prefix") { _, a in
            let str = try string(a, 0, "trim_prefix"), p = try string(a, 1, "trim_prefix")
            guard str.utf8.starts(with: p.utf8) else { return .string(str) }
            return .string(String(decoding: Array(str.utf8).dropFirst(p.utf8.count), as: UTF8.self))
        },
        fn("split", [s, s], returns: "array[string]",
           note: "splits the first string when the second string is found and converts it into an array ") { ctx, a in
            let parts = try GoStrings.split(try string(a, 0, "split"), try string(a, 1, "split"), &ctx)
            return .array(parts.map { .string($0) })
        },
        fn("regex_replace_all", [s, sn, sn], returns: "string", note: "converts all parameters to string") { ctx, a in
            let pattern = try string(a, 0, "regex_replace_all")
            guard let src = ifaceToString(a[1].value) else { throw invalidArgumentType("regex_replace_all", 2, "String or Real") }
            guard let repl = ifaceToString(a[2].value) else { throw invalidArgumentType("regex_replace_all", 3, "String or Real") }
            try ctx.charge(src.utf8.count)
            return .string(try KyvernoRegex.replaceAll(pattern, in: src, template: repl, function: "regex_replace_all"))
        },
        fn("regex_replace_all_literal", [s, sn, sn], returns: "string", note: "converts all parameters to string") { ctx, a in
            let pattern = try string(a, 0, "regex_replace_all_literal")
            guard let src = ifaceToString(a[1].value) else { throw invalidArgumentType("regex_replace_all_literal", 2, "String or Real") }
            guard let repl = ifaceToString(a[2].value) else { throw invalidArgumentType("regex_replace_all_literal", 3, "String or Real") }
            try ctx.charge(src.utf8.count)
            return .string(try KyvernoRegex.replaceAll(pattern, in: src, literal: repl, function: "regex_replace_all_literal"))
        },
        fn("regex_match", [s, sn], returns: "bool",
           note: "first string is the regular exression which is compared with second input which can be a number or string") { ctx, a in
            let pattern = try string(a, 0, "regex_match")
            guard let src = ifaceToString(a[1].value) else { throw invalidArgumentType("regex_match", 2, "String or Real") }
            try ctx.charge(src.utf8.count)
            return .bool(try KyvernoRegex.matches(pattern, src, function: "regex_match"))
        },
        fn("pattern_match", [s, sn], returns: "bool",
           note: "'*' matches zero or more alphanumeric characters, '?' matches a single alphanumeric character") { ctx, a in
            let pattern = try string(a, 0, "pattern_match")
            guard let src = ifaceToString(a[1].value) else { throw invalidArgumentType("pattern_match", 2, "String or Real") }
            // Matching is O(pattern × text) in the worst case (backtracking to the last `*`).
            let (work, overflow) = (src.utf8.count + 1).multipliedReportingOverflow(by: pattern.utf8.count + 1)
            try ctx.charge(overflow ? Int.max : work / 8 + src.utf8.count)
            return .bool(KyvernoWildcard.match(pattern: pattern, name: src))
        },
        fn("to_boolean", [s], returns: "bool",
           note: "It returns true or false for any string, such as 'True', 'TruE', 'False', 'FAlse', 'faLSE', etc.") { _, a in
            let input = try string(a, 0, "to_boolean")
            switch GoStrings.mapCase(input, upper: false) {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                throw error("to_boolean", "lowercase argument must be 'true' or 'false' (provided: '\(input)')")
            }
        },
        fn("truncate", [s, n], returns: "string",
           note: "length argument must be enclosed in backticks; ex. \"{{request.object.metadata.name | truncate(@, `9`)}}\"") { _, a in
            let str = try string(a, 0, "truncate")
            let length = try number(a, 1, "truncate")
            // Kyverno clamps negative lengths to 0 and truncates toward zero (Go int()).
            let n = length.isNaN || length < 0 ? 0 : (length >= 1e15 ? Int.max : Int(length.rounded(.towardZero)))
            var out = String.UnicodeScalarView()
            for (i, u) in str.unicodeScalars.enumerated() {
                if i >= n { break }
                out.append(u)
            }
            return .string(String(out))
        },
    ]

    // MARK: - Collections

    static let collectionFunctions: [JMESPathFunction] = [
        fn("label_match", [JMESPathParameter(.object), JMESPathParameter(.object)], returns: "bool",
           note: "object arguments must be enclosed in backticks; ex. `{{request.object.spec.template.metadata.labels}}`") { ctx, a in
            guard case .object(let labels) = a[0].value else { throw invalidArgumentType("label_match", 0, "Object") }
            guard case .object(let match) = a[1].value else { throw invalidArgumentType("label_match", 1, "Object") }
            for (k, v) in labels {
                guard let w = match[k], try ValueOps.equal(v, w, &ctx) else { return .bool(false) }
            }
            return .bool(true)
        },
        fn("lookup", [JMESPathParameter(.object, .array), sn], returns: "any",
           note: "returns the value corresponding to the given key/index in the given object/array") { _, a in
            switch a[0].value {
            case .object(let o):
                guard case .string(let k) = a[1].value else { throw invalidArgumentType("lookup", 2, "String") }
                return o[k] ?? .null
            case .array(let xs):
                guard let d = a[1].value.doubleValue else { throw invalidArgumentType("lookup", 2, "Number") }
                switch intNumber(d) {
                case .failure(let e):
                    throw JMESPathError(.invalidValue, "JMESPath function 'lookup': argument #2: \(e.message)")
                case .success(let i):
                    guard i >= 0, i < xs.count else { return .null }
                    return xs[i]
                }
            default:
                throw invalidArgumentType("lookup", 1, "Object or Array")
            }
        },
        fn("items", [JMESPathParameter(.object, .array), s, s], returns: "array",
           note: "converts a map or array to an array of objects where each key:value is an item in the array") { ctx, a in
            guard case .string(let keyName) = a[1].value else { throw invalidArgumentType("items", 2, "String") }
            guard case .string(let valueName) = a[2].value else { throw invalidArgumentType("items", 3, "String") }
            switch a[0].value {
            case .object(let o):
                try ctx.charge(o.count)
                return .array(ValueOps.sortedKeys(o).map { k in
                    var item: [String: JSONValue] = [:]
                    item[keyName] = .string(k)
                    item[valueName] = o[k] ?? .null
                    return .object(item)
                })
            case .array(let xs):
                try ctx.charge(xs.count)
                return .array(xs.enumerated().map { i, v in
                    var item: [String: JSONValue] = [:]
                    item[keyName] = .integer(Int64(i))
                    item[valueName] = v
                    return .object(item)
                })
            default:
                throw invalidArgumentType("items", 1, "Object or Array")
            }
        },
        fn("object_from_lists", [JMESPathParameter(.array), JMESPathParameter(.array)], returns: "object",
           note: "converts a pair of lists containing keys and values to an object") { ctx, a in
            guard case .array(let keys) = a[0].value else { throw invalidArgumentType("object_from_lists", 1, "Array") }
            guard case .array(let values) = a[1].value else { throw invalidArgumentType("object_from_lists", 2, "Array") }
            try ctx.charge(keys.count)
            var out: [String: JSONValue] = [:]
            for (i, k) in keys.enumerated() {
                guard let key = ifaceToString(k) else { throw invalidArgumentType("object_from_lists", 1, "StringArray") }
                out[key] = i < values.count ? values[i] : .null
            }
            return .object(out)
        },
    ]

    // MARK: - Encoding, parsing and hashing

    static let encodingFunctions: [JMESPathFunction] = [
        fn("base64_decode", [s], returns: "string", note: "decodes a base 64 string") { ctx, a in
            let str = try string(a, 0, "base64_decode")
            try ctx.charge(str.utf8.count)
            return .string(String(decoding: try GoBase64.decode(str), as: UTF8.self))
        },
        fn("base64_encode", [s], returns: "string",
           note: "encodes a regular, plaintext and unencoded string to base64") { ctx, a in
            let str = try string(a, 0, "base64_encode")
            try ctx.charge(str.utf8.count)
            return .string(Data(str.utf8).base64EncodedString())
        },
        fn("parse_json", [s], returns: "any",
           note: "decodes a valid JSON encoded string to the appropriate type. Opposite of `to_string` function") { ctx, a in
            let str = try string(a, 0, "parse_json")
            try ctx.charge(str.utf8.count)
            do {
                return try JSONValue(json: str)
            } catch {
                throw JMESPathError(.functionFailed, "\(error)", underlying: error as? PrimitivesError)
            }
        },
        fn("parse_yaml", [s], returns: "any",
           note: "decodes a valid YAML encoded string to the appropriate type provided it can be represented as JSON") { ctx, a in
            let str = try string(a, 0, "parse_yaml")
            try ctx.charge(str.utf8.count)
            return try YAMLConversion.parse(str, &ctx)
        },
        fn("sha256", [s], returns: "string", note: "generate unique resources name if length exceeds the limit") { ctx, a in
            let str = try string(a, 0, "sha256")
            try ctx.charge(str.utf8.count)
            return .string(Hashing.sha256Hex(str))
        },
        fn("sha1", [s], returns: "string", note: "generate a SHA-1 hash") { ctx, a in
            let str = try string(a, 0, "sha1")
            try ctx.charge(str.utf8.count)
            return .string(Hashing.sha1Hex(str))
        },
        fn("md5", [s], returns: "string", note: "generates an MD5 hash") { ctx, a in
            let str = try string(a, 0, "md5")
            try ctx.charge(str.utf8.count)
            return .string(Hashing.md5Hex(str))
        },
    ]

    // MARK: - Misc

    static func miscFunctions(_ configuration: KyvernoFunctionConfiguration) -> [JMESPathFunction] {
        [
            fn("path_canonicalize", [s], returns: "string",
               note: "normalizes or canonicalizes a given path by removing excess slashes") { ctx, a in
                let str = try string(a, 0, "path_canonicalize")
                try ctx.charge(str.utf8.count)
                // filepath.Join with one element is Clean, except that "" stays "".
                return .string(str.isEmpty ? "" : GoPath.clean(str))
            },
            fn("semver_compare", [s, s], returns: "bool",
               note: "compares two strings which comply with the semantic versioning schema and outputs a boolean response as to the position of the second relative to the first") { _, a in
                let v = try string(a, 0, "semver_compare")
                let r = try string(a, 1, "semver_compare")
                // Kyverno ignores version parse errors (the zero version is compared).
                let version = (try? SemanticVersion(parsing: v)) ?? SemanticVersion()
                let range = try SemanticVersionRange(parsing: r)
                return .bool(range.contains(version))
            },
            fn("random", [s], returns: "string", note: "Generates a random sequence of characters") { _, a in
                let pattern = try string(a, 0, "random")
                guard !pattern.isEmpty else { throw JMESPathError(.functionFailed, "no pattern provided") }
                var rng = SystemRandomNumberGenerator()
                return .string(try RegexGenerator.generate(pattern, using: &rng))
            },
            fn("x509_decode", [s], returns: "object",
               note: "decodes an x.509 certificate to an object. you may also use this in conjunction with `base64_decode` jmespath function to decode a base64-encoded certificate") { ctx, a in
                let text = try string(a, 0, "x509_decode")
                try ctx.charge(text.utf8.count)
                return try X509Decode.decode(text)
            },
            fn("image_normalize", [s], returns: "string", note: "normalizes an image reference") { _, a in
                let image = try string(a, 0, "image_normalize")
                do {
                    return .string(try KyvernoImage.normalize(image, configuration: configuration))
                } catch let e as JMESPathError {
                    throw error("image_normalize", e.message)
                }
            },
            fn("is_external_url", [s], returns: "bool",
               note: "determine if a URL points to an external network address") { _, a in
                .bool(try KyvernoURL.isExternal(try string(a, 0, "is_external_url"), resolve: configuration.resolveHost))
            },
        ]
    }
}
