import SignetPrimitives

/// The CEL standard library (langdef "Standard Definitions"): functions dispatched through overloads.
/// Operators and macros are compiled directly and are not listed here.
public enum CELStandardLibrary {
    /// The standard functions, installed in every environment.
    public static let library = CELLibrary(name: "cel.stdlib", functions: sizeFunctions + stringFunctions
        + conversionFunctions + timeFunctions + optionalFunctions)

    // MARK: - size

    static func size(_ v: CELValue) -> CELValue {
        switch v {
        case .string(let s): .int(Int64(s.unicodeScalars.count))
        case .bytes(let b): .int(Int64(b.count))
        case .list(let l): .int(Int64(l.count))
        case .map(let m): .int(Int64(m.count))
        default: .error(.noMatchingOverload("size"))
        }
    }

    static let sizeFunctions: [CELFunction] = [
        CELFunction("size",
                    .function("size_string", .string, cost: .linear(factor: 0.1), size),
                    .function("size_bytes", .bytes, size),
                    .function("size_list", .anyList, size),
                    .function("size_map", .anyMap, size),
                    .method("string_size", .string, cost: .linear(factor: 0.1), size),
                    .method("bytes_size", .bytes, size),
                    .method("list_size", .anyList, size),
                    .method("map_size", .anyMap, size)),
    ]

    // MARK: - strings

    static let stringFunctions: [CELFunction] = [
        CELFunction("contains", .method("contains_string", .string, .string, cost: .linear(factor: 0.1)) { s, t in
            guard case .string(let a) = s, case .string(let b) = t else { return .error(.noMatchingOverload("contains")) }
            return .bool(StringSearch.contains(a, b))
        }),
        CELFunction("startsWith", .method("starts_with_string", .string, .string, cost: .linear(factor: 0.1)) { s, t in
            guard case .string(let a) = s, case .string(let b) = t else { return .error(.noMatchingOverload("startsWith")) }
            return .bool(StringSearch.hasPrefix(a, b))
        }),
        CELFunction("endsWith", .method("ends_with_string", .string, .string, cost: .linear(factor: 0.1)) { s, t in
            guard case .string(let a) = s, case .string(let b) = t else { return .error(.noMatchingOverload("endsWith")) }
            return .bool(StringSearch.hasSuffix(a, b))
        }),
        CELFunction("matches",
                    .function("matches", .string, .string, cost: regexCost, matches),
                    .method("matches_string", .string, .string, cost: regexCost, matches)),
    ]

    /// Regular expressions run in linear time; charge proportional to text × pattern (Kubernetes' model).
    static let regexCost = CELCost.custom { args in
        var total: Int64 = 1
        if args.count == 2 {
            let text = Int64(celSize(args[0]))
            let pattern = Int64(celSize(args[1]))
            let (product, overflow) = text.multipliedReportingOverflow(by: max(1, pattern))
            total += overflow ? Int64.max / 2 : product / 10
        }
        return total
    }

    static func matches(_ s: CELValue, _ p: CELValue) -> CELValue {
        guard case .string(let text) = s, case .string(let pattern) = p else { return .error(.noMatchingOverload("matches")) }
        return RegexCache.shared.matches(pattern: pattern, text: text)
    }
}
