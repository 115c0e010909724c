/// A JSON document read as an envelope: the objects under chosen keys are kept as their list of
/// members, in document order, instead of dictionaries; everything else is a `JSONValue`.
///
/// For documents read once, field by field (the AdmissionReview around the object a webhook
/// evaluates): an envelope object is never hashed into a dictionary that is read a few times and
/// dropped. The text is checked exactly as `JSONValue(jsonBytes:)` checks it (same grammar, same
/// nesting bound, same errors), and reads agree with the value parse: a repeated key reads as
/// its last value (`JSONEnvelope.value` gives the very `JSONValue` the value parse gives).
public enum JSONEnvelope: Sendable {
    /// Anything not read as members.
    case value(JSONValue)
    /// An object under an expanded key (or the document itself), member by member.
    case members([(key: String, value: JSONEnvelope)])

    /// Parses JSON text in place. Objects at the top and, below an expanded object, the objects
    /// under a key in `expanding` are read as members; the rest as values.
    public init(jsonBytes: UnsafeRawBufferPointer, expanding: [String]) throws {
        var p = JSONTextParser(bytes: jsonBytes.assumingMemoryBound(to: UInt8.self))
        p.skipWS()
        self = try p.parseEnvelope(depth: 0, expanding: expanding)
        p.skipWS()
        guard p.i == p.bytes.count else { throw p.fail("unexpected data after JSON value") }
    }

    /// The member `key` of an object (the last one when repeated), or nil (also for non-objects).
    public subscript(key: String) -> JSONEnvelope? {
        switch self {
        case .value(let v):
            return v[key].map(JSONEnvelope.value)
        case .members(let members):
            // Envelopes have a handful of members: a scan from the end finds the last one (the
            // byte counts, which strings keep, tell most names apart before their bytes are read).
            let count = key.utf8.count
            for m in members.reversed() where m.key.utf8.count == count && m.key == key { return m.value }
            return nil
        }
    }

    /// Whether this is an object (read as members or as a value).
    public var isObject: Bool {
        switch self {
        case .members: return true
        case .value(let v): if case .object = v { return true } else { return false }
        }
    }

    /// The string, or nil.
    public var stringValue: String? {
        if case .value(.string(let s)) = self { return s }
        return nil
    }

    /// The document as a `JSONValue` (members gathered into a dictionary, the last of a repeated key kept).
    public var value: JSONValue {
        switch self {
        case .value(let v):
            return v
        case .members(let members):
            var o = [String: JSONValue](minimumCapacity: members.count)
            for m in members { o[m.key] = m.value.value }
            return .object(o)
        }
    }
}

extension JSONTextParser {
    /// `parseValue`, with objects read as members (the envelope's own and those under `expanding`).
    mutating func parseEnvelope(depth: Int, expanding: [String]) throws -> JSONEnvelope {
        guard depth < JSONValue.maximumNestingDepth else { throw fail("nesting too deep") }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return .value(try parseValue(depth: depth)) }
        i += 1
        var out: [(key: String, value: JSONEnvelope)] = []
        out.reserveCapacity(16)  // an AdmissionReview request has about a dozen members: one allocation
        try parseMembers { p, key in
            // A handful of names: compared, not hashed.
            out.append((key, expanding.contains(key)
                ? try p.parseEnvelope(depth: depth + 1, expanding: expanding)
                : .value(try p.parseValue(depth: depth + 1))))
        }
        return .members(out)
    }
}
