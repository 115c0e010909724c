// The cel-spec conformance suite (simple/*.textproto) run through SignetCEL.
// Prints a passed/failed/skipped table per file, writes every failure and skip reason to
// /tmp/signet-cel-conformance.txt, and pins per-file minimum pass counts so they cannot fall.

import Foundation
import Testing
import SignetCEL

struct ConformanceTests {
    /// Minimum passing tests per file, pinned at the numbers reached; raise them as the core improves.
    static let minimumPassed: [String: Int] = [
        "basic": 43,
        "bindings_ext": 8,
        "block_ext": 25,
        "comparisons": 362,
        "conversions": 109,
        "dynamic": 71,
        "encoders_ext": 4,
        "fields": 60,
        "fp_math": 30,
        "integer_math": 64,
        "lists": 39,
        "logic": 30,
        "macros": 44,
        "macros2": 46,
        "math_ext": 199,
        "namespace": 14,
        "network_ext": 69,
        "optionals": 59,
        "parse": 193,
        "plumbing": 5,
        "string": 51,
        "string_ext": 213,
        "timestamps": 78,
        "type_deduction": 26,
    ]

    /// Where the failure list is written for reading.
    static let reportPath = "/tmp/signet-cel-conformance.txt"

    struct FileResult {
        var name: String
        var total = 0
        var passed = 0
        var failed: [(String, String)] = []
        var skipped: [(String, String)] = []
    }

    @Test func simpleSuite() throws {
        let files = try ConformanceData.files()
        #expect(files.count >= 30, "conformance data not found")
        var results: [FileResult] = []
        for url in files {
            let file = try ConformanceData.load(url)
            let name = url.deletingPathExtension().lastPathComponent
            var r = FileResult(name: name)
            for t in file.tests {
                r.total += 1
                switch ConformanceRunner.run(t) {
                case .passed: r.passed += 1
                case .failed(let why): r.failed.append(("\(t.section)/\(t.name): \(t.expr)", why))
                case .skipped(let why): r.skipped.append(("\(t.section)/\(t.name)", why))
                }
            }
            results.append(r)
        }

        var table = "file                 total passed failed skipped  pass% (of run)\n"
        var sums = (0, 0, 0, 0)
        for r in results {
            let run = r.passed + r.failed.count
            let pct = run == 0 ? 100.0 : Double(r.passed) * 100 / Double(run)
            table += r.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + String(format: " %5d %6d %6d %7d  %5.1f\n", r.total, r.passed, r.failed.count, r.skipped.count, pct)
            sums.0 += r.total
            sums.1 += r.passed
            sums.2 += r.failed.count
            sums.3 += r.skipped.count
        }
        table += "TOTAL".padding(toLength: 20, withPad: " ", startingAt: 0)
            + String(format: " %5d %6d %6d %7d\n", sums.0, sums.1, sums.2, sums.3)
        print(table)

        var report = table + "\n"
        for r in results where !r.failed.isEmpty || !r.skipped.isEmpty {
            report += "== \(r.name)\n"
            for (t, why) in r.failed { report += "FAIL \(t)\n     \(why)\n" }
            var reasons: [String: Int] = [:]
            for (_, why) in r.skipped { reasons[why, default: 0] += 1 }
            for (why, n) in reasons.sorted(by: { $0.key < $1.key }) { report += "SKIP \(n)x \(why)\n" }
        }
        try? report.write(toFile: Self.reportPath, atomically: true, encoding: .utf8)

        for r in results {
            let minimum = Self.minimumPassed[r.name] ?? 0
            #expect(r.passed >= minimum, "\(r.name): \(r.passed) passed, pinned minimum \(minimum)")
        }
    }

    /// Where the checker disagreements are written.
    static let checkerReportPath = "/tmp/signet-cel-checker.txt"

    /// Pinned maximum of checked tests whose checking fails or whose deduced type disagrees with the value.
    static let maximumCheckerDisagreements = 0

    /// The checker over the whole suite: every runnable, checked test must type-check, and the deduced type
    /// must be the evaluated value's type (or dyn).
    @Test func checkerAgreesWithEvaluation() throws {
        let files = try ConformanceData.files()
        var checked = 0
        var problems: [String] = []
        for url in files {
            let file = try ConformanceData.load(url)
            for t in file.tests {
                if ConformanceRunner.skipReason(t) == nil, !t.disableCheck, !t.checkOnly { checked += 1 }
                // Every expression of the suite (protobuf, disable_check and parse tests too) is checked
                // without trapping; errors are fine there.
                _ = try? ConformanceRunner.environment(t).check(t.expr)
                if let p = ConformanceRunner.checkerDisagreement(t) { problems.append("\(t.id): \(t.expr)\n     \(p)") }
            }
        }
        print("checker: \(checked) checked tests, \(problems.count) disagreements")
        try? (problems.joined(separator: "\n") + "\n").write(toFile: Self.checkerReportPath, atomically: true, encoding: .utf8)
        #expect(checked > 1000)
        #expect(problems.count <= Self.maximumCheckerDisagreements, "see \(Self.checkerReportPath)")
    }
}
