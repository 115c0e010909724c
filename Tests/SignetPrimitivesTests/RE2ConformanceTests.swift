import Foundation
import Testing
@testable import SignetPrimitives

/// Runs Go's `regexp/testdata/re2-search.txt` when a copy is at /tmp/re2data/re2-search.txt
/// (fetched separately; not part of the package). Columns 1 (full match, via `^(?:re)$`) and 2
/// (leftmost-first search with submatches) are checked; the longest-match columns are not.
struct RE2ConformanceTests {
    static let path = "/tmp/re2data/re2-search.txt"

    /// Go's `strconv.Unquote` for double-quoted strings, to bytes.
    static func unquote(_ line: Substring) -> [UInt8]? {
        let u = Array(line.utf8)
        guard u.count >= 2, u.first == 0x22, u.last == 0x22 else { return nil }
        var out: [UInt8] = []
        var i = 1
        func hex(_ n: Int) -> UInt32? {
            guard i + n <= u.count - 1 else { return nil }
            var v: UInt32 = 0
            for k in 0..<n {
                guard let d = Int(String(UnicodeScalar(u[i + k])), radix: 16) else { return nil }
                v = v * 16 + UInt32(d)
            }
            i += n
            return v
        }
        while i < u.count - 1 {
            let c = u[i]
            i += 1
            guard c == 0x5C else { out.append(c); continue }
            let e = u[i]
            i += 1
            switch e {
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
            case UInt8(ascii: "x"):
                guard let v = hex(2) else { return nil }
                out.append(UInt8(v))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                guard let v = hex(e == UInt8(ascii: "u") ? 4 : 8), let s = Unicode.Scalar(v) else { return nil }
                out.append(contentsOf: Array(String(s).utf8))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard i + 1 < u.count else { return nil }
                let v = Int(e - 48) * 64 + Int(u[i] - 48) * 8 + Int(u[i + 1] - 48)
                i += 2
                out.append(UInt8(truncatingIfNeeded: v))
            default: return nil
            }
        }
        return out
    }

    /// Byte offsets (Go's view) of our scalar-offset result.
    static func byteOffsets(_ m: RE2.Match?, in s: String) -> [Int]? {
        guard let m else { return nil }
        var out: [Int] = []
        for g in m.groups {
            if let g {
                out.append(s.utf8.distance(from: s.startIndex, to: g.lowerBound))
                out.append(s.utf8.distance(from: s.startIndex, to: g.upperBound))
            } else {
                out.append(-1); out.append(-1)
            }
        }
        return out
    }

    static func parseResult(_ field: Substring) -> [Int]? {
        if field == "-" { return nil }
        var out: [Int] = []
        for pair in field.split(separator: " ") {
            if pair == "-" { out.append(-1); out.append(-1); continue }
            let parts = pair.split(separator: "-")
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else { return [] }
            out.append(a); out.append(b)
        }
        return out
    }

    @Test func re2Search() throws {
        try run(Self.path)
    }

    /// Go's larger `re2-exhaustive.txt` (gunzipped), only when RE2_EXHAUSTIVE names its path.
    @Test func re2Exhaustive() throws {
        guard let path = ProcessInfo.processInfo.environment["RE2_EXHAUSTIVE"] else { return }
        try run(path)
    }

    func run(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            print("\(path) not present; skipped")
            return
        }
        // Split bytes, not Characters: a line may start with a combining mark or hold a raw CR.
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            Substring(String(decoding: $0, as: UTF8.self))
        }
        var strings: [String?] = []
        var mode = ""
        var current: (re: RE2?, full: RE2?, pattern: String)? = nil
        var stringIndex = 0
        var checked = 0, passed = 0, skipped = 0, compileFailures = 0
        var failures: [String] = []
        for line in lines {
            let first = line.utf8.first
            if first == UInt8(ascii: "#") || line.isEmpty { continue }
            if line == "strings" { mode = "strings"; strings = []; continue }
            if line == "regexps" { mode = "regexps"; current = nil; continue }
            let quoted = first == UInt8(ascii: "\"")
            if !quoted, line != "strings", line != "regexps", !line.contains(";"), !line.contains("-") { continue }
            if mode == "strings" {
                strings.append(Self.unquote(line).flatMap { String(validating: $0, as: UTF8.self) })
                continue
            }
            if quoted {
                guard let bytes = Self.unquote(line), let pattern = String(validating: bytes, as: UTF8.self) else {
                    current = (nil, nil, "<invalid utf-8>")
                    stringIndex = 0
                    continue
                }
                stringIndex = 0
                do {
                    current = (try RE2(pattern), try RE2("^(?:\(pattern))$"), pattern)
                } catch {
                    if !pattern.contains("\\C") {
                        compileFailures += 1
                        failures.append("compile \(pattern): \(error)")
                    }
                    current = (nil, nil, pattern)
                }
                continue
            }
            // A result line for strings[stringIndex].
            defer { stringIndex += 1 }
            guard let cur = current, let re = cur.re, let full = cur.full, stringIndex < strings.count,
                  let subject = strings[stringIndex] else { skipped += 1; continue }
            if cur.pattern.contains("\\B") && subject.utf8.contains(where: { $0 >= 0x80 }) { skipped += 1; continue }
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count == 4 else { skipped += 1; continue }
            let haveFull = Self.byteOffsets(full.firstMatch(in: subject), in: subject)
            let havePartial = Self.byteOffsets(re.firstMatch(in: subject), in: subject)
            // Go's full-match column reports only the overall match for ^(?:re)$ when it is
            // compiled separately; compare whole-match bounds plus the groups it reports.
            let wantFull = Self.parseResult(fields[0])
            let wantPartial = Self.parseResult(fields[1])
            checked += 2
            if haveFull == wantFull { passed += 1 } else {
                failures.append("full \(cur.pattern) ~ \(subject.debugDescription): have \(haveFull ?? []) want \(wantFull ?? [])")
            }
            if havePartial == wantPartial { passed += 1 } else {
                failures.append("partial \(cur.pattern) ~ \(subject.debugDescription): have \(havePartial ?? []) want \(wantPartial ?? [])")
            }
            if re.matches(subject) != (wantPartial != nil) {
                failures.append("matches \(cur.pattern) ~ \(subject.debugDescription)")
            }
        }
        print("\(path): \(passed)/\(checked) passed, \(skipped) skipped, \(compileFailures) compile failures")
        for f in failures.prefix(40) { print("  " + f) }
        #expect(checked > 0)
        #expect(failures.isEmpty)
    }
}
