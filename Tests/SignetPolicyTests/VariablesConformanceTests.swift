import Foundation
import Testing
import SignetTestSupport
@testable import SignetPolicy

/// JMESPath ClusterPolicy conformance (issue 15): `library/` folders without a `-cel`/`-vpol`/
/// `-mpol`/`-gpol` suffix and the `kyverno.io/v1` cases of `cli-more/` (CEL ones are counted by
/// CELConformanceTests). Counts are pinned so they cannot fall; failures are listed with reasons
/// in docs/conformance.md.
@Suite struct VariablesConformanceTests {
    static let corpus = ConformanceTests.corpus

    static func libraryDirectories() -> [String] {
        let lib = corpus + "/library"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return names.filter { n in !["-cel", "-vpol", "-mpol", "-gpol"].contains { n.hasSuffix($0) } && !n.hasPrefix(".") }
            .sorted().map { lib + "/" + $0 }
    }

    /// cli-more test files whose policies are `kyverno.io` ClusterPolicies/Policies without CEL.
    static func cliMoreJMESPathCases() -> [String] {
        let cel = Set(CELConformanceTests.cliMoreCELCases())
        let root = corpus + "/cli-more"
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            guard (rel as NSString).lastPathComponent == "kyverno-test.yaml" else { continue }
            let testFile = root + "/" + rel
            guard !cel.contains(testFile) else { continue }
            let dir = (testFile as NSString).deletingLastPathComponent
            guard let test = try? String(contentsOfFile: testFile, encoding: .utf8) else { continue }
            var texts: [String] = []
            for line in test.split(separator: "\n") where line.hasPrefix("- ") && (line.hasSuffix(".yaml") || line.hasSuffix(".yml")) {
                let f = String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                let path = f.hasPrefix("/") ? f : ((dir as NSString).appendingPathComponent(f) as NSString).standardizingPath
                if let t = try? String(contentsOfFile: path, encoding: .utf8) { texts.append(t) }
            }
            if texts.contains(where: { $0.contains("apiVersion: kyverno.io/v1") }) { out.append(testFile) }
        }
        return out.sorted()
    }

    func report(_ name: String, _ results: [KyvernoTestRunner.CaseResult]) -> (Int, Int) {
        var lines: [String] = []
        var matched = 0, total = 0
        for r in results {
            let rel = r.path.replacingOccurrences(of: VariablesConformanceTests.corpus + "/", with: "")
            lines.append("  \(rel): \(r.passed)/\(r.passed + r.failed)\(r.error.map { " (\($0))" } ?? "")")
            for row in r.rows where !row.success { lines.append("    FAIL \(row.policy)/\(row.rule) on \(row.resource): \(row.reason) — \(row.message.prefix(240))") }
            matched += r.passed
            total += r.passed + r.failed
        }
        print("conformance \(name): \(results.count) cases, \(matched)/\(total) expected results matched\n" + lines.joined(separator: "\n"))
        return (matched, total)
    }

    @Test func libraryJMESPathClusterPolicies() async throws {
        let results = await KyvernoTestRunner().run(directories: VariablesConformanceTests.libraryDirectories())
        let (matched, total) = report("library (JMESPath ClusterPolicies)", results)
        #expect(total == 589)
        #expect(matched >= 522)
    }

    @Test func cliMoreJMESPathCases() async throws {
        var results: [KyvernoTestRunner.CaseResult] = []
        for f in VariablesConformanceTests.cliMoreJMESPathCases() { results.append(await KyvernoTestRunner().run(testFile: f)) }
        let (matched, total) = report("cli-more (JMESPath ClusterPolicies)", results)
        #expect(total == 141)
        #expect(matched >= 109)
    }
}
