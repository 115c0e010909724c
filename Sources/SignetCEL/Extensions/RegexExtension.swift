import SignetPrimitives

// The Kubernetes regex library (k8s.io/apiserver pkg/cel/library/regex.go), on RE2 syntax with
// linear-time matching (SignetPrimitives.RE2); compiled patterns are cached.

extension CELExtensions {
    /// `s.find(regex) -> string` (the first match, or `""`) and `s.findAll(regex[, limit]) -> list(string)`
    /// (a negative limit means all matches).
    public static let kubernetesRegex = CELLibrary(name: "kubernetes.regex", functions: [
        CELFunction("find",
            .method("string_find_string", .string, .string, cost: Ext.linear(2)) { s, p in
                guard case .string(let subject) = s, case .string(let pattern) = p else { return Ext.noOverload("find") }
                return RegexExt.withRegex(pattern) { re in
                    .string(re.firstMatch(in: subject)?.text(in: subject) ?? "")
                }
            }),
        CELFunction("findAll",
            .method("string_find_all_string", .string, .string, cost: Ext.linear(2)) { s, p in
                RegexExt.findAll(s, p, .int(-1))
            },
            .method("string_find_all_string_int", .string, .string, .int, cost: Ext.linear(2)) { s, p, n in
                RegexExt.findAll(s, p, n)
            }),
    ])
}

enum RegexExt {
    static func withRegex(_ pattern: String, _ body: (RE2) -> CELValue) -> CELValue {
        do {
            return body(try RegexCache.shared.compiled(pattern))
        } catch {
            return Ext.fail("invalid regular expression '\(pattern)'")
        }
    }

    static func findAll(_ s: CELValue, _ p: CELValue, _ n: CELValue) -> CELValue {
        guard case .string(let subject) = s, case .string(let pattern) = p, case .int(let limit) = n else {
            return Ext.noOverload("findAll")
        }
        if limit == 0 { return .list([]) }
        let bound = limit < 0 ? Int.max : Int(clamping: limit)
        return withRegex(pattern) { re in
            .list(re.allMatches(in: subject, limit: bound).map { .string($0.text(in: subject) ?? "") })
        }
    }
}
