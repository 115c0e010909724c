import Foundation
import Yams
import SignetPrimitives

/// Reads YAML (one or several `---` documents) into `JSONValue`s, resolving plain scalars the way
/// Kubernetes' YAML reader (go-yaml, YAML 1.1 rules) does: `true/yes/on` booleans, integers, floats,
/// `null`/`~`/empty as null; quoted scalars are always strings.
public enum YAMLDocuments {
    /// Every non-empty document of `text`.
    public static func parse(_ text: String) throws -> [JSONValue] {
        var out: [JSONValue] = []
        do {
            // Parser.nextRoot throws on a syntax error; compose_all's sequence would end silently there.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let v = convert(node)
                if case .null = v { continue }
                out.append(v)
            }
        } catch let e as SignetPolicyError {
            throw e
        } catch {
            throw SignetPolicyError(.invalidYAML, "invalid yaml: \(error)")
        }
        return out
    }

    /// Reads and parses a file.
    public static func load(path: String) throws -> [JSONValue] {
        // FileHandle also reads pipes (`--resource <(...)`, /dev/stdin), which FileManager does not.
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.readToEnd() ?? Data() else {
            throw SignetPolicyError(.io, "cannot read \(path)")
        }
        try? handle.close()
        return try parse(String(decoding: data, as: UTF8.self))
    }

    static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            if s.style != .plain { return .string(s.string) }
            return resolvePlain(s.string)
        case .sequence(let seq):
            return .array(seq.map(convert))
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m {
                let key: String
                switch convert(k) {
                case .string(let s): key = s
                case .integer(let i): key = String(i)
                case .bool(let b): key = b ? "true" : "false"
                case .number(let d): key = "\(d)"
                case .null: key = "null"
                default: key = k.string ?? ""
                }
                o[key] = convert(v)
            }
            return .object(o)
        case .alias:
            return .null
        }
    }

    /// The digits after a `0x`/`0b`/`0o` prefix as an int64: digits only (`-0x-8000000000000000`
    /// is no integer: `-(Int64.min)` trapped, seen when writing the fuzz harnesses), and
    /// `-0x8000000000000000` is Int64.min, as go-yaml's ParseInt reads it.
    static func radixInteger(_ digits: Substring, radix: Int, negative: Bool) -> JSONValue? {
        guard !digits.isEmpty, digits.allSatisfy({ $0.hexDigitValue.map { $0 < radix } ?? false }),
              let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return .integer(.min) }
            return Int64(exactly: magnitude).map { .integer(-$0) }
        }
        return Int64(exactly: magnitude).map { .integer($0) }
    }

    static func resolvePlain(_ s: String) -> JSONValue {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N": return .bool(false)
        default: break
        }
        guard let f = s.utf8.first, (f >= 0x30 && f <= 0x39) || f == UInt8(ascii: "-") || f == UInt8(ascii: "+") || f == UInt8(ascii: ".") else {
            return .string(s)
        }
        let cleaned = s.replacingOccurrences(of: "_", with: "")
        var body = Substring(cleaned)
        var negative = false
        if body.hasPrefix("-") { negative = true; body = body.dropFirst() } else if body.hasPrefix("+") { body = body.dropFirst() }
        for (prefix, radix) in [("0x", 16), ("0b", 2), ("0o", 8)] where body.hasPrefix(prefix) {
            if let v = radixInteger(body.dropFirst(2), radix: radix, negative: negative) { return v }
        }
        if body.count > 1, body.hasPrefix("0"), body.allSatisfy({ $0 >= "0" && $0 <= "7" }), let v = Int64(body.dropFirst(), radix: 8) {
            return .integer(negative ? -v : v)
        }
        if !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) {
            if let v = Int64(cleaned) { return .integer(v) }
            if let d = Double(cleaned) { return .number(d) }
        }
        switch body {
        case ".inf", ".Inf", ".INF": return .number(negative ? -.infinity : .infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        // YAML 1.1 float: digits with optional fraction and exponent
        var sawDigit = false, valid = true, sawDot = false, sawExp = false
        var prev: Character = " "
        for c in body {
            if c.isASCII && c.isNumber { sawDigit = true }
            else if c == "." && !sawDot && !sawExp { sawDot = true }
            else if (c == "e" || c == "E") && sawDigit && !sawExp { sawExp = true }
            else if (c == "+" || c == "-") && (prev == "e" || prev == "E") {}
            else { valid = false; break }
            prev = c
        }
        if valid, sawDigit, sawDot || sawExp, let d = Double(cleaned) { return .number(d) }
        return .string(s)
    }
}
