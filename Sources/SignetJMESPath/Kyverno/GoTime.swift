/// An instant with a fixed UTC offset, as Go's `time.Time` carries one after `time.Parse`.
/// Only what Kyverno's time functions need: RFC 3339 and Go-layout parsing, RFC 3339 output,
/// arithmetic in nanoseconds.
struct GoTime: Sendable, Equatable {
    /// Seconds since 1970-01-01T00:00:00Z.
    var seconds: Int64
    /// Nanoseconds within the second, 0..<1e9.
    var nanoseconds: Int64
    /// Offset east of UTC in seconds.
    var offset: Int64

    static let nanosPerSecond: Int64 = 1_000_000_000
    /// Keeps all arithmetic far from Int64 overflow (years within about ±2.9e11).
    static let maximumSeconds: Int64 = 1 << 53

    init(seconds: Int64, nanoseconds: Int64 = 0, offset: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.offset = offset
    }

    // MARK: Civil calendar (proleptic Gregorian; days-from-civil algorithm)

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Local wall-clock fields.
    var fields: (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, weekday: Int64) {
        let local = seconds + offset
        let days = GoTime.floorDiv(local, 86_400)
        let secs = local - days * 86_400
        let (y, m, d) = GoTime.civilFromDays(days)
        // 1970-01-01 was a Thursday (4).
        let wd = GoTime.floorMod(days + 4, 7)
        return (y, m, d, secs / 3600, (secs % 3600) / 60, secs % 60, wd)
    }

    /// Go's `Format(time.RFC3339)`: whole seconds, `Z` for a zero offset.
    var rfc3339: String {
        let f = fields
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v.magnitude)
            return (v < 0 ? "-" : "") + String(repeating: "0", count: Swift.max(0, width - s.count)) + s
        }
        var out = "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if offset == 0 {
            out += "Z"
        } else {
            let m = offset.magnitude / 60
            out += (offset < 0 ? "-" : "+") + pad(Int64(m / 60), 2) + ":" + pad(Int64(m % 60), 2)
        }
        return out
    }

    var utc: GoTime { GoTime(seconds: seconds, nanoseconds: nanoseconds, offset: 0) }

    /// Nanoseconds since the epoch as a wide integer.
    var totalNanoseconds: Int128 { Int128(seconds) * Int128(GoTime.nanosPerSecond) + Int128(nanoseconds) }

    init(totalNanoseconds t: Int128, offset: Int64) throws {
        let n = Int128(GoTime.nanosPerSecond)
        var s = t / n
        var r = t % n
        if r < 0 { r += n; s -= 1 }
        guard s.magnitude <= UInt128(GoTime.maximumSeconds) else { throw JMESPathError(.functionFailed, "time out of range") }
        seconds = Int64(s)
        nanoseconds = Int64(r)
        self.offset = offset
    }

    /// `t.Add(d)`.
    func adding(nanoseconds d: Int64) throws -> GoTime {
        try GoTime(totalNanoseconds: totalNanoseconds + Int128(d), offset: offset)
    }

    /// `t.Sub(u)`, saturating at the Duration bounds as Go does.
    func subtracting(_ u: GoTime) -> Int64 {
        let d = totalNanoseconds - u.totalNanoseconds
        if d > Int128(Int64.max) { return Int64.max }
        if d < Int128(Int64.min) { return Int64.min }
        return Int64(d)
    }

    /// `t.Truncate(d)`: rounds down to a multiple of d since Go's zero time (year 1).
    func truncated(toMultipleOf d: Int64) throws -> GoTime {
        guard d > 0 else { return self }
        let sinceZero = totalNanoseconds + Int128(62_135_596_800) * Int128(GoTime.nanosPerSecond)
        var r = sinceZero % Int128(d)
        if r < 0 { r += Int128(d) }
        return try GoTime(totalNanoseconds: totalNanoseconds - r, offset: offset)
    }

    static func < (a: GoTime, b: GoTime) -> Bool { a.totalNanoseconds < b.totalNanoseconds }

    // MARK: Parsing

    /// `time.Parse(time.RFC3339, s)`.
    init(rfc3339 s: String) throws {
        try self.init(layout: "2006-01-02T15:04:05Z07:00", value: s)
    }

    /// `time.Parse(layout, value)` for Go reference layouts (the subset of elements listed in
    /// `GoLayout.Element`); unknown zone abbreviations get offset 0, as Go does with UTC as local.
    init(layout: String, value: String) throws {
        let chunks = GoLayout.chunks(layout)
        var v = Array(value.utf8)[...]
        var year: Int64 = 0, month: Int64 = 1, day: Int64 = 1, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        var nanos: Int64 = 0
        var offset: Int64 = 0
        var pm: Bool?
        var sawDayOfYear: Int64 = -1
        func bad(_ what: String = "") -> JMESPathError {
            JMESPathError(.functionFailed, "parsing time \"\(value)\" as \"\(layout)\": cannot parse \"\(String(decoding: v, as: UTF8.self))\" as \"\(what)\"")
        }
        func digits(_ minCount: Int, _ maxCount: Int, _ what: String) throws -> Int64 {
            var n: Int64 = 0
            var count = 0
            while count < maxCount, let c = v.first, c >= 0x30, c <= 0x39 {
                n = n * 10 + Int64(c - 0x30)
                v = v.dropFirst()
                count += 1
            }
            guard count >= minCount else { throw bad(what) }
            return n
        }
        func lookup(_ names: [String], _ what: String) throws -> Int64 {
            for (i, name) in names.enumerated() {
                let n = Array(name.utf8)
                if v.count >= n.count, zip(v.prefix(n.count), n).allSatisfy({ GoLayout.lower($0) == GoLayout.lower($1) }) {
                    v = v.dropFirst(n.count)
                    return Int64(i)
                }
            }
            throw bad(what)
        }
        for (i, chunk) in chunks.enumerated() {
            switch chunk {
            case .literal(let lit):
                var l = Array(lit.utf8)[...]
                while let c = l.first {
                    if c == 0x20 {
                        guard v.isEmpty || v.first == 0x20 else { throw bad(lit) }
                        while l.first == 0x20 { l = l.dropFirst() }
                        while v.first == 0x20 { v = v.dropFirst() }
                        continue
                    }
                    guard v.first == c else { throw bad(lit) }
                    l = l.dropFirst()
                    v = v.dropFirst()
                }
            case .element(let e):
                switch e {
                case .year4:
                    guard v.count >= 4 else { throw bad("2006") }
                    year = try digits(4, 4, "2006")
                case .year2:
                    let y = try digits(2, 2, "06")
                    year = y >= 69 ? 1900 + y : 2000 + y
                case .monthName: month = try lookup(GoLayout.shortMonths, "Jan") + 1
                case .monthLongName: month = try lookup(GoLayout.longMonths, "January") + 1
                case .month: month = try digits(1, 2, "1")
                case .month2: month = try digits(2, 2, "01")
                case .weekdayName: _ = try lookup(GoLayout.shortDays, "Mon")
                case .weekdayLongName: _ = try lookup(GoLayout.longDays, "Monday")
                case .day: day = try digits(1, 2, "2")
                case .day2: day = try digits(2, 2, "02")
                case .dayUnderscore:
                    if v.first == 0x20 { v = v.dropFirst() }
                    day = try digits(1, 2, "_2")
                case .dayOfYear: sawDayOfYear = try digits(3, 3, "002")
                case .hour24: hour = try digits(1, 2, "15")
                case .hour12: hour = try digits(1, 2, "3")
                case .hour12Zero: hour = try digits(2, 2, "03")
                case .minute: minute = try digits(1, 2, "4")
                case .minute2: minute = try digits(2, 2, "04")
                case .second, .second2:
                    second = try digits(e == .second ? 1 : 2, 2, e == .second ? "5" : "05")
                    // A fraction may follow the seconds even if the layout has none (Go).
                    let nextIsFraction: Bool = {
                        if i + 1 < chunks.count, case .element(let n) = chunks[i + 1], n.isFraction { return true }
                        return false
                    }()
                    if !nextIsFraction, let c = v.first, c == UInt8(ascii: ".") || c == UInt8(ascii: ","),
                       v.count > 1, let d = v.dropFirst().first, d >= 0x30, d <= 0x39 {
                        v = v.dropFirst()
                        nanos = try fraction(&v)
                    }
                case .fraction(let n, let optional):
                    guard let c = v.first, c == UInt8(ascii: ".") || c == UInt8(ascii: ",") else {
                        if optional { break }
                        throw bad(".000")
                    }
                    v = v.dropFirst()
                    if !optional {
                        let before = v.count
                        nanos = try fraction(&v)
                        guard before - v.count == n else { throw bad(".000") }
                    } else {
                        nanos = try fraction(&v)
                    }
                case .pmUpper, .pmLower:
                    guard v.count >= 2 else { throw bad("PM") }
                    let t = String(decoding: v.prefix(2), as: UTF8.self)
                    let ok = e == .pmUpper ? (t == "PM" || t == "AM") : (t == "pm" || t == "am")
                    guard ok else { throw bad("PM") }
                    pm = t == "PM" || t == "pm"
                    v = v.dropFirst(2)
                case .zoneName:
                    if v.starts(with: Array("UTC".utf8)) { v = v.dropFirst(3); offset = 0; break }
                    var n = 0
                    while n < v.count, let c = v.dropFirst(n).first, c >= 0x41, c <= 0x5A { n += 1 }
                    guard n >= 3 else { throw bad("MST") }
                    v = v.dropFirst(n)
                    offset = 0
                case .offset(let style):
                    if style.allowsZ, v.first == UInt8(ascii: "Z") {
                        v = v.dropFirst()
                        offset = 0
                        break
                    }
                    guard let sign = v.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { throw bad("-07:00") }
                    v = v.dropFirst()
                    let hh = try digits(2, 2, "-07:00")
                    var mm: Int64 = 0, ss: Int64 = 0
                    if style.hasMinutes {
                        if style.colons { guard v.first == UInt8(ascii: ":") else { throw bad("-07:00") }; v = v.dropFirst() }
                        mm = try digits(2, 2, "-07:00")
                    }
                    if style.hasSeconds {
                        if style.colons { guard v.first == UInt8(ascii: ":") else { throw bad("-07:00") }; v = v.dropFirst() }
                        ss = try digits(2, 2, "-07:00")
                    }
                    guard hh < 24, mm < 60, ss < 60 else { throw bad("-07:00") }
                    offset = (hh * 3600 + mm * 60 + ss) * (sign == UInt8(ascii: "-") ? -1 : 1)
                }
            }
        }
        guard v.isEmpty else {
            throw JMESPathError(.functionFailed, "parsing time \"\(value)\": extra text: \"\(String(decoding: v, as: UTF8.self))\"")
        }
        if let pm {
            guard hour <= 12 else { throw JMESPathError(.functionFailed, "parsing time \"\(value)\": hour out of range") }
            if pm && hour < 12 { hour += 12 } else if !pm && hour == 12 { hour = 0 }
        }
        if sawDayOfYear >= 0 {
            let limit: Int64 = GoTime.isLeap(year) ? 366 : 365
            guard sawDayOfYear >= 1, sawDayOfYear <= limit else {
                throw JMESPathError(.functionFailed, "parsing time \"\(value)\": day-of-year out of range")
            }
            var m: Int64 = 1
            var rest = sawDayOfYear
            while rest > GoTime.daysIn(month: m, year: year) { rest -= GoTime.daysIn(month: m, year: year); m += 1 }
            month = m
            day = rest
        }
        guard month >= 1, month <= 12 else { throw JMESPathError(.functionFailed, "parsing time \"\(value)\": month out of range") }
        guard day >= 1, day <= GoTime.daysIn(month: month, year: year) else {
            throw JMESPathError(.functionFailed, "parsing time \"\(value)\": day out of range")
        }
        guard hour < 24 else { throw JMESPathError(.functionFailed, "parsing time \"\(value)\": hour out of range") }
        guard minute < 60 else { throw JMESPathError(.functionFailed, "parsing time \"\(value)\": minute out of range") }
        guard second < 60 else { throw JMESPathError(.functionFailed, "parsing time \"\(value)\": second out of range") }
        let days = GoTime.daysFromCivil(year, month, day)
        seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        nanoseconds = nanos
        self.offset = offset
    }
}

private func fraction(_ v: inout ArraySlice<UInt8>) throws -> Int64 {
    var n: Int64 = 0
    var scale: Int64 = 100_000_000
    var count = 0
    while let c = v.first, c >= 0x30, c <= 0x39 {
        if count < 9 { n += Int64(c - 0x30) * scale; scale /= 10 }
        count += 1
        v = v.dropFirst()
    }
    guard count > 0 else { throw JMESPathError(.functionFailed, "bad fractional second") }
    return n
}

/// Go reference-layout tokenizer (time/format.go's std chunks).
enum GoLayout {
    struct OffsetStyle: Equatable {
        var allowsZ: Bool
        var hasMinutes: Bool
        var hasSeconds: Bool
        var colons: Bool
    }

    enum Element: Equatable {
        case year4, year2, monthName, monthLongName, month, month2, weekdayName, weekdayLongName
        case day, day2, dayUnderscore, dayOfYear, hour24, hour12, hour12Zero, minute, minute2, second, second2
        case fraction(Int, optional: Bool)
        case pmUpper, pmLower, zoneName
        case offset(OffsetStyle)

        var isFraction: Bool { if case .fraction = self { return true } else { return false } }
    }

    enum Chunk { case literal(String), element(Element) }

    static let shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let longMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                             "October", "November", "December"]
    static let shortDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c + 32 : c }

    static func chunks(_ layout: String) -> [Chunk] {
        let b = Array(layout.utf8)
        var out: [Chunk] = []
        var lit: [UInt8] = []
        var i = 0
        func has(_ s: String) -> Bool {
            let p = Array(s.utf8)
            return b.count - i >= p.count && Array(b[i..<(i + p.count)]) == p
        }
        func emit(_ e: Element, _ len: Int) {
            if !lit.isEmpty { out.append(.literal(String(decoding: lit, as: UTF8.self))); lit = [] }
            out.append(.element(e))
            i += len
        }
        func isDigit(_ j: Int) -> Bool { j < b.count && b[j] >= 0x30 && b[j] <= 0x39 }
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "J") where has("January"): emit(.monthLongName, 7); continue
            case UInt8(ascii: "J") where has("Jan"): emit(.monthName, 3); continue
            case UInt8(ascii: "M") where has("Monday"): emit(.weekdayLongName, 6); continue
            case UInt8(ascii: "M") where has("Mon"): emit(.weekdayName, 3); continue
            case UInt8(ascii: "M") where has("MST"): emit(.zoneName, 3); continue
            case UInt8(ascii: "0") where i + 1 < b.count && b[i + 1] >= 0x31 && b[i + 1] <= 0x36:
                let map: [UInt8: Element] = [0x31: .month2, 0x32: .day2, 0x33: .hour12Zero, 0x34: .minute2, 0x35: .second2, 0x36: .year2]
                if let e = map[b[i + 1]] { emit(e, 2); continue }
            case UInt8(ascii: "0") where has("002"): emit(.dayOfYear, 3); continue
            case UInt8(ascii: "1") where has("15"): emit(.hour24, 2); continue
            case UInt8(ascii: "1"): emit(.month, 1); continue
            case UInt8(ascii: "2") where has("2006"): emit(.year4, 4); continue
            case UInt8(ascii: "2"): emit(.day, 1); continue
            case UInt8(ascii: "_") where has("_2") && !has("_2006"): emit(.dayUnderscore, 2); continue
            case UInt8(ascii: "3"): emit(.hour12, 1); continue
            case UInt8(ascii: "4"): emit(.minute, 1); continue
            case UInt8(ascii: "5"): emit(.second, 1); continue
            case UInt8(ascii: "P") where has("PM"): emit(.pmUpper, 2); continue
            case UInt8(ascii: "p") where has("pm"): emit(.pmLower, 2); continue
            case UInt8(ascii: "-") where has("-07:00:00"):
                emit(.offset(OffsetStyle(allowsZ: false, hasMinutes: true, hasSeconds: true, colons: true)), 9); continue
            case UInt8(ascii: "-") where has("-070000"):
                emit(.offset(OffsetStyle(allowsZ: false, hasMinutes: true, hasSeconds: true, colons: false)), 7); continue
            case UInt8(ascii: "-") where has("-07:00"):
                emit(.offset(OffsetStyle(allowsZ: false, hasMinutes: true, hasSeconds: false, colons: true)), 6); continue
            case UInt8(ascii: "-") where has("-0700"):
                emit(.offset(OffsetStyle(allowsZ: false, hasMinutes: true, hasSeconds: false, colons: false)), 5); continue
            case UInt8(ascii: "-") where has("-07"):
                emit(.offset(OffsetStyle(allowsZ: false, hasMinutes: false, hasSeconds: false, colons: false)), 3); continue
            case UInt8(ascii: "Z") where has("Z07:00:00"):
                emit(.offset(OffsetStyle(allowsZ: true, hasMinutes: true, hasSeconds: true, colons: true)), 9); continue
            case UInt8(ascii: "Z") where has("Z070000"):
                emit(.offset(OffsetStyle(allowsZ: true, hasMinutes: true, hasSeconds: true, colons: false)), 7); continue
            case UInt8(ascii: "Z") where has("Z07:00"):
                emit(.offset(OffsetStyle(allowsZ: true, hasMinutes: true, hasSeconds: false, colons: true)), 6); continue
            case UInt8(ascii: "Z") where has("Z0700"):
                emit(.offset(OffsetStyle(allowsZ: true, hasMinutes: true, hasSeconds: false, colons: false)), 5); continue
            case UInt8(ascii: "Z") where has("Z07"):
                emit(.offset(OffsetStyle(allowsZ: true, hasMinutes: false, hasSeconds: false, colons: false)), 3); continue
            case UInt8(ascii: "."), UInt8(ascii: ","):
                if i + 1 < b.count && (b[i + 1] == UInt8(ascii: "0") || b[i + 1] == UInt8(ascii: "9")) {
                    let ch = b[i + 1]
                    var j = i + 1
                    while j < b.count && b[j] == ch { j += 1 }
                    if !isDigit(j) {
                        emit(.fraction(j - i - 1, optional: ch == UInt8(ascii: "9")), j - i)
                        continue
                    }
                }
            default: break
            }
            lit.append(c)
            i += 1
        }
        if !lit.isEmpty { out.append(.literal(String(decoding: lit, as: UTF8.self))) }
        return out
    }
}
