import SignetPrimitives

/// A condition operator of `preconditions` / `deny.conditions` (Kyverno
/// pkg/engine/variables/operator), matched case-insensitively as Kyverno does.
public enum ConditionOperator: String, Sendable, CaseIterable {
    case equals = "Equals", equal = "Equal", notEquals = "NotEquals", notEqual = "NotEqual"
    case `in` = "In", anyIn = "AnyIn", allIn = "AllIn", notIn = "NotIn", anyNotIn = "AnyNotIn", allNotIn = "AllNotIn"
    case greaterThan = "GreaterThan", greaterThanOrEquals = "GreaterThanOrEquals"
    case lessThan = "LessThan", lessThanOrEquals = "LessThanOrEquals"
    case durationGreaterThan = "DurationGreaterThan", durationGreaterThanOrEquals = "DurationGreaterThanOrEquals"
    case durationLessThan = "DurationLessThan", durationLessThanOrEquals = "DurationLessThanOrEquals"

    /// Parses an operator name case-insensitively.
    public init?(parsing s: String) {
        let l = s.lowercased()
        guard let op = ConditionOperator.allCases.first(where: { $0.rawValue.lowercased() == l }) else { return nil }
        self = op
    }
}

/// One condition: `key`, `operator`, `value` (each may hold variables), optional `message`.
public struct Condition: Sendable, Hashable {
    public var key: JSONValue
    public var op: ConditionOperator
    public var value: JSONValue
    public var message: String?
}

/// `preconditions` or `deny.conditions`: `any` (one must hold) and `all` (every one must hold);
/// the legacy list form is `all`.
public struct ConditionBlock: Sendable, Hashable {
    public var any: [Condition]?
    public var all: [Condition]?

    public init(any: [Condition]? = nil, all: [Condition]? = nil) { self.any = any; self.all = all }

    /// Parses the block; problems go to `errors` as (path, message).
    public static func parse(_ v: JSONValue, path: String, errors: inout [(String, String)]) -> ConditionBlock {
        func list(_ v: JSONValue?, _ p: String) -> [Condition]? {
            guard let v, v != .null else { return nil }
            guard case .array(let a) = v else { errors.append((p, "must be a list of conditions")); return [] }
            var out: [Condition] = []
            for (i, e) in a.enumerated() {
                let cp = "\(p)[\(i)]"
                guard case .object(let o) = e else { errors.append((cp, "a condition must be a map")); continue }
                guard let opS = o["operator"]?.stringValue, let op = ConditionOperator(parsing: opS) else {
                    errors.append((cp + ".operator", "unknown operator \(GoFormat.v(o["operator"]))")); continue
                }
                out.append(Condition(key: o["key"] ?? .null, op: op, value: o["value"] ?? .null, message: o["message"]?.stringValue))
            }
            return out
        }
        switch v {
        case .array: return ConditionBlock(all: list(v, path))
        case .object(let o): return ConditionBlock(any: list(o["any"], path + ".any"), all: list(o["all"], path + ".all"))
        case .null: return ConditionBlock()
        default:
            errors.append((path, "must be a list or a map with any/all"))
            return ConditionBlock()
        }
    }

    /// Kyverno `EvaluateAnyAllConditions`: substitutes variables (unresolved ones become "") and
    /// evaluates; returns whether the block holds and the messages of the conditions that failed.
    public func evaluate(in ctx: VariableContext) throws -> (holds: Bool, messages: [String]) {
        // Kyverno `evaluateAnyAllConditions`: the messages of the conditions that held when the
        // block holds (a deny shows them), of those that failed otherwise (preconditions)
        var trueMessages: [String] = [], falseMessages: [String] = []
        var anyOK = true
        if let any, !any.isEmpty {
            anyOK = false
            for c in any {
                if try c.evaluate(in: ctx) {
                    anyOK = true
                    if let m = c.message { trueMessages.append(try substitutedMessage(m, ctx)) }
                    break
                }
                if let m = c.message { falseMessages.append(try substitutedMessage(m, ctx)) }
            }
        }
        var allOK = true
        if let all {
            for c in all {
                if try c.evaluate(in: ctx) {
                    if let m = c.message { trueMessages.append(try substitutedMessage(m, ctx)) }
                    continue
                }
                allOK = false
                if let m = c.message { falseMessages.append(try substitutedMessage(m, ctx)) }
                break
            }
        }
        let holds = anyOK && allOK
        return (holds, holds ? trueMessages : falseMessages)
    }

    func substitutedMessage(_ m: String, _ ctx: VariableContext) throws -> String {
        let v = try Variables.substitute(string: m, in: ctx, mode: .conditions)
        return v.stringValue ?? GoFormat.jsonString(v)
    }

    /// Every string of the block mapped through `f` (autogen rewrites `request.object.spec`).
    func mapStrings(_ f: (String) -> String) -> ConditionBlock {
        func m(_ c: Condition) -> Condition {
            Condition(key: c.key.mapStrings(f), op: c.op, value: c.value.mapStrings(f), message: c.message.map(f))
        }
        return ConditionBlock(any: any?.map(m), all: all?.map(m))
    }
}

extension JSONValue {
    /// Every string (not keys) mapped through `f`.
    func mapStrings(_ f: (String) -> String) -> JSONValue {
        switch self {
        case .string(let s): return .string(f(s))
        case .array(let a): return .array(a.map { $0.mapStrings(f) })
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o { out[f(k)] = v.mapStrings(f) }
            return .object(out)
        default: return self
        }
    }
}

extension Condition {
    /// Substitutes key and value, then applies the operator.
    public func evaluate(in ctx: VariableContext) throws -> Bool {
        // Kyverno `Evaluate`: the error names the side that failed
        let k: JSONValue, v: JSONValue
        do { k = try Variables.substitute(key, in: ctx, mode: .conditions) }
        catch { throw SignetPolicyError(.variableSubstitution, "failed to substitute variables in condition key: \((error as? SignetPolicyError)?.message ?? "\(error)")") }
        do { v = try Variables.substitute(value, in: ctx, mode: .conditions) }
        catch { throw SignetPolicyError(.variableSubstitution, "failed to substitute variables in condition value: \((error as? SignetPolicyError)?.message ?? "\(error)")") }
        return ConditionOperators.apply(op, key: k, value: v)
    }
}

/// The operator semantics (Kyverno pkg/engine/variables/operator).
enum ConditionOperators {
    static func apply(_ op: ConditionOperator, key: JSONValue, value: JSONValue) -> Bool {
        // Kyverno's handlers: a null key is an unsupported type for every operator
        if case .null = key { return false }
        let both = isSet(key, value)
        switch op {
        case .equals, .equal: return equals(key, value)
        case .notEquals, .notEqual: return !equals(key, value)
        case .in: return allIn(key, value)
        case .notIn: return !allIn(key, value)
        case .anyIn: return elements(key).contains { isIn($0, value, both: both) }
        case .allIn: return allIn(key, value)
        case .anyNotIn: return elements(key).contains { !isIn($0, value, both: both) }
        case .allNotIn: return elements(key).allSatisfy { !isIn($0, value, both: both) }
        case .greaterThan: return compare(key, value).map { $0 > 0 } ?? false
        case .greaterThanOrEquals: return compare(key, value).map { $0 >= 0 } ?? false
        case .lessThan: return compare(key, value).map { $0 < 0 } ?? false
        case .lessThanOrEquals: return compare(key, value).map { $0 <= 0 } ?? false
        case .durationGreaterThan: return durations(key, value).map { $0 > $1 } ?? false
        case .durationGreaterThanOrEquals: return durations(key, value).map { $0 >= $1 } ?? false
        case .durationLessThan: return durations(key, value).map { $0 < $1 } ?? false
        case .durationLessThanOrEquals: return durations(key, value).map { $0 <= $1 } ?? false
        }
    }

    static func elements(_ key: JSONValue) -> [JSONValue] {
        if case .array(let a) = key { return a }
        return [key]
    }

    static func allIn(_ key: JSONValue, _ value: JSONValue) -> Bool {
        if case .array(let a) = key { return a.allSatisfy { isIn($0, value, both: true) } }
        return isIn(key, value, both: isSet(key, value))
    }

    /// Kyverno matches wildcards both ways (`wildcard.Match(k, v) || wildcard.Match(v, k)`)
    /// when the key is a list or the value a list; a single key against a string value only
    /// uses the value as the pattern.
    static func isSet(_ key: JSONValue, _ value: JSONValue) -> Bool {
        if case .array = key { return true }
        if case .array = value { return true }
        return false
    }

    /// The candidate set of an In-family value: a list, or a string holding a JSON list, or a
    /// single string.
    static func candidates(_ value: JSONValue) -> [JSONValue] {
        switch value {
        case .array(let a): return a
        case .string(let s):
            if s.hasPrefix("["), let parsed = try? JSONValue(json: s), case .array(let a) = parsed { return a }
            return [value]
        default: return [value]
        }
    }

    /// Whether one key element is in `value` (wildcards in the value's strings; numbers in
    /// `low-high` ranges).
    static func isIn(_ key: JSONValue, _ value: JSONValue, both: Bool = false) -> Bool {
        let ks = scalarString(key)
        for c in candidates(value) {
            if c == key { return true }
            if case .object = key { continue }
            if case .array = key { continue }
            guard let ks, let cs = scalarString(c) else { continue }
            if Wildcard.match(cs, ks) || (both && Wildcard.match(ks, cs)) { return true }
            if let kd = Double(ks), let r = range(cs), r.0 <= kd && kd <= r.1 { return true }
        }
        return false
    }

    static func range(_ s: String) -> (Double, Double)? {
        let u = Array(s.utf8)
        guard u.count >= 3 else { return nil }
        for i in 1..<(u.count - 1) where u[i] == UInt8(ascii: "-") {
            let a = String(decoding: u[..<i], as: UTF8.self), b = String(decoding: u[(i + 1)...], as: UTF8.self)
            if let x = Double(a), let y = Double(b) { return (x, y) }
        }
        return nil
    }

    /// Go `fmt.Sprint` of a scalar.
    static func scalarString(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return GoFormat.jsonString(.number(d))
        default: return nil
        }
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// Kyverno `parseDuration`: at least one side a non-zero duration string, the other a
    /// duration string or a number of seconds.
    static func durations(_ a: JSONValue, _ b: JSONValue) -> (Double, Double)? {
        func d(_ v: JSONValue) -> Double? {
            guard case .string(let s) = v, let g = try? GoDuration(parsing: s), g.nanoseconds != 0 else { return nil }
            return Double(g.nanoseconds) / 1e9
        }
        let da = d(a), db = d(b)
        guard da != nil || db != nil else { return nil }
        guard let x = da ?? number(a), let y = db ?? number(b) else { return nil }
        return (x, y)
    }

    static func quantities(_ a: JSONValue, _ b: JSONValue) -> (Quantity, Quantity)? {
        guard case .string(let x) = a, case .string(let y) = b,
              let qa = try? Quantity(parsing: x), let qb = try? Quantity(parsing: y) else { return nil }
        return (qa, qb)
    }

    static func equals(_ key: JSONValue, _ value: JSONValue) -> Bool {
        switch key {
        case .bool(let b): return value.boolValue == b
        case .integer, .number:
            guard let k = number(key) else { return false }
            if let v = number(value) { return k == v }
            if case .string(let s) = value {
                if let (x, y) = durations(key, value) { return x == y }
                if let v = Double(s) { return k == v }
            }
            return false
        case .string(let s):
            if let (x, y) = durations(key, value) { return x == y }
            if let (x, y) = quantities(key, value) { return x == y }
            if case .string(let p) = value { return Wildcard.match(p, s) }
            return false
        case .null:
            return value == .null
        case .array, .object:
            return key == value
        }
    }

    /// -1/0/1, or nil when the two sides cannot be compared.
    static func compare(_ key: JSONValue, _ value: JSONValue) -> Int? {
        func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
        if let (a, b) = quantities(key, value) { return cmp(a, b) }
        if let (a, b) = durations(key, value) { return cmp(a, b) }
        let k: Double? = number(key) ?? key.stringValue.flatMap { Double($0) }
        let v: Double? = number(value) ?? value.stringValue.flatMap { Double($0) }
        if let k, let v { return cmp(k, v) }
        if case .string(let a) = key, case .string(let b) = value, let sa = SemVer(a), let sb = SemVer(b) {
            return sa < sb ? -1 : (sb < sa ? 1 : 0)
        }
        return nil
    }
}

/// A minimal semantic version for ordering (`major.minor.patch[-pre]`).
struct SemVer: Comparable {
    var parts: [Int]
    var pre: String
    init?(_ s: String) {
        var t = Substring(s)
        if t.hasPrefix("v") { t = t.dropFirst() }
        let main = t.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let nums = main[0].split(separator: ".", omittingEmptySubsequences: false)
        guard nums.count == 3 else { return nil }
        var p: [Int] = []
        for n in nums {
            guard n.count <= 9, let v = Int(n) else { return nil }
            p.append(v)
        }
        parts = p
        pre = main.count > 1 ? String(main[1]) : ""
    }
    static func < (a: SemVer, b: SemVer) -> Bool {
        if a.parts != b.parts { return a.parts.lexicographicallyPrecedes(b.parts) }
        if a.pre == b.pre { return false }
        if a.pre.isEmpty { return false }
        if b.pre.isEmpty { return true }
        return a.pre < b.pre
    }
}
