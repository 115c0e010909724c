/// Checker signatures of the standard library (langdef "Standard Definitions"). Operators are compiled
/// directly by the evaluator, so they are declared here; standard functions registered as overloads take
/// their parameter types from the registration and their result type from `standardResults`.
enum CheckerDeclarations {
    private static let A = TType.variable("A")
    private static let B = TType.variable("B")

    private static func binary(_ name: String, _ rows: [(TType, TType, TType)]) -> [CheckSignature] {
        rows.map { CheckSignature("\(name)_\($0.0.display)_\($0.1.display)", [$0.0, $0.1], $0.2) }
    }

    /// Orderings: same-type pairs plus the cross-type numeric pairs (langdef "Ordering").
    private static func ordering(_ name: String) -> [CheckSignature] {
        let same: [TType] = [.bool, .int, .uint, .double, .string, .bytes, .timestamp, .duration]
        let numbers: [TType] = [.int, .uint, .double]
        var rows = same.map { ($0, $0, TType.bool) }
        for a in numbers { for b in numbers where a != b { rows.append((a, b, .bool)) } }
        return binary(name, rows)
    }

    /// Signatures of operators and of standard functions whose declarations need type parameters.
    static let operators: [String: [CheckSignature]] = {
        var t: [String: [CheckSignature]] = [:]
        t[Operator.logicalNot] = [CheckSignature("logical_not", [.bool], .bool)]
        t[Operator.logicalAnd] = [CheckSignature("logical_and", [.bool, .bool], .bool)]
        t[Operator.logicalOr] = [CheckSignature("logical_or", [.bool, .bool], .bool)]
        t[Operator.conditional] = [CheckSignature("conditional", [.bool, A, A], A)]
        t[Operator.negate] = [CheckSignature("negate_int64", [.int], .int), CheckSignature("negate_double", [.double], .double)]
        t[Operator.equals] = [CheckSignature("equals", [A, A], .bool)]
        t[Operator.notEquals] = [CheckSignature("not_equals", [A, A], .bool)]
        for op in [Operator.less, Operator.lessEquals, Operator.greater, Operator.greaterEquals] { t[op] = ordering(op) }
        t[Operator.add] = binary("add", [(.int, .int, .int), (.uint, .uint, .uint), (.double, .double, .double),
                                         (.string, .string, .string), (.bytes, .bytes, .bytes),
                                         (.list(A), .list(A), .list(A)), (.timestamp, .duration, .timestamp),
                                         (.duration, .timestamp, .timestamp), (.duration, .duration, .duration)])
        t[Operator.subtract] = binary("subtract", [(.int, .int, .int), (.uint, .uint, .uint), (.double, .double, .double),
                                                   (.timestamp, .timestamp, .duration), (.timestamp, .duration, .timestamp),
                                                   (.duration, .duration, .duration)])
        t[Operator.multiply] = binary("multiply", [(.int, .int, .int), (.uint, .uint, .uint), (.double, .double, .double)])
        t[Operator.divide] = binary("divide", [(.int, .int, .int), (.uint, .uint, .uint), (.double, .double, .double)])
        t[Operator.modulo] = binary("modulo", [(.int, .int, .int), (.uint, .uint, .uint)])
        t[Operator.in] = [CheckSignature("in_list", [A, .list(A)], .bool), CheckSignature("in_map", [A, .map(A, B)], .bool)]
        t[Operator.index] = [
            CheckSignature("index_list", [.list(A), .int], A),
            CheckSignature("index_map", [.map(A, B), A], B),
            CheckSignature("optional_list_index", [.optional(.list(A)), .int], .optional(A)),
            CheckSignature("optional_map_index", [.optional(.map(A, B)), A], .optional(B)),
        ]
        t[Operator.optionalIndex] = [
            CheckSignature("list_optindex_optional_int", [.list(A), .int], .optional(A)),
            CheckSignature("optional_list_optindex_optional_int", [.optional(.list(A)), .int], .optional(A)),
            CheckSignature("map_optindex_optional_value", [.map(A, B), A], .optional(B)),
            CheckSignature("optional_map_optindex_optional_value", [.optional(.map(A, B)), A], .optional(B)),
        ]
        // Optionals (cel-go optional library): generic signatures.
        t["optional.of"] = [CheckSignature("optional_of", [A], .optional(A))]
        t["optional.ofNonZeroValue"] = [CheckSignature("optional_of_non_zero_value", [A], .optional(A))]
        t["optional.none"] = [CheckSignature("optional_none", [], .optional(A))]
        t["hasValue"] = [CheckSignature("optional_has_value", receiver: true, [.optional(A)], .bool)]
        t["value"] = [CheckSignature("optional_value", receiver: true, [.optional(A)], A)]
        t["orValue"] = [CheckSignature("optional_or_value", receiver: true, [.optional(A), A], A)]
        t["or"] = [CheckSignature("optional_or_optional", receiver: true, [.optional(A), .optional(A)], .optional(A))]
        t["dyn"] = [CheckSignature("to_dyn", [A], .dyn)]
        t["type"] = [CheckSignature("type", [A], .type(A))]
        return t
    }()

    /// Result types of standard functions registered as overloads, by function name.
    static let standardResults: [String: TType] = {
        var r: [String: TType] = [
            "size": .int, "contains": .bool, "startsWith": .bool, "endsWith": .bool, "matches": .bool,
            "int": .int, "uint": .uint, "double": .double, "string": .string, "bytes": .bytes, "bool": .bool,
            "timestamp": .timestamp, "duration": .duration,
        ]
        for accessor in ["getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
                         "getHours", "getMinutes", "getSeconds", "getMilliseconds"] {
            r[accessor] = .int
        }
        return r
    }()

    /// Overload ids of the standard library registration (their declared types are replaced by the above).
    static let standardIDs: Set<String> = {
        var ids = Set<String>()
        for f in CELStandardLibrary.library.functions { for o in f.overloads { ids.insert(o.id) } }
        return ids
    }()

    // MARK: - Extension libraries (CELExtensions): result types of overloads registered without one

    /// Generic signatures of the lists/sets extension overloads, by overload id (cel-go `ext.Lists`).
    static let extensionSignatures: [String: CheckSignature] = {
        let rows: [CheckSignature] = [
            CheckSignature("list_slice", receiver: true, [.list(A), .int, .int], .list(A)),
            CheckSignature("list_distinct", receiver: true, [.list(A)], .list(A)),
            CheckSignature("list_reverse", receiver: true, [.list(A)], .list(A)),
            CheckSignature("list_sort", receiver: true, [.list(A)], .list(A)),
            CheckSignature("list_sortByAssociatedKeys", [.list(A), .list(B)], .list(A)),
            CheckSignature("list_first", receiver: true, [.list(A)], .optional(A)),
            CheckSignature("list_last", receiver: true, [.list(A)], .optional(A)),
            CheckSignature("list_sum", receiver: true, [.list(A)], A),
            CheckSignature("list_min", receiver: true, [.list(A)], A),
            CheckSignature("list_max", receiver: true, [.list(A)], A),
            CheckSignature("list_index_of", receiver: true, [.list(A), A], .int),
            CheckSignature("list_last_index_of", receiver: true, [.list(A), A], .int),
            CheckSignature("lists_range", [.int], .list(.int)),
            CheckSignature("list_flatten", receiver: true, [.list(.dyn)], .list(.dyn)),
            CheckSignature("list_flatten_int", receiver: true, [.list(.dyn), .int], .list(.dyn)),
        ]
        return Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }()

    /// Result types of extension functions by name (cel-go and Kubernetes library documentation).
    static let extensionResults: [String: TType] = {
        let ip = TType(.opaque("net.IP")), cidr = TType(.opaque("net.CIDR"))
        let quantity = TType(.opaque("kubernetes.Quantity")), semver = TType(.opaque("kubernetes.Semver"))
        let url = TType(.opaque("kubernetes.URL")), format = TType(.opaque("kubernetes.NamedFormat"))
        var r: [String: TType] = [
            // strings
            "charAt": .string, "indexOf": .int, "lastIndexOf": .int, "lowerAscii": .string, "upperAscii": .string,
            "replace": .string, "split": .list(.string), "substring": .string, "trim": .string, "join": .string,
            "strings.quote": .string, "format": .string,
            // math
            "math.ceil": .double, "math.floor": .double, "math.round": .double, "math.trunc": .double,
            "math.sqrt": .double, "math.isInf": .bool, "math.isNaN": .bool, "math.isFinite": .bool,
            // encoders, sets, lists
            "base64.encode": .string, "base64.decode": .bytes,
            "sets.contains": .bool, "sets.equivalent": .bool, "sets.intersects": .bool,
            "isSorted": .bool, "includes": .bool,
            // Kubernetes libraries
            "ip": ip, "isIP": .bool, "ip.isCanonical": .bool, "family": .int, "cidr": cidr, "isCIDR": .bool,
            "containsIP": .bool, "containsCIDR": .bool, "masked": cidr, "prefixLength": .int,
            "quantity": quantity, "isQuantity": .bool, "isInteger": .bool, "asInteger": .int,
            "asApproximateFloat": .double, "add": quantity, "sub": quantity, "compareTo": .int,
            "isLessThan": .bool, "isGreaterThan": .bool,
            "semver": semver, "isSemver": .bool, "major": .int, "minor": .int, "patch": .int,
            "url": url, "isURL": .bool, "getScheme": .string, "getHost": .string, "getHostname": .string,
            "getPort": .string, "getEscapedPath": .string, "getQuery": .map(.string, .list(.string)),
            "find": .string, "findAll": .list(.string), "jsonpatch.escapeKey": .string,
            "format.named": .optional(format), "validate": .optional(.list(.string)),
        ]
        for p in ["isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast"] {
            r[p] = .bool
        }
        for f in ["dns1123Label", "dns1123Subdomain", "dns1035Label", "qualifiedName", "dns1123LabelPrefix",
                  "dns1123SubdomainPrefix", "dns1035LabelPrefix", "labelValue", "uri", "uuid", "byte", "date",
                  "datetime"] {
            r["format." + f] = format
        }
        return r
    }()

    /// Functions whose result has the type of the first argument (`math.abs(-1)` is an int).
    static let sameTypeResults: Set<String> = [
        "math.abs", "math.bitAnd", "math.bitOr", "math.bitXor", "math.bitNot", "math.bitShiftLeft", "math.bitShiftRight",
    ]

    /// The checker signature of a library or caller overload: its declared result type, else the above.
    static func signature(_ name: String, _ o: CELOverload) -> CheckSignature {
        if o.resultType != .dyn { return CheckSignature(o) }
        if let s = extensionSignatures[o.id] { return s }
        let s = CheckSignature(o)
        var result = extensionResults[name] ?? standardResults[name] ?? .dyn
        if name == "math.sign", let first = s.parameters.first { result = first }
        if name == "ip", s.receiver { result = ip }
        if sameTypeResults.contains(name), let first = s.parameters.first { result = first }
        if name == "sign", s.receiver || s.parameters.first == TType(.opaque("kubernetes.Quantity")) { result = .int }
        if name == "reverse" { result = s.parameters.first == .string ? .string : .dyn }
        return CheckSignature(s.id, receiver: s.receiver, s.parameters, result, variadic: s.variadic)
    }

    private static let ip = TType(.opaque("net.IP"))
}
