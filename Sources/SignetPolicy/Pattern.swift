import Foundation
import SignetPrimitives

/// A validation pattern compiled once from its JSON form: anchors parsed, keys ordered as Kyverno
/// evaluates them (pkg/engine/validate), string conditions split into `|`/`&` alternatives.
public final class Pattern: Sendable {
    let root: PatternNode
    /// The pattern as written.
    public let source: JSONValue

    /// Compiles `source`. Numbers in patterns behave as Go float64, as in Kyverno.
    public init(_ source: JSONValue) {
        self.source = source
        self.root = PatternNode.compile(source)
    }

    /// Outcome of matching a resource against a pattern.
    public enum Outcome: Sendable, Equatable {
        case pass
        /// A failure at `path` (Kyverno's trailing-slash form, e.g. `/spec/containers/0/image/`).
        case fail(path: String, message: String)
        /// A conditional or global anchor did not match: the rule does not apply.
        case skip(message: String)
        /// Kyverno's "execution error" (e.g. an anchor key missing from the resource).
        case error(message: String)
    }

    /// Matches `resource` against the pattern (Kyverno `validate.MatchPattern`).
    public func match(_ resource: JSONValue) -> Outcome {
        var ctx = PatternContext()
        var path: [String] = []
        if let err = ctx.element(resource, root, &path) {
            if err.isSkip { return .skip(message: err.message) }
            if err.isNegation { return .fail(path: err.path, message: err.message) }
            if ctx.keysAreMissing { return .error(message: err.message) }
            if err.path.isEmpty { return .error(message: err.message) }
            return .fail(path: err.path, message: err.message)
        }
        return .pass
    }
}

struct PatternError: Error {
    enum AnchorCode { case conditional, global, negation }
    var message: String
    var path: String
    var anchorCode: AnchorCode? = nil
    var isPatternError = false
    /// The message embeds a conditional/global anchor error (Kyverno detects these by text).
    var skipText = false
    /// The message embeds a negation anchor error.
    var negationText = false

    var isSkip: Bool {
        if let anchorCode { return anchorCode == .conditional || anchorCode == .global }
        return skipText
    }
    var isNegation: Bool {
        if let anchorCode { return anchorCode == .negation }
        return negationText
    }
}

indirect enum PatternNode: Sendable {
    case map(MapPattern)
    case array([PatternNode], source: JSONValue)
    case scalar(ScalarPattern)

    static func compile(_ v: JSONValue) -> PatternNode {
        switch v {
        case .object(let o): return .map(MapPattern(o))
        case .array(let a): return .array(a.map(compile), source: v)
        default: return .scalar(ScalarPattern(v))
        }
    }

    var isStar: Bool {
        if case .scalar(let s) = self, case .string("*") = s.raw { return true }
        return false
    }

    static func hasNestedAnchors(_ v: JSONValue) -> Bool {
        switch v {
        case .object(let o):
            for k in o.keys {
                if let a = Anchor(parsing: k), a.kind != .addIfNotPresent { return true }
            }
            return o.values.contains(where: hasNestedAnchors)
        case .array(let a): return a.contains(where: hasNestedAnchors)
        default: return false
        }
    }
}

final class MapPattern: Sendable {
    struct Entry: Sendable {
        let rawKey: String
        let anchor: Anchor?
        let node: PatternNode
    }
    /// Condition, existence, equality and negation anchors, sorted by raw key.
    let anchors: [Entry]
    /// Other keys (plain, global and `+()`), in Kyverno's order.
    let resources: [Entry]
    /// Anchor keys the anchor map tracks (condition, existence, negation).
    let tracked: [(raw: String, key: String, negation: Bool)]
    /// The source needs label/annotation wildcard expansion against each resource.
    let expandsMetadata: Bool
    let source: [String: JSONValue]
    let nodes: [String: PatternNode]

    convenience init(_ o: [String: JSONValue]) {
        self.init(o, compiled: [:])
    }

    /// Builds the map, reusing already compiled children from `compiled` (by raw key).
    init(_ o: [String: JSONValue], compiled: [String: PatternNode]) {
        source = o
        var anchors: [Entry] = []
        var resources: [Entry] = []
        var tracked: [(String, String, Bool)] = []
        var nodes: [String: PatternNode] = [:]
        for k in o.keys.sorted() {
            let a = Anchor(parsing: k)
            let node = compiled[k] ?? PatternNode.compile(o[k]!)
            nodes[k] = node
            let e = Entry(rawKey: k, anchor: a, node: node)
            if let a, a.kind == .condition || a.kind == .existence || a.kind == .equality || a.kind == .negation {
                anchors.append(e)
            } else if (a?.kind == .global) || PatternNode.hasNestedAnchors(o[k]!) {
                resources.insert(e, at: 0)
            } else {
                resources.append(e)
            }
            if let a, a.kind == .condition || a.kind == .existence || a.kind == .negation {
                tracked.append((k, a.key, a.kind == .negation))
            }
        }
        self.anchors = anchors
        self.resources = resources
        self.tracked = tracked
        self.nodes = nodes
        var expands = false
        for (k, v) in o where k == "metadata" || Anchor(parsing: k)?.key == "metadata" {
            if let md = v.objectValue {
                for (mk, mv) in md where ["labels", "annotations"].contains(mk) || ["labels", "annotations"].contains(Anchor(parsing: mk)?.key ?? "") {
                    if let m = mv.objectValue, m.keys.contains(where: Wildcard.containsWildcard) { expands = true }
                }
            }
        }
        expandsMetadata = expands
    }

    /// The map with wildcard label/annotation keys expanded for `resource`; only the metadata
    /// child is recompiled.
    func expanded(for resource: [String: JSONValue]) -> MapPattern {
        let e = PatternContext.expandMetadata(source, resource)
        var reuse = nodes
        for (k, _) in e where k == "metadata" || Anchor(parsing: k)?.key == "metadata" { reuse[k] = nil }
        return MapPattern(e, compiled: reuse)
    }
}

/// A scalar pattern: string conditions pre-split; numbers as float64.
struct ScalarPattern: Sendable {
    enum Op: String, Sendable { case equal = "", moreEqual = ">=", lessEqual = "<=", notEqual = "!", more = ">", less = "<", inRange = "-", notInRange = "!-" }
    struct Condition: Sendable {
        let op: Op
        let operand: String
        let low: String
        let high: String
        /// For ranges: the two comparisons (`>= low`, `<= high` or `< low`, `> high`).
        let bounds: [Condition]
        /// The operand parsed once as a Go duration / Kubernetes quantity.
        let duration: GoDuration?
        let quantity: Quantity?

        init(op: Op, operand: String, low: String, high: String) {
            self.op = op
            self.operand = operand
            self.low = low
            self.high = high
            switch op {
            case .inRange where !low.isEmpty: bounds = [ScalarPattern.condition(">= " + low), ScalarPattern.condition("<= " + high)]
            case .notInRange where !low.isEmpty: bounds = [ScalarPattern.condition("< " + low), ScalarPattern.condition("> " + high)]
            default: bounds = []
            }
            duration = try? GoDuration(parsing: operand)
            quantity = try? Quantity(parsing: operand)
        }
    }
    let raw: JSONValue
    /// OR of AND groups, for string patterns.
    let alternatives: [[Condition]]

    init(_ v: JSONValue) {
        switch v {
        case .integer(let i): raw = .number(Double(i))
        default: raw = v
        }
        if case .string(let s) = v {
            alternatives = s.components(separatedBy: "|").map { alt in
                alt.trimmingCharacters(in: .init(charactersIn: " ")).components(separatedBy: "&").map { c in
                    ScalarPattern.condition(c.trimmingCharacters(in: .init(charactersIn: " ")))
                }
            }
        } else {
            alternatives = []
        }
    }

    static func condition(_ p: String) -> Condition {
        let op = operatorOf(p)
        switch op {
        case .inRange, .notInRange:
            if let (l, h) = splitRange(p, not: op == .notInRange) { return Condition(op: op, operand: "", low: l, high: h) }
            return Condition(op: op, operand: "", low: "", high: "")
        default:
            let operand = String(p.dropFirst(op.rawValue.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            return Condition(op: op, operand: operand, low: "", high: "")
        }
    }

    /// Kyverno `operator.GetOperatorFromStringPattern`.
    static func operatorOf(_ p: String) -> Op {
        if p.utf8.count < 2 { return .equal }
        if p.hasPrefix(">=") { return .moreEqual }
        if p.hasPrefix("<=") { return .lessEqual }
        if p.hasPrefix(">") { return .more }
        if p.hasPrefix("<") { return .less }
        if p.hasPrefix("!") { return .notEqual }
        if splitRange(p, not: true) != nil { return .notInRange }
        if splitRange(p, not: false) != nil { return .inRange }
        return .equal
    }

    /// Matches `^(N)-(N)$` / `^(N)!-(N)$` with N = `[-|+]?\d+(\.\d+)?[A-Za-z]*`.
    static func splitRange(_ p: String, not: Bool) -> (String, String)? {
        let chars = Array(p)
        func number(_ start: Int) -> Int? {
            var i = start
            if i < chars.count, chars[i] == "-" || chars[i] == "|" || chars[i] == "+" { i += 1 }
            let ds = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if i == ds { return nil }
            if i < chars.count, chars[i] == "." {
                var j = i + 1
                let fs = j
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                if j > fs { i = j }
            }
            while i < chars.count, chars[i].isASCII, chars[i].isLetter { i += 1 }
            return i
        }
        // try every split point consistent with the regex (greedy left part first)
        var candidates: [Int] = []
        var i = chars.count - 1
        while i > 0 {
            if not {
                if chars[i] == "-" && chars[i - 1] == "!" { candidates.append(i - 1) }
            } else if chars[i] == "-" {
                candidates.append(i)
            }
            i -= 1
        }
        for sep in candidates {
            let sepLen = not ? 2 : 1
            if let end = number(0), end == sep, let end2 = number(sep + sepLen), end2 == chars.count {
                return (String(chars[0..<sep]), String(chars[(sep + sepLen)...]))
            }
        }
        return nil
    }

    /// Kyverno `pattern.Validate` for a scalar pattern.
    func validate(_ value: JSONValue?) -> Bool {
        switch raw {
        case .bool(let b):
            if case .bool(let v) = value { return v == b }
            return false
        case .number(let p):
            switch value {
            case .integer(let i): return p == p.rounded(.towardZero) && Int64(exactly: p) == i
            case .number(let d): return d == p
            case .string(let s):
                guard let d = ScalarPattern.goParseFloat(s) else { return false }
                return d == p
            default: return false
            }
        case .null:
            switch value {
            case nil, .null: return true
            case .number(let d): return d == 0
            case .integer(let i): return i == 0
            case .string(let s): return s.isEmpty
            case .bool(let b): return !b
            default: return false
            }
        case .string(let s):
            if case .string(let v) = value, v == s { return true }
            for alt in alternatives {
                var ok = true
                for c in alt where !ScalarPattern.check(value, c) { ok = false; break }
                if ok { return true }
            }
            return false
        case .object:
            if case .object = value { return true }
            return false
        default:
            return false
        }
    }

    static func goParseFloat(_ s: String) -> Double? {
        let t = s.replacingOccurrences(of: "_", with: "")
        if t.isEmpty { return nil }
        return Double(t)
    }

    static func check(_ value: JSONValue?, _ c: Condition) -> Bool {
        switch c.op {
        case .inRange:
            if c.bounds.isEmpty { return false }
            return check(value, c.bounds[0]) && check(value, c.bounds[1])
        case .notInRange:
            if c.bounds.isEmpty { return false }
            return check(value, c.bounds[0]) || check(value, c.bounds[1])
        default:
            return compare(value, c)
        }
    }

    static func numberString(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null: return "0"
        case .string(let s): return s
        case .number(let d): return String(format: "%f", d)
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    static func compare(_ value: JSONValue?, _ c: Condition) -> Bool {
        let pattern = c.operand, op = c.op
        // Go duration first, then Kubernetes quantity, then glob (pattern.validateString)
        if let pd = c.duration, let vs = numberString(value), let vd = try? GoDuration(parsing: vs) {
            switch op {
            case .equal: return vd == pd
            case .notEqual: return vd != pd
            case .more: return vd > pd
            case .less: return vd < pd
            case .moreEqual: return vd >= pd
            case .lessEqual: return vd <= pd
            default: break
            }
        }
        if let pq = c.quantity, let vs = numberString(value), let vq = try? Quantity(parsing: vs) {
            switch op {
            case .equal: return vq == pq
            case .notEqual: return vq != pq
            case .more: return vq > pq
            case .less: return vq < pq
            case .moreEqual: return vq >= pq
            case .lessEqual: return vq <= pq
            default: break
            }
        }
        guard op == .equal || op == .notEqual else { return false }
        let str: String
        switch value {
        case .number(let d): str = GoFormat.floatE(d)
        case .integer(let i): str = String(i)
        case .string(let s): str = s
        case .bool(let b): str = b ? "true" : "false"
        default: return false
        }
        let m = Wildcard.match(pattern, str)
        return op == .notEqual ? !m : m
    }
}

/// State of one pattern evaluation: Kyverno's anchor map.
struct PatternContext {
    var anchorMap: [String: Bool] = [:]

    var keysAreMissing: Bool {
        for (k, v) in anchorMap where !v {
            if let a = Anchor(parsing: k), a.kind == .negation { continue }
            return true
        }
        return false
    }

    static func render(_ path: [String]) -> String {
        var s = "/"
        for c in path { s += c; s += "/" }
        return s
    }

    static func combine(_ errs: [PatternError]) -> String {
        errs.map(\.message).joined(separator: "; ")
    }

    /// `validateResourceElement`.
    mutating func element(_ resource: JSONValue?, _ pattern: PatternNode, _ path: inout [String]) -> PatternError? {
        switch pattern {
        case .map(let mp):
            guard case .object(let ro) = resource else {
                let p = PatternContext.render(path)
                return PatternError(message: "pattern and resource have different structures. Path: \(p). Expected map[string]interface {}, found \(PatternContext.goType(resource))", path: p)
            }
            if !mp.tracked.isEmpty {
                for t in mp.tracked {
                    if anchorMap[t.raw] == true { continue }
                    if anchorMap[t.raw] == nil { anchorMap[t.raw] = false }
                    if ro[t.key] != nil { anchorMap[t.raw] = true }
                }
            }
            if mp.expandsMetadata {
                return map(ro, mp.expanded(for: ro), &path)
            }
            return map(ro, mp, &path)
        case .array(let elems, _):
            guard case .array(let ra) = resource else {
                let p = PatternContext.render(path)
                return PatternError(message: "validation rule failed at path \(p), resource does not satisfy the expected overlay pattern", path: p)
            }
            return array(ra, elems, &path)
        case .scalar(let sp):
            if case .array(let ra) = resource {
                for r in ra where !sp.validate(r) {
                    let p = PatternContext.render(path)
                    return PatternContext.valueError("resource value '\(GoFormat.v(resource))' does not match '\(GoFormat.v(sp.raw))' at path \(p)", path: p)
                }
                return nil
            }
            if !sp.validate(resource) {
                let p = PatternContext.render(path)
                return PatternContext.valueError("resource value '\(GoFormat.v(resource))' does not match '\(GoFormat.v(sp.raw))' at path \(p)", path: p)
            }
            return nil
        }
    }

    /// An error whose text embeds resource values: Kyverno's text-based anchor detection applies.
    static func valueError(_ message: String, path: String) -> PatternError {
        return PatternError(message: message, path: path,
                            skipText: bytesContain(message, "conditional anchor mismatch") || bytesContain(message, "global anchor mismatch"),
                            negationText: bytesContain(message, "negation anchor matched in resource"))
    }

    /// Substring search on UTF-8 bytes (Foundation's `contains` is slow on Linux).
    static func bytesContain(_ haystack: String, _ needle: StaticString) -> Bool {
        let n = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        var h = haystack
        return h.withUTF8 { hb in
            guard hb.count >= n.count, let first = n.first else { return false }
            var i = 0
            let last = hb.count - n.count
            while i <= last {
                if hb[i] == first {
                    var j = 1
                    while j < n.count && hb[i + j] == n[j] { j += 1 }
                    if j == n.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    static func goType(_ v: JSONValue?) -> String {
        switch v {
        case nil, .null: return "<nil>"
        case .bool: return "bool"
        case .integer: return "int64"
        case .number: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }

    /// `validateMap`.
    mutating func map(_ ro: [String: JSONValue], _ mp: MapPattern, _ path: inout [String]) -> PatternError? {
        var skipErrors: [PatternError] = []
        var applyCount = 0
        for e in mp.anchors {
            if let err = handle(e, ro, &path) {
                if err.isSkip { skipErrors.append(err); continue }
                if !skipErrors.contains(where: { !$0.isPatternError }) { return err }
                continue
            }
            applyCount += 1
        }
        if !skipErrors.isEmpty {
            if applyCount == 0 || skipErrors.contains(where: { !$0.isPatternError }) {
                let p = PatternContext.render(path)
                return PatternError(message: PatternContext.combine(skipErrors), path: p, isPatternError: true, skipText: true, negationText: skipErrors.contains { $0.negationText || $0.anchorCode == .negation })
            }
        }
        for e in mp.resources {
            if let err = handle(e, ro, &path) { return err }
        }
        return nil
    }

    /// The anchor handlers (pkg/engine/anchor/handlers.go).
    mutating func handle(_ e: MapPattern.Entry, _ ro: [String: JSONValue], _ path: inout [String]) -> PatternError? {
        guard let a = e.anchor, a.kind != .addIfNotPresent else {
            // default handler
            let v = ro[e.rawKey]
            let present: Bool = { if let v, v != .null { return true }; return false }()
            if e.node.isStar {
                if present { return nil }
                let p = PatternContext.render(path)
                return PatternError(message: "\(p)/\(e.rawKey) not found", path: p)
            }
            path.append(e.rawKey)
            defer { path.removeLast() }
            return element(v, e.node, &path)
        }
        let key = a.key
        switch a.kind {
        case .negation:
            if ro[key] != nil {
                path.append(key)
                let p = PatternContext.render(path)
                path.removeLast()
                return PatternError(message: "negation anchor matched in resource: \(p) is not allowed", path: p, anchorCode: .negation, negationText: true)
            }
            return nil
        case .equality:
            guard let v = ro[key] else { return nil }
            path.append(key)
            defer { path.removeLast() }
            return element(v, e.node, &path)
        case .condition:
            path.append(key)
            defer { path.removeLast() }
            guard let v = ro[key] else {
                return PatternError(message: "conditional anchor mismatch: conditional anchor key doesn't exist in the resource", path: PatternContext.render(path), anchorCode: .conditional, skipText: true)
            }
            if let err = element(v, e.node, &path) {
                return PatternError(message: "conditional anchor mismatch: \(err.message)", path: err.path, anchorCode: .conditional, skipText: true, negationText: err.negationText || err.anchorCode == .negation)
            }
            return nil
        case .global:
            guard let v = ro[key] else { return nil }
            path.append(key)
            defer { path.removeLast() }
            if let err = element(v, e.node, &path) {
                return PatternError(message: "global anchor mismatch: \(err.message)", path: err.path, anchorCode: .global, skipText: true, negationText: err.negationText || err.anchorCode == .negation)
            }
            return nil
        case .existence:
            guard let v = ro[key] else { return nil }
            path.append(key)
            defer { path.removeLast() }
            guard case .array(let list) = v else {
                return PatternError(message: "invalid resource type \(PatternContext.goType(v)): Existence ^ () anchor can be used only on list/array type resource", path: PatternContext.render(path))
            }
            guard case .array(let pats, _) = e.node else {
                return PatternError(message: "invalid pattern type: Pattern has to be of list to compare against resource", path: PatternContext.render(path))
            }
            for pm in pats {
                guard case .map = pm else {
                    return PatternError(message: "invalid pattern type: Pattern has to be of type map to compare against items in resource", path: PatternContext.render(path))
                }
                var found = false
                for (i, r) in list.enumerated() {
                    path.append(String(i))
                    let err = element(r, pm, &path)
                    path.removeLast()
                    if err == nil { found = true; break }
                }
                if !found {
                    let p = PatternContext.render(path)
                    return PatternError(message: "existence anchor validation failed at path \(p)", path: p)
                }
            }
            return nil
        case .addIfNotPresent:
            return nil
        }
    }

    /// Matches each (resource element, pattern element) pair at its index: the first real failure
    /// wins; when every pair was skipped by a conditional anchor, the array is a skip.
    mutating func elements(_ pairs: [(JSONValue, PatternNode)], _ path: inout [String]) -> PatternError? {
        var applyCount = 0
        var skipErrors: [PatternError] = []
        for (i, (resource, pattern)) in pairs.enumerated() {
            path.append(String(i))
            let err = element(resource, pattern, &path)
            path.removeLast()
            if let err {
                if err.isSkip { skipErrors.append(err); continue }
                return err
            }
            applyCount += 1
        }
        if applyCount == 0 && !skipErrors.isEmpty {
            return PatternError(message: PatternContext.combine(skipErrors), path: PatternContext.render(path), isPatternError: true, skipText: true, negationText: skipErrors.contains { $0.negationText || $0.anchorCode == .negation })
        }
        return nil
    }

    /// `validateArray`.
    mutating func array(_ ra: [JSONValue], _ elems: [PatternNode], _ path: inout [String]) -> PatternError? {
        guard let first = elems.first else {
            return PatternError(message: "pattern Array empty", path: PatternContext.render(path))
        }
        switch first {
        case .map:
            return elements(ra.indices.map { (ra[$0], first) }, &path)
        case .scalar:
            return element(.array(ra), first, &path)
        case .array:
            if ra.count < elems.count {
                return PatternError(message: "validate Array failed, array length mismatch, resource Array len is \(ra.count) and pattern Array len is \(elems.count)", path: "")
            }
            return elements(elems.indices.map { (ra[$0], elems[$0]) }, &path)
        }
    }

    /// `wildcards.ExpandInMetadata`: wildcard label/annotation keys replaced by the matching
    /// resource key (non-string values dropped, as Kyverno does).
    static func expandMetadata(_ pattern: [String: JSONValue], _ resource: [String: JSONValue]) -> [String: JSONValue] {
        guard let (mdKey, mdVal) = pattern.first(where: { $0.key == "metadata" || Anchor(parsing: $0.key)?.key == "metadata" }),
              case .object(var md) = mdVal, case .object(let rmd)? = resource["metadata"] else { return pattern }
        for tag in ["labels", "annotations"] {
            guard let (pk, pv) = md.first(where: { $0.key == tag || Anchor(parsing: $0.key)?.key == tag }), case .object(let pdata) = pv else { continue }
            guard let (_, rv) = rmd.first(where: { $0.key == tag || Anchor(parsing: $0.key)?.key == tag }), case .object(let rdata) = rv else { continue }
            let rkeys = rdata.keys.sorted()
            var result: [String: JSONValue] = [:]
            for (k, v) in pdata {
                guard case .string = v else { continue }
                if Wildcard.containsWildcard(k) {
                    if let a = Anchor(parsing: k) {
                        let m = rkeys.first(where: { Wildcard.match(a.key, $0) }) ?? a.key
                        result[Anchor(kind: a.kind, key: m).string] = v
                    } else {
                        result[rkeys.first(where: { Wildcard.match(k, $0) }) ?? k] = v
                    }
                } else {
                    result[k] = v
                }
            }
            md[pk] = .object(result)
        }
        var out = pattern
        out[mdKey] = .object(md)
        return out
    }
}
