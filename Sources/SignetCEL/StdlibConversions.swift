import Foundation

/// Type conversions (langdef "Types and Conversions").
extension CELStandardLibrary {
    static func fail(_ message: String) -> CELValue { .error(CELError(.invalidArgument, message)) }

    /// Go-style formatting of doubles for `string(double)`: shortest representation, exponent form for
    /// very large or small magnitudes (strconv.FormatFloat(f, 'g', -1, 64) style is approximated by Swift's
    /// shortest round-trip digits).
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == d.rounded(), abs(d) < 1e21 {
            let s = String(format: "%.0f", d)
            return s == "-0" ? "-0" : s
        }
        let text = "\(d)"  // shortest round-trip
        if text.contains("e") {
            // Swift prints 1e-05 as "1e-05"; Go prints "1e-05" too.
            return text
        }
        return text
    }

    static let conversionFunctions: [CELFunction] = [
        CELFunction("int",
            .function("int_to_int", .int) { $0 },
            .function("uint_to_int", .uint) { v in
                guard case .uint(let u) = v, let i = Int64(exactly: u) else { return .error(.overflow("int conversion")) }
                return .int(i)
            },
            .function("double_to_int", .double) { v in
                guard case .double(let d) = v else { return .error(.noMatchingOverload("int")) }
                // The range check is strict: 2^63 itself does not fit.
                guard d.isFinite, d > -9_223_372_036_854_775_809.0, d < 9_223_372_036_854_775_808.0,
                      let i = Int64(exactly: d.rounded(.towardZero)) else {
                    return .error(.overflow("int conversion"))
                }
                return .int(i)
            },
            .function("string_to_int", .string) { v in
                guard case .string(let s) = v, let i = Int64(s) else { return fail("cannot convert string to int") }
                return .int(i)
            },
            .function("timestamp_to_int", .timestamp) { v in
                guard case .timestamp(let t) = v else { return .error(.noMatchingOverload("int")) }
                return .int(t.seconds)
            }),
        CELFunction("uint",
            .function("uint_to_uint", .uint) { $0 },
            .function("int_to_uint", .int) { v in
                guard case .int(let i) = v, let u = UInt64(exactly: i) else { return .error(.overflow("uint conversion")) }
                return .uint(u)
            },
            .function("double_to_uint", .double) { v in
                guard case .double(let d) = v, d.isFinite, d > -1, d < 18_446_744_073_709_551_616.0,
                      let u = UInt64(exactly: d.rounded(.towardZero)) else {
                    return .error(.overflow("uint conversion"))
                }
                return .uint(u)
            },
            .function("string_to_uint", .string) { v in
                guard case .string(let s) = v, let u = UInt64(s) else { return fail("cannot convert string to uint") }
                return .uint(u)
            }),
        CELFunction("double",
            .function("double_to_double", .double) { $0 },
            .function("int_to_double", .int) { v in v.intValue.map { .double(Double($0)) } ?? .error(.noMatchingOverload("double")) },
            .function("uint_to_double", .uint) { v in v.uintValue.map { .double(Double($0)) } ?? .error(.noMatchingOverload("double")) },
            .function("string_to_double", .string) { v in
                guard case .string(let s) = v, let d = parseDouble(s) else { return fail("cannot convert string to double") }
                return .double(d)
            }),
        CELFunction("string",
            .function("string_to_string", .string) { $0 },
            .function("int_to_string", .int) { v in .string(String(v.intValue ?? 0)) },
            .function("uint_to_string", .uint) { v in .string(String(v.uintValue ?? 0)) },
            .function("double_to_string", .double) { v in .string(formatDouble(v.doubleValue ?? 0)) },
            .function("bytes_to_string", .bytes) { v in
                guard case .bytes(let b) = v, let s = String(validating: b, as: UTF8.self) else {
                    return fail("invalid UTF-8 in bytes, cannot convert to string")
                }
                return .string(s)
            },
            .function("bool_to_string", .bool) { v in .string(v.boolValue == true ? "true" : "false") },
            .function("timestamp_to_string", .timestamp) { v in
                guard case .timestamp(let t) = v else { return .error(.noMatchingOverload("string")) }
                return .string(TimeSupport.format(t))
            },
            .function("duration_to_string", .duration) { v in
                guard case .duration(let d) = v else { return .error(.noMatchingOverload("string")) }
                return .string(TimeSupport.format(d))
            },
            .function("type_to_string", .type) { v in
                guard case .type(let t) = v else { return .error(.noMatchingOverload("string")) }
                return .string(t.name)
            }),
        CELFunction("bytes",
            .function("bytes_to_bytes", .bytes) { $0 },
            .function("string_to_bytes", .string) { v in .bytes(Array((v.stringValue ?? "").utf8)) }),
        CELFunction("bool",
            .function("bool_to_bool", .bool) { $0 },
            .function("string_to_bool", .string) { v in
                // Go's strconv.ParseBool spellings.
                switch v.stringValue ?? "" {
                case "1", "t", "T", "true", "TRUE", "True": return .true
                case "0", "f", "F", "false", "FALSE", "False": return .false
                default: return fail("cannot convert string to bool")
                }
            }),
        CELFunction("dyn", .function("to_dyn", .dyn) { $0 }),
        CELFunction("type", .function("type", .dyn) { v in .type(v.celType) }),
        CELFunction("timestamp",
            .function("timestamp_to_timestamp", .timestamp) { $0 },
            .function("string_to_timestamp", .string) { v in
                guard let t = TimeSupport.parseTimestamp(v.stringValue ?? "") else {
                    return fail("cannot parse timestamp: invalid RFC 3339 text or out of range")
                }
                return .timestamp(t)
            },
            .function("int_to_timestamp", .int) { v in
                guard let t = CELTimestamp(seconds: v.intValue ?? 0) else {
                    return .error(CELError(.overflow, "timestamp out of range"))
                }
                return .timestamp(t)
            }),
        CELFunction("duration",
            .function("duration_to_duration", .duration) { $0 },
            .function("string_to_duration", .string) { v in
                guard let d = TimeSupport.parseDuration(v.stringValue ?? "") else {
                    return fail("cannot parse duration: invalid text or out of range")
                }
                return .duration(d)
            },
            .function("int_to_duration", .int) { v in
                guard let d = CELDuration(nanoseconds: Int128(v.intValue ?? 0)) else {
                    return .error(CELError(.overflow, "duration out of range"))
                }
                return .duration(d)
            }),
    ]

    /// Decimal floating-point text as Go's ParseFloat accepts it (incl. "inf", "NaN").
    static func parseDouble(_ s: String) -> Double? {
        switch s.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        guard !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 43 || $0 == 45 || $0 | 0x20 == 101 })
        else { return nil }
        return Double(s)
    }
}
