/// The optionals library (cel-go `OptionalTypes`): `optional.of`, `optional.none`, `optional.ofNonZeroValue`,
/// `hasValue`, `value`, `orValue`, `or`. The macros `optMap`/`optFlatMap` are compiled by the compiler.
extension CELStandardLibrary {
    /// Whether a value is its type's zero value (for `optional.ofNonZeroValue`).
    static func isZero(_ v: CELValue) -> Bool {
        switch v {
        case .null: true
        case .bool(let b): !b
        case .int(let i): i == 0
        case .uint(let u): u == 0
        case .double(let d): d == 0
        case .string(let s): s.isEmpty
        case .bytes(let b): b.isEmpty
        case .list(let l): l.isEmpty
        case .map(let m): m.isEmpty
        case .timestamp(let t): t.nanosecondsSinceEpoch == 0
        case .duration(let d): d.nanoseconds == 0
        case .optional(let o): o == nil
        default: false
        }
    }

    static let optionalFunctions: [CELFunction] = [
        CELFunction("optional.of", .function("optional_of", .dyn) { .optional($0) }),
        CELFunction("optional.none", .function("optional_none", parameters: []) { _ in .optional(nil) }),
        CELFunction("optional.ofNonZeroValue", .function("optional_of_non_zero_value", .dyn) { v in
            isZero(v) ? .optional(nil) : .optional(v)
        }),
        CELFunction("hasValue", .method("optional_has_value", .optional(.dyn)) { v in
            guard case .optional(let o) = v else { return .error(.noMatchingOverload("hasValue")) }
            return .bool(o != nil)
        }),
        CELFunction("value", .method("optional_value", .optional(.dyn)) { v in
            guard case .optional(let o) = v else { return .error(.noMatchingOverload("value")) }
            return o ?? .error(CELError(.invalidArgument, "optional.none() dereference"))
        }),
        CELFunction("orValue", .method("optional_or_value", .optional(.dyn), .dyn) { v, alternative in
            guard case .optional(let o) = v else { return .error(.noMatchingOverload("orValue")) }
            return o ?? alternative
        }),
        CELFunction("or", .method("optional_or_optional", .optional(.dyn), .optional(.dyn)) { v, alternative in
            guard case .optional(let o) = v else { return .error(.noMatchingOverload("or")) }
            return o == nil ? alternative : v
        }),
    ]
}
