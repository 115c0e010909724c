// Extension libraries: cel-go `ext` (strings, math, encoders, sets, lists) and the Kubernetes
// libraries of k8s.io/apiserver `pkg/cel/library` (lists, regex, urls, quantity, ip/cidr, semver).
// Each is a `CELLibrary` the caller installs into a `CELEnvironment`.

/// The extension libraries, each enabled separately (`CELEnvironment(libraries: [CELExtensions.strings])`)
/// or all at once (`CELExtensions.all`, as Kubernetes and Kyverno do).
public enum CELExtensions {
    /// Every extension library: cel-go's strings, math, encoders, sets and lists, and the Kubernetes
    /// libraries (lists, regex, url, quantity, ip/cidr, semver, format, jsonpatch).
    public static var all: [CELLibrary] {
        [strings, math, encoders, sets, lists] + kubernetes
    }

    /// The Kubernetes libraries (k8s.io/apiserver `pkg/cel/library`).
    public static var kubernetes: [CELLibrary] {
        [kubernetesLists, kubernetesRegex, kubernetesURLs, kubernetesQuantity, kubernetesIP, kubernetesSemver,
         kubernetesFormat, kubernetesJSONPatch]
    }
}

// MARK: - Shared helpers

enum Ext {
    /// An error value with `.invalidArgument`.
    static func fail(_ message: String) -> CELValue { .error(CELError(.invalidArgument, message)) }

    /// The standard "no matching overload" error value for `function`.
    static func noOverload(_ function: String) -> CELValue { .error(CELError.noMatchingOverload(function)) }

    /// An integer overflow error value.
    static func overflow(_ operation: String) -> CELValue { .error(CELError.overflow(operation)) }

    /// Size of a value for cost purposes: UTF-8 bytes of strings, bytes, list and map element counts.
    static func size(_ value: CELValue) -> Int64 {
        switch value {
        case .string(let s): Int64(s.utf8.count)
        case .bytes(let b): Int64(b.count)
        case .list(let l): Int64(l.count)
        case .map(let m): Int64(m.count)
        default: 1
        }
    }

    /// `a + b`, or `Int64.max` on overflow (costs saturate rather than wrap).
    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int64.max : sum
    }

    /// Cost `1 + (sum of argument sizes) / divisor`: a linear scan over the inputs.
    static func linear(_ divisor: Int64 = 10) -> CELCost {
        .custom { args in
            var total: Int64 = 0
            for a in args { total = saturatingAdd(total, size(a)) }
            return 1 + total / max(divisor, 1)
        }
    }

    /// Cost for list operations that touch each element (and nested elements once).
    static let perElement: CELCost = .custom { args in
        var total: Int64 = 1
        for a in args { total = saturatingAdd(total, size(a)) }
        return total
    }

    /// A contextual receiver overload: the body can charge cost as it works.
    static func method(_ id: String, _ parameters: [CELType], cost: CELCost = .fixed(1),
                       _ body: @escaping @Sendable (CELEvaluationContext, [CELValue]) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .receiver, parameters: parameters, cost: cost, implementation: .contextual(body))
    }

    /// A contextual global overload.
    static func function(_ id: String, _ parameters: [CELType], variadic: Bool = false, cost: CELCost = .fixed(1),
                         _ body: @escaping @Sendable (CELEvaluationContext, [CELValue]) -> CELValue) -> CELOverload {
        CELOverload(id: id, style: .global, parameters: parameters, isVariadic: variadic, cost: cost,
                    implementation: .contextual(body))
    }

    /// Runs a throwing body, turning its error into an error value.
    static func attempt(_ body: () throws(CELError) -> CELValue) -> CELValue {
        do { return try body() } catch { return .error(error) }
    }

    /// Converts an int argument to a Swift `Int` index, or nil when out of `Int` range.
    static func index(_ v: Int64) -> Int? { Int(exactly: v) }
}

// MARK: - Equality and ordering used by list/set functions

/// CEL equality and ordering for the extensions: the core's semantics (langdef "Equality", "Ordering"),
/// so `sets.contains`, `distinct`, `indexOf`, `sort`, `min`/`max` agree with `==` and `<`.
enum ExtCompare {
    /// CEL `==`: numbers by value across int/uint/double, code-point string equality, NaN unequal.
    static func equal(_ a: CELValue, _ b: CELValue) -> Bool { a.celEquals(b) }

    /// Ordering of two numbers of any numeric type; nil when either is not a number or is NaN.
    static func numericCompare(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.int, .int), (.int, .uint), (.int, .double), (.uint, .int), (.uint, .uint), (.uint, .double),
             (.double, .int), (.double, .uint), (.double, .double):
            return a.compare(b)
        default:
            return nil
        }
    }

    /// Ordering for comparable values of the same kind (numbers across kinds); nil when not comparable.
    static func compare(_ a: CELValue, _ b: CELValue) -> Int? { a.compare(b) }

    /// Byte-wise lexicographic order (code-point order for UTF-8).
    static func lexicographic(_ x: [UInt8], _ y: [UInt8]) -> Int {
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
    }
}
