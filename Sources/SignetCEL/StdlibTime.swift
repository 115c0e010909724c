/// Timestamp and duration accessors (langdef "Date/Time Functions").
extension CELStandardLibrary {
    enum Field { case fullYear, month, date, dayOfMonth, dayOfWeek, dayOfYear, hours, minutes, seconds, milliseconds }

    static func timestampField(_ field: Field, _ t: CELTimestamp, zone: String?) -> CELValue {
        var offset: Int64 = 0
        if let zone {
            guard let o = TimeSupport.offset(timeZone: zone, at: t) else {
                return .error(CELError(.invalidArgument, "unknown time zone '\(zone)'"))
            }
            offset = o
        }
        let f = TimeSupport.fields(t, offset: offset)
        switch field {
        case .fullYear: return .int(f.year)
        case .month: return .int(f.month - 1)
        case .date: return .int(f.day)
        case .dayOfMonth: return .int(f.day - 1)
        case .dayOfWeek: return .int(f.dayOfWeek)
        case .dayOfYear: return .int(f.dayOfYear)
        case .hours: return .int(f.hour)
        case .minutes: return .int(f.minute)
        case .seconds: return .int(f.second)
        case .milliseconds: return .int(f.nanos / 1_000_000)
        }
    }

    static func durationField(_ field: Field, _ d: CELDuration) -> CELValue {
        let n = d.nanoseconds
        switch field {
        case .hours: return .int(Int64(truncatingIfNeeded: n / 3_600_000_000_000))
        case .minutes: return .int(Int64(truncatingIfNeeded: n / 60_000_000_000))
        case .seconds: return .int(Int64(truncatingIfNeeded: n / 1_000_000_000))
        case .milliseconds: return .int(Int64(truncatingIfNeeded: (n % 1_000_000_000) / 1_000_000))
        default: return .error(.noMatchingOverload("duration accessor"))
        }
    }

    static func accessor(_ name: String, _ field: Field, duration: Bool) -> CELFunction {
        var overloads: [CELOverload] = [
            .method("timestamp_\(name)", .timestamp) { v in
                guard case .timestamp(let t) = v else { return .error(.noMatchingOverload(name)) }
                return timestampField(field, t, zone: nil)
            },
            .method("timestamp_\(name)_with_tz", .timestamp, .string) { v, z in
                guard case .timestamp(let t) = v, case .string(let zone) = z else { return .error(.noMatchingOverload(name)) }
                return timestampField(field, t, zone: zone)
            },
        ]
        if duration {
            overloads.append(.method("duration_\(name)", .duration) { v in
                guard case .duration(let d) = v else { return .error(.noMatchingOverload(name)) }
                return durationField(field, d)
            })
        }
        return CELFunction(name, overloads)
    }

    static let timeFunctions: [CELFunction] = [
        accessor("getFullYear", .fullYear, duration: false),
        accessor("getMonth", .month, duration: false),
        accessor("getDate", .date, duration: false),
        accessor("getDayOfMonth", .dayOfMonth, duration: false),
        accessor("getDayOfWeek", .dayOfWeek, duration: false),
        accessor("getDayOfYear", .dayOfYear, duration: false),
        accessor("getHours", .hours, duration: true),
        accessor("getMinutes", .minutes, duration: true),
        accessor("getSeconds", .seconds, duration: true),
        accessor("getMilliseconds", .milliseconds, duration: true),
    ]
}
