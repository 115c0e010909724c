import Foundation
import SignetPrimitives

extension KyvernoFunctions {
    /// Kyverno's `getTimeArg`: an RFC 3339 string argument.
    static func time(_ a: [JMESPathArgument], _ i: Int, _ function: String) throws -> GoTime {
        try GoTime(rfc3339: try string(a, i, function))
    }

    /// Kyverno's `getDurationArg`: a Go duration string argument, in nanoseconds.
    static func duration(_ a: [JMESPathArgument], _ i: Int, _ function: String) throws -> Int64 {
        try DurationBridge.parse(try string(a, i, function))
    }

    static func now(_ ctx: JMESPathContext) throws -> GoTime {
        let t = ctx.clock.now().timeIntervalSince1970
        guard t.isFinite, t.magnitude < 1e15 else { throw JMESPathError(.functionFailed, "clock out of range") }
        let whole = t.rounded(.down)
        return GoTime(seconds: Int64(whole), nanoseconds: Swift.min(Int64(((t - whole) * 1e9).rounded(.down)), 999_999_999))
    }

    static let timeFunctions: [JMESPathFunction] = [
        fn("time_since", [s, s, s], returns: "string",
           note: "calculate the difference between a start and end period of time where the end may either be a static definition or the then-current time") { ctx, a in
            let layout = try string(a, 0, "time_since")
            let t1Text = try string(a, 1, "time_since"), t2Text = try string(a, 2, "time_since")
            func parse(_ s: String) throws -> GoTime {
                layout.isEmpty ? try GoTime(rfc3339: s) : try GoTime(layout: layout, value: s)
            }
            let t1 = try parse(t1Text)
            let t2 = t2Text.isEmpty ? try now(ctx) : try parse(t2Text)
            return .string(DurationBridge.format(t2.subtracting(t1)))
        },
        fn("time_now", [], returns: "string", note: "returns current time in RFC 3339 format") { ctx, _ in
            // Kyverno formats in the process's local zone; containers run in UTC.
            .string(try now(ctx).rfc3339)
        },
        fn("time_now_utc", [], returns: "string", note: "returns current UTC time in RFC 3339 format") { ctx, _ in
            .string(try now(ctx).utc.rfc3339)
        },
        fn("time_to_cron", [s], returns: "string", note: "converts a time (RFC 3339) to a cron expression (string).") { _, a in
            let f = try time(a, 0, "time_to_cron").fields
            return .string("\(f.minute) \(f.hour) \(f.day) \(f.month) \(f.weekday)")
        },
        fn("time_add", [s, s], returns: "string", note: "adds duration (second string) to a time value (first string)") { _, a in
            // Kyverno reports time_add's argument errors under time_to_cron's name.
            let t = try time(a, 0, "time_to_cron")
            let d = try duration(a, 1, "time_to_cron")
            return .string(try t.adding(nanoseconds: d).rfc3339)
        },
        fn("time_parse", [s, s], returns: "string", note: "changes a time value of a given layout to RFC 3339") { _, a in
            let layout = try string(a, 0, "time_parse"), ts = try string(a, 1, "time_parse")
            if GoInt.parseInt64(layout) != nil {
                // An integer layout means "epoch seconds" (Kyverno).
                guard let epoch = GoInt.parseInt64(ts) else {
                    throw JMESPathError(.functionFailed, "strconv.ParseInt: parsing \(JSONValue.string(ts).jsonString): invalid syntax")
                }
                guard epoch.magnitude <= UInt64(GoTime.maximumSeconds) else {
                    throw JMESPathError(.functionFailed, "time out of range")
                }
                return .string(GoTime(seconds: epoch).rfc3339)
            }
            return .string(try GoTime(layout: layout, value: ts).rfc3339)
        },
        fn("time_utc", [s], returns: "string", note: "calcutes time in UTC from a given time in RFC 3339 format") { _, a in
            .string(try time(a, 0, "time_utc").utc.rfc3339)
        },
        fn("time_diff", [s, s], returns: "string", note: "calculate the difference between a start and end date in RFC3339 format") { _, a in
            let t1 = try time(a, 0, "time_diff"), t2 = try time(a, 1, "time_diff")
            return .string(DurationBridge.format(t2.subtracting(t1)))
        },
        fn("time_before", [s, s], returns: "bool", note: "checks if a time is before another time, both in RFC3339 format") { _, a in
            .bool(try time(a, 0, "time_before") < time(a, 1, "time_before"))
        },
        fn("time_after", [s, s], returns: "bool", note: "checks if a time is after another time, both in RFC3339 format") { _, a in
            .bool(try time(a, 1, "time_after") < time(a, 0, "time_after"))
        },
        fn("time_between", [s, s, s], returns: "bool", note: "checks if a time is between a start and end time, all in RFC3339 format") { _, a in
            let t = try time(a, 0, "time_between"), start = try time(a, 1, "time_between"), end = try time(a, 2, "time_between")
            return .bool(start < t && t < end)
        },
        fn("time_truncate", [s, s], returns: "string", note: "returns the result of rounding time down to a multiple of duration") { _, a in
            let t = try time(a, 0, "time_truncate"), d = try duration(a, 1, "time_truncate")
            return .string(try t.truncated(toMultipleOf: d).rfc3339)
        },
    ]
}

/// Go's `strconv.ParseInt(s, 10, 64)` (optional sign, decimal digits only).
enum GoInt {
    static func parseInt64(_ s: String) -> Int64? {
        var body = Substring(s)
        if body.hasPrefix("+") { body = body.dropFirst() }
        guard !body.isEmpty, body.hasPrefix("-") ? body.count > 1 : true else { return nil }
        return Int64(s.hasPrefix("+") ? String(body) : s)
    }
}
