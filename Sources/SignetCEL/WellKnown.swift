/// Construction of the protobuf well-known types that map onto CEL values (langdef "Protocol Buffer
/// Data Conversion"): wrappers become their primitive, `Value`/`Struct`/`ListValue` become JSON-like
/// values, `Duration`/`Timestamp` their CEL types. Other messages are not supported.
enum WellKnown {
    static let names: Set<String> = [
        "google.protobuf.BoolValue", "google.protobuf.BytesValue", "google.protobuf.DoubleValue",
        "google.protobuf.FloatValue", "google.protobuf.Int32Value", "google.protobuf.Int64Value",
        "google.protobuf.UInt32Value", "google.protobuf.UInt64Value", "google.protobuf.StringValue",
        "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Struct",
        "google.protobuf.Duration", "google.protobuf.Timestamp",
    ]

    static func construct(_ name: String, _ fields: [String: CELValue]) -> CELValue {
        func field(_ n: String, _ zero: CELValue) -> CELValue { fields[n] ?? zero }
        let unknownField = fields.keys.first { key in
            switch name {
            case "google.protobuf.Value":
                return !["null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"].contains(key)
            case "google.protobuf.ListValue": return key != "values"
            case "google.protobuf.Struct": return key != "fields"
            case "google.protobuf.Duration", "google.protobuf.Timestamp": return key != "seconds" && key != "nanos"
            default: return key != "value"
            }
        }
        if let unknownField { return .error(.noSuchField(unknownField)) }
        switch name {
        case "google.protobuf.BoolValue": return typed(field("value", .false), .bool)
        case "google.protobuf.BytesValue": return typed(field("value", .bytes([])), .bytes)
        case "google.protobuf.DoubleValue": return typed(field("value", .double(0)), .double)
        case "google.protobuf.FloatValue":
            guard case .double(let d) = field("value", .double(0)) else { return .error(.noMatchingOverload(name)) }
            return .double(Double(Float(d)))
        case "google.protobuf.Int32Value":
            guard case .int(let i) = field("value", .int(0)) else { return .error(.noMatchingOverload(name)) }
            return Int32(exactly: i) != nil ? .int(i) : .error(.overflow("int32"))
        case "google.protobuf.Int64Value": return typed(field("value", .int(0)), .int)
        case "google.protobuf.UInt32Value":
            guard case .uint(let u) = field("value", .uint(0)) else { return .error(.noMatchingOverload(name)) }
            return UInt32(exactly: u) != nil ? .uint(u) : .error(.overflow("uint32"))
        case "google.protobuf.UInt64Value": return typed(field("value", .uint(0)), .uint)
        case "google.protobuf.StringValue": return typed(field("value", .string("")), .string)
        case "google.protobuf.ListValue": return typed(field("values", .list([])), .anyList)
        case "google.protobuf.Struct":
            let v = field("fields", .map(CELMap()))
            if case .map(let m) = v, m.keys.contains(where: { if case .string = $0 { false } else { true } }) {
                return .error(CELError(.invalidArgument, "bad key type"))
            }
            return typed(v, .anyMap)
        case "google.protobuf.Value":
            guard let (key, v) = fields.first else { return .null }
            switch key {
            case "null_value": return .null
            case "number_value": return typed(v, .double)
            case "string_value": return typed(v, .string)
            case "bool_value": return typed(v, .bool)
            case "struct_value": return typed(v, .anyMap)
            default: return typed(v, .anyList)
            }
        case "google.protobuf.Duration", "google.protobuf.Timestamp":
            guard case .int(let seconds) = field("seconds", .int(0)), case .int(let nanos) = field("nanos", .int(0)),
                  let n = Int32(exactly: nanos) else { return .error(.noMatchingOverload(name)) }
            if name == "google.protobuf.Duration" {
                return CELDuration(seconds: seconds, nanos: n).map { .duration($0) } ?? .error(.overflow("duration"))
            }
            return CELTimestamp(seconds: seconds, nanos: n).map { .timestamp($0) } ?? .error(.overflow("timestamp"))
        default:
            return .error(.unsupported("unsupported message type: \(name)"))
        }
    }

    static func typed(_ v: CELValue, _ t: CELType) -> CELValue {
        t.accepts(v) ? v : .error(CELError(.noMatchingOverload, "field of type \(t.name) given \(v.celType.name)"))
    }
}
