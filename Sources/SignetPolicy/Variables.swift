import SignetJMESPath
import SignetPrimitives

extension SignetPolicyError.Code {
    /// A `{{ }}` variable that resolved to nothing (Kyverno `NotFoundVariableErr`).
    public static let variableNotFound = SignetPolicyError.Code("variable-not-found")
    /// A `{{ }}` variable whose JMESPath failed to compile or evaluate.
    public static let variableSubstitution = SignetPolicyError.Code("variable-substitution")
}

/// The variables of one rule evaluation: Kyverno's JSON context (`request.*`,
/// `serviceAccountName`, `images`, values, context entries, `element`...), queried with JMESPath.
public struct VariableContext: Sendable {
    /// The context document (an object).
    public private(set) var data: [String: JSONValue]
    /// `request.operation` is DELETE: `request.object` reads `request.oldObject` (Kyverno).
    public var isDelete: Bool
    /// Context entries whose loading failed: Kyverno loads entries lazily (deferred loaders), so
    /// the failure surfaces only in a query that names the entry.
    var failedEntries: [(name: String, message: String)] = []

    /// The context Kyverno builds for an admission request on `resource`.
    public init(resource: JSONValue, admission: AdmissionInfo) {
        var request: [String: JSONValue] = [
            "operation": .string(admission.operation.rawValue),
            "object": admission.operation == .delete ? .null : resource,
            "userInfo": .object(["username": .string(admission.username), "uid": .string(admission.uid),
                                 "groups": .array(admission.groups.map(JSONValue.string))]),
            "roles": .array(admission.roles.map(JSONValue.string)),
            "clusterRoles": .array(admission.clusterRoles.map(JSONValue.string)),
        ]
        if let old = admission.oldObject { request["oldObject"] = old }
        else if admission.operation == .delete { request["oldObject"] = resource }
        let ns = resource["metadata"]?["namespace"]?.stringValue ?? ""
        if !ns.isEmpty { request["namespace"] = .string(ns) }
        data = ["request": .object(request)]
        // Kyverno: a service account user `system:serviceaccount:NS:NAME`
        let parts = admission.username.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" {
            data["serviceAccountNamespace"] = .string(String(parts[2]))
            data["serviceAccountName"] = .string(String(parts[3]))
        } else {
            data["serviceAccountName"] = .string("")
            data["serviceAccountNamespace"] = .string("")
        }
        let info = ResourceInfo(resource)
        let images = VariableContext.images(resource, kind: info.kind)
        if !images.isEmpty { data["images"] = .object(images) }
        isDelete = admission.operation == .delete
    }

    /// An empty context (tests, `signet jp`-like use).
    public init(data: [String: JSONValue] = [:]) {
        self.data = data
        isDelete = false
    }

    /// Kyverno `AddImageInfos`: `images.{containers,initContainers,ephemeralContainers}.NAME`.
    static func images(_ resource: JSONValue, kind: String) -> [String: JSONValue] {
        guard let base = KyvernoImage.podSpecPath(ofKind: kind), let spec = resource.value(at: base) else { return [:] }
        var out: [String: JSONValue] = [:]
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            guard let list = spec[field]?.arrayValue else { continue }
            var byName: [String: JSONValue] = [:]
            for c in list {
                guard let img = c["image"]?.stringValue, let name = c["name"]?.stringValue else { continue }
                byName[name] = imageInfo(img)
            }
            if !byName.isEmpty { out[field] = .object(byName) }
        }
        return out
    }

    /// Kyverno `ImageInfo`: registry, path, name (last path element), tag (`latest` when neither
    /// tag nor digest), digest, reference, referenceWithTag.
    static func imageInfo(_ raw: String) -> JSONValue {
        let i = KyvernoImage(parsing: raw)
        var tag = i.tag
        if tag.isEmpty && i.digest.isEmpty { tag = "latest" }
        let name = i.path.split(separator: "/").last.map(String.init) ?? i.path
        var reference = i.registry + "/" + i.path
        if !i.digest.isEmpty { reference += "@" + i.digest } else { reference += ":" + tag }
        var o: [String: JSONValue] = ["registry": .string(i.registry), "path": .string(i.path), "name": .string(name),
                                      "tag": .string(tag), "reference": .string(reference),
                                      "referenceWithTag": .string(i.registry + "/" + i.path + ":" + tag)]
        if !i.digest.isEmpty { o["digest"] = .string(i.digest) }
        return .object(o)
    }

    /// Kyverno `AddVariable`: a dotted key (`request.operation`, `a."b.c"`: read as a CSV record
    /// with `.` as separator, so quoted fields may hold dots) sets a nested member, merging with
    /// what is there.
    public mutating func add(_ key: String, _ value: JSONValue) {
        let path = VariableContext.keyPath(key)
        guard !path.isEmpty, path.count <= 32 else { return }
        data = VariableContext.set(.object(data), path[...], value).objectValue ?? data
    }

    /// The fields of a values key (Go `encoding/csv` with `Comma = '.'`): `"..."` quotes a field,
    /// `""` inside quotes is one quote.
    public static func keyPath(_ key: String) -> [String] {
        let b = Array(key.utf8)
        var fields: [String] = []
        var cur: [UInt8] = []
        var i = 0
        let quote = UInt8(ascii: "\""), dot = UInt8(ascii: ".")
        var atStart = true
        while i < b.count {
            let c = b[i]
            if atStart, c == quote {
                i += 1
                while i < b.count {
                    if b[i] == quote {
                        if i + 1 < b.count, b[i + 1] == quote { cur.append(quote); i += 2; continue }
                        i += 1
                        break
                    }
                    cur.append(b[i])
                    i += 1
                }
                atStart = false
                continue
            }
            if c == dot {
                fields.append(String(decoding: cur, as: UTF8.self))
                cur = []
                atStart = true
            } else {
                cur.append(c)
                atStart = false
            }
            i += 1
        }
        fields.append(String(decoding: cur, as: UTF8.self))
        return fields
    }

    /// Sets a top-level member (a context entry, `element`...).
    public mutating func set(_ name: String, _ value: JSONValue) { data[name] = value }

    /// Merges `value` into the top-level member `name` (Kyverno `AddContextEntry`: maps merge
    /// key by key, anything else replaces).
    public mutating func merge(_ name: String, _ value: JSONValue) {
        data[name] = VariableContext.merge(data[name] ?? .null, value)
    }

    static func set(_ base: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let first = path.first else { return merge(base, value) }
        var o = base.objectValue ?? [:]
        o[first] = set(o[first] ?? .null, path.dropFirst(), value)
        return .object(o)
    }

    static func merge(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
        guard case .object(var ao) = a, case .object(let bo) = b else { return b }
        for (k, v) in bo { ao[k] = merge(ao[k] ?? .null, v) }
        return .object(ao)
    }

    /// Evaluates a JMESPath query on the context (Kyverno `Query`).
    ///
    /// As Kyverno's fork of go-jmespath, a field looked up on a map without that key is an error
    /// (`Unknown key "KEY" in path`), not `null`; an entry whose loading failed is an error in
    /// every query that names it (Kyverno's deferred loading).
    public func query(_ expression: String) throws -> JSONValue {
        for f in failedEntries where VariableContext.names(f.name, in: expression) {
            throw SignetPolicyError(.variableNotFound, f.message)
        }
        let compiled: JMESPathExpression
        do { compiled = try Variables.expressions.expression(expression.trimmingSpaces) }
        catch { throw SignetPolicyError(.variableSubstitution, "incorrect query \(expression): \(error)", underlying: error) }
        do { return try compiled.evaluate(.object(data), reportingMissingKeys: true) }
        catch let e as JMESPathError where e.code == .unknownKey {
            throw SignetPolicyError(.variableNotFound, "JMESPath query failed: \(e.message)", underlying: e)
        } catch { throw SignetPolicyError(.variableSubstitution, "JMESPath query failed: \(error)", underlying: error) }
    }

    /// Kyverno's deferred-loader match: `name` preceded by start, whitespace or a character
    /// other than `.`, digits and letters, and followed by a word boundary.
    static func names(_ name: String, in query: String) -> Bool {
        let q = Array(query.utf8), n = Array(name.utf8)
        guard !n.isEmpty, q.count >= n.count else { return false }
        func word(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
        }
        func alnumOrDot(_ c: UInt8) -> Bool { c == 46 || ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) }
        var i = 0
        while i + n.count <= q.count {
            if q[i..<(i + n.count)].elementsEqual(n) {
                let beforeOK = i == 0 || !alnumOrDot(q[i - 1])
                let end = i + n.count
                let nextIsWord = end < q.count && word(q[end])
                let afterOK = word(n[n.count - 1]) != nextIsWord
                if beforeOK && afterOK { return true }
            }
            i += 1
        }
        return false
    }
}

/// Kyverno's `{{ }}` substitution (pkg/engine/variables/vars.go): every string of a document,
/// keys included; a string that is exactly one variable takes the variable's type, otherwise
/// values are spliced in (non-strings as JSON); nested variables resolve inner-first; `\{{`
/// escapes a variable and loses its backslash at the end.
public enum Variables {
    /// Kyverno's JMESPath functions.
    public static let options = JMESPathOptions.kyverno()
    /// Queries compiled once and reused: variable queries and context-entry paths repeat for
    /// every resource a policy sees, so compiling them per evaluation is wasted work.
    static let expressions = JMESPathExpressionCache(options: options)
    static let maximumPasses = 32
    static let maximumDepth = 128

    /// What an unresolved variable does.
    public enum Mode: Sendable {
        /// Patterns, messages, context entries (Kyverno `DefaultVariableResolver`).
        case strict
        /// Preconditions and deny conditions (Kyverno's precondition resolver, which now fails
        /// on the same errors as the default one).
        case conditions
    }

    /// True when `s` holds an unescaped `{{`.
    public static func containsVariables(_ s: String) -> Bool {
        !find(Array(s.utf8)).isEmpty
    }

    /// True when any string (or key) of `v` holds a variable.
    public static func containsVariables(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): return containsVariables(s)
        case .array(let a): return a.contains(where: containsVariables)
        case .object(let o): return o.contains { containsVariables($0.key) || containsVariables($0.value) }
        default: return false
        }
    }

    /// Byte ranges of the variables of `b`: `{{` not preceded by `\`, then characters other than
    /// braces or one-level `{...}` groups, then `}}` (Kyverno's `RegexVariables`).
    static func find(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var i = 0
        while i + 3 < b.count {
            guard b[i] == open, b[i + 1] == open, i == 0 || b[i - 1] != UInt8(ascii: "\\") else { i += 1; continue }
            var j = i + 2
            var end: Int?
            scan: while j < b.count {
                switch b[j] {
                case close:
                    if j + 1 < b.count, b[j + 1] == close { end = j + 2 }
                    break scan
                case open:
                    var k = j + 1
                    while k < b.count, b[k] != open, b[k] != close { k += 1 }
                    guard k < b.count, b[k] == close else { break scan }
                    j = k + 1
                default:
                    j += 1
                }
            }
            if let end {
                out.append(i..<end)
                i = end
            } else {
                i += 1
            }
        }
        return out
    }

    /// Substitutes every variable in `document` (strings and keys, recursively).
    public static func substitute(_ document: JSONValue, in context: VariableContext, mode: Mode = .strict,
                                  path: String = "") throws -> JSONValue {
        try substitute(document, context, mode, path: path, depth: 0)
    }

    static func substitute(_ v: JSONValue, _ ctx: VariableContext, _ mode: Mode, path: String, depth: Int) throws -> JSONValue {
        guard depth < maximumDepth else { throw SignetPolicyError(.variableSubstitution, "document nested too deeply at path \(path)") }
        switch v {
        case .string(let s):
            guard s.utf8.contains(UInt8(ascii: "{")) else { return v }
            return try substitute(string: s, ctx, mode, path: path)
        case .array(let a):
            var out: [JSONValue] = []
            out.reserveCapacity(a.count)
            for (i, e) in a.enumerated() { out.append(try substitute(e, ctx, mode, path: path + "/" + String(i), depth: depth + 1)) }
            return .array(out)
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, e) in o {
                var key = k
                if k.utf8.contains(UInt8(ascii: "{")) {
                    let sk = try substitute(string: k, ctx, mode, path: path + "/" + k)
                    key = sk.stringValue ?? GoFormat.jsonString(sk)
                }
                out[key] = try substitute(e, ctx, mode, path: path + "/" + k, depth: depth + 1)
            }
            return .object(out)
        default:
            return v
        }
    }

    /// Substitutes the variables of one string.
    public static func substitute(string original: String, in context: VariableContext, mode: Mode = .strict, path: String = "") throws -> JSONValue {
        try substitute(string: original, context, mode, path: path)
    }

    static func substitute(string original: String, _ ctx: VariableContext, _ mode: Mode, path: String) throws -> JSONValue {
        var value = original
        var passes = 0
        while true {
            let bytes = Array(value.utf8)
            let found = find(bytes)
            if found.isEmpty { break }
            passes += 1
            guard passes <= maximumPasses else { throw SignetPolicyError(.variableSubstitution, "too many nested variables at path \(path)") }
            var out: [UInt8] = []
            var last = 0
            var shallow = false
            for r in found {
                out += bytes[last..<r.lowerBound]
                last = r.upperBound
                let text = String(decoding: bytes[r], as: UTF8.self)
                var variable = String(text.dropFirst(2).dropLast(2)).trimmingSpaces
                // `{{- x }}`: a shallow substitution, whose result is not scanned again (Kyverno)
                shallow = variable.hasPrefix("-")
                if shallow { variable = String(variable.dropFirst()).trimmingSpaces }
                if variable == "@" || variable.hasPrefix("@.") || variable.hasPrefix("@[") {
                    variable = "request.object" + jmesPath(ofPointer: path) + variable.dropFirst()
                }
                if ctx.isDelete { variable = variable.replacingAll("request.object", with: "request.oldObject") }
                // Kyverno: a query error (an unknown key, a failed context entry, a JMESPath
                // error) fails the substitution in every mode; a `null` result is a value
                let result: JSONValue
                do { result = try ctx.query(variable) } catch {
                    let why = (error as? SignetPolicyError)?.message ?? "\(error)"
                    throw SignetPolicyError(.variableSubstitution, "failed to resolve \(variable) at path \(path.isEmpty ? "/" : path): \(why)", underlying: error as? SignetPolicyError)
                }
                if text == value, found.count == 1 {
                    if case .string(let s) = result, !shallow { return .string(s.replacingAll("\\{{", with: "{{")) }
                    return result
                }
                if case .string(let s) = result { out += Array((shallow ? s.replacingAll("{{", with: "\\{{") : s).utf8) }
                else { out += Array(GoFormat.jsonString(result).utf8) }
            }
            out += bytes[last...]
            value = String(decoding: out, as: UTF8.self)
            if shallow { break }
        }
        return .string(value.replacingAll("\\{{", with: "{{"))
    }

    /// `/spec/containers/0/(name)` → `.spec.containers[0].name` (Kyverno `getJMESPath`, anchors removed).
    static func jmesPath(ofPointer pointer: String) -> String {
        var out = ""
        for seg in pointer.split(separator: "/") {
            if let n = Int(seg), n >= 0 { out += "[\(n)]"; continue }
            var s = String(seg)
            if let a = Anchor(parsing: s) { s = a.key }
            out += "." + s
        }
        return out
    }
}

extension GoFormat {
    /// Go `json.Marshal` of a value (compact, keys sorted).
    static func jsonString(_ v: JSONValue) -> String { v.jsonString(sortedKeys: true) }
}

extension String {
    var trimmingSpaces: String {
        let u = Array(utf8)
        var a = 0, b = u.count
        func ws(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        while a < b, ws(u[a]) { a += 1 }
        while b > a, ws(u[b - 1]) { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }

    /// Replaces every occurrence of `target` (byte-wise, no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let h = Array(utf8), t = Array(target.utf8)
        guard !t.isEmpty, h.count >= t.count else { return self }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        while i < h.count {
            if i + t.count <= h.count, h[i] == t[0], Array(h[i..<(i + t.count)]) == t {
                out += Array(replacement.utf8)
                i += t.count
                changed = true
            } else {
                out.append(h[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : self
    }
}
