import Foundation

/// Calendar arithmetic, RFC 3339 and Go-duration text for timestamps and durations
/// (langdef "Date/Time Functions", "Timezones").
enum TimeSupport {
    static let nanosPerSecond: Int128 = 1_000_000_000

    /// Days since 1970-01-01 for a proleptic Gregorian date (era-based civil calendar arithmetic).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date for days since 1970-01-01.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    struct Fields {
        var year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, nanos: Int64
        var dayOfWeek: Int64, dayOfYear: Int64
    }

    /// Calendar fields of `t` shifted by `offset` seconds.
    static func fields(_ t: CELTimestamp, offset: Int64) -> Fields {
        let local = t.seconds + offset
        var dayNumber = local / 86_400
        var secondOfDay = local % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; dayNumber -= 1 }
        let (y, m, d) = civil(days: dayNumber)
        var weekday = (dayNumber + 4) % 7   // 1970-01-01 was a Thursday (4, Sunday = 0)
        if weekday < 0 { weekday += 7 }
        let dayOfYear = dayNumber - days(year: y, month: 1, day: 1)
        return Fields(year: y, month: m, day: d, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
                      second: secondOfDay % 60, nanos: Int64(t.nanos), dayOfWeek: weekday, dayOfYear: dayOfYear)
    }

    /// The UTC offset in seconds for a time zone argument: an IANA name ("America/New_York", "UTC") or a
    /// fixed offset ("+05:30", "-08:00"). `nil` when unknown.
    static func offset(timeZone: String, at t: CELTimestamp) -> Int64? {
        let bytes = Array(timeZone.utf8)
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || (first >= 48 && first <= 57) {
            var text = Substring(timeZone)
            var sign: Int64 = 1
            if first == UInt8(ascii: "-") { sign = -1; text = text.dropFirst() } else if first == UInt8(ascii: "+") { text = text.dropFirst() }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                  let h = Int64(parts[0]), let m = Int64(parts[1]), h < 24, m < 60 else { return nil }
            return sign * (h * 3600 + m * 60)
        }
        // IANA names only ("Area/Location"): no path tricks reach the zoneinfo lookup.
        guard timeZone.utf8.count <= 64, !timeZone.contains(".."), !timeZone.hasPrefix("/"),
              timeZone.utf8.allSatisfy({ Lexer.isIdentPart($0) || $0 == 47 || $0 == 45 || $0 == 43 }),
              let zone = TimeZone(identifier: timeZone) else { return nil }
        return Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t.seconds))))
    }

    // MARK: - RFC 3339

    static func parseTimestamp(_ text: String) -> CELTimestamp? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2) else { return nil }
        var nanos: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            let sign: Int64 = b[i] == 45 ? -1 : 1
            i += 1
            guard let oh = number(2), expect(58), let om = number(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60 else { return nil }
        let monthDays: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let maxDay = month == 2 && leap ? 29 : monthDays[Int(month - 1)]
        guard day <= maxDay else { return nil }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return CELTimestamp(seconds: seconds, nanos: Int32(nanos))
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// RFC 3339 in UTC with the fraction trimmed of trailing zeros (Go's RFC3339Nano).
    static func format(_ t: CELTimestamp) -> String {
        let f = fields(t, offset: 0)
        var s = "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if f.nanos != 0 { s += "." + trimmedFraction(f.nanos) }
        return s + "Z"
    }

    static func trimmedFraction(_ nanos: Int64) -> String {
        var digits = pad(nanos, 9)
        while digits.hasSuffix("0") { digits.removeLast() }
        return digits
    }

    // MARK: - Durations

    /// `"1.5s"`, `"-60s"`: seconds with a trimmed fraction (protobuf JSON form).
    static func format(_ d: CELDuration) -> String {
        let negative = d.nanoseconds < 0
        let magnitude = negative ? -d.nanoseconds : d.nanoseconds
        let seconds = magnitude / nanosPerSecond
        let nanos = Int64(magnitude % nanosPerSecond)
        var s = (negative ? "-" : "") + String(seconds)
        if nanos != 0 { s += "." + trimmedFraction(nanos) }
        return s + "s"
    }

    /// Go duration syntax: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns, us, µs, ms, s, m, h; `"0"` alone.
    static func parseDuration(_ text: String) -> CELDuration? {
        var b = Array(text.utf8)[...]
        guard b.count <= 256 else { return nil }
        var negative = false
        if let f = b.first, f == 45 || f == 43 {
            negative = f == 45
            b = b.dropFirst()
        }
        if b.count == 1, b.first == 48 { return CELDuration(nanoseconds: 0) }
        guard !b.isEmpty else { return nil }
        var total: Int128 = 0
        let limit = Int128(CELDuration.maxSeconds + 1) * nanosPerSecond
        while !b.isEmpty {
            var whole: Int128 = 0
            var sawDigits = false
            while let c = b.first, c >= 48, c <= 57 {
                whole = whole * 10 + Int128(c - 48)
                guard whole < limit else { return nil }
                sawDigits = true
                b = b.dropFirst()
            }
            var fraction: Int128 = 0
            var scale: Int128 = 1
            if b.first == 46 {
                b = b.dropFirst()
                while let c = b.first, c >= 48, c <= 57 {
                    if scale < 1_000_000_000_000_000_000 {
                        fraction = fraction * 10 + Int128(c - 48)
                        scale *= 10
                    }
                    sawDigits = true
                    b = b.dropFirst()
                }
            }
            guard sawDigits else { return nil }
            var unit: [UInt8] = []
            while let c = b.first, !(c >= 48 && c <= 57), c != 46 {
                unit.append(c)
                b = b.dropFirst()
            }
            let multiplier: Int128
            switch String(decoding: unit, as: UTF8.self) {
            case "ns": multiplier = 1
            case "us", "µs", "μs": multiplier = 1_000
            case "ms": multiplier = 1_000_000
            case "s": multiplier = nanosPerSecond
            case "m": multiplier = 60 * nanosPerSecond
            case "h": multiplier = 3600 * nanosPerSecond
            default: return nil
            }
            total += whole * multiplier + fraction * multiplier / scale
            guard total < limit else { return nil }
        }
        return CELDuration(nanoseconds: negative ? -total : total)
    }
}
