import Foundation
import Testing
import SignetTestSupport
@testable import SignetPolicy

/// Runs the Kyverno CLI conformance corpus (../shared/conformance/kyverno) through the engine.
@Suite struct ConformanceTests {
    static let corpus = RepositoryPaths.shared.appendingPathComponent("conformance/kyverno").path

    func run(_ sub: String) async throws -> [KyvernoTestRunner.CaseResult] {
        let dir = ConformanceTests.corpus + "/" + sub
        #expect(FileManager.default.fileExists(atPath: dir), "conformance corpus missing at \(dir)")
        let results = await KyvernoTestRunner().run(directories: [dir])
        #expect(!results.isEmpty, "no kyverno-test.yaml found below \(dir)")
        return results
    }

    func report(_ name: String, _ results: [KyvernoTestRunner.CaseResult]) {
        var lines: [String] = []
        var matched = 0, total = 0
        for r in results {
            let rel = r.path.replacingOccurrences(of: ConformanceTests.corpus + "/", with: "")
            lines.append("  \(rel): \(r.passed)/\(r.passed + r.failed)\(r.error.map { " (\($0))" } ?? "")")
            matched += r.passed
            total += r.passed + r.failed
        }
        print("conformance \(name): \(results.count) cases, \(matched)/\(total) expected results matched\n" + lines.joined(separator: "\n"))
    }

    @Test func policiesCorpusPasses() async throws {
        let results = try await run("policies")
        report("policies", results)
        #expect(results.count == 53)
        for r in results {
            #expect(r.error == nil, "\(r.path): \(r.error ?? "")")
            for row in r.rows where !row.success {
                Issue.record("\(r.path): \(row.policy)/\(row.rule) on \(row.resource): \(row.reason) — \(row.message)")
            }
        }
    }

    @Test func cliCorpusPasses() async throws {
        let results = try await run("cli").filter { !$0.path.contains("/test-fail/") }
        report("cli (excluding test-fail)", results)
        #expect(results.count == 21)
        for r in results {
            #expect(r.error == nil, "\(r.path): \(r.error ?? "")")
            for row in r.rows where !row.success {
                Issue.record("\(r.path): \(row.policy)/\(row.rule) on \(row.resource): \(row.reason) — \(row.message)")
            }
        }
    }

    /// Kyverno's CI expects `kyverno test` to fail on these (check-cli-tests.yaml).
    @Test(arguments: ["missing-policy", "missing-resource", "missing-rule"])
    func testFailCasesFail(_ name: String) async throws {
        let results = try await run("cli/test/cli/test-fail/" + name)
        report("test-fail/" + name, results)
        #expect(results.reduce(0) { $0 + $1.failed } > 0)
    }

    /// `invalid-ns*` sit under test-fail/ but Kyverno's CI does not run them; with Kyverno's current
    /// semantics (exclude with clusterRoles and no user info does not apply) the expected `fail` is
    /// produced, so they pass. Recorded, not asserted as failures.
    @Test(arguments: ["invalid-ns", "invalid-ns-deprecated"])
    func invalidNamespaceCasesFollowKyvernoSemantics(_ name: String) async throws {
        let results = try await run("cli/test/cli/test-fail/" + name)
        report("test-fail/" + name, results)
        let rows = results.flatMap(\.rows)
        #expect(rows.count == 1)
        #expect(rows.first?.actual == "fail")
    }

    /// JMESPath cases (variables, preconditions, values files): every expected result matches.
    @Test func nextCorpusPasses() async throws {
        let results = try await run("next")
        report("next", results)
        #expect(results.count == 15)
        for r in results {
            #expect(r.error == nil, "\(r.path): \(r.error ?? "")")
            for row in r.rows where !row.success {
                Issue.record("\(r.path): \(row.policy)/\(row.rule) on \(row.resource): \(row.reason) — \(row.message)")
            }
        }
        #expect(results.reduce(0) { $0 + $1.passed } == 44)
    }
}

/// CEL policies (issue 13): ClusterPolicy `validate.cel` (`library/*-cel`), ValidatingPolicy
/// (`library/*-vpol`) and the ValidatingPolicy / ValidatingAdmissionPolicy / CEL cases of `cli-more/`.
/// Counts are pinned so they cannot fall; failures are listed in docs/conformance-cel.md.
@Suite struct CELConformanceTests {
    static let corpus = ConformanceTests.corpus

    static func directories(_ suffix: String) -> [String] {
        let lib = corpus + "/library"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { lib + "/" + $0 }
    }

    /// cli-more test folders whose policies are CEL kinds or use `validate.cel`/`celPreconditions`.
    static func cliMoreCELCases() -> [String] {
        let root = corpus + "/cli-more"
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        let kinds = ["kind: ValidatingPolicy", "kind: NamespacedValidatingPolicy", "kind: ValidatingAdmissionPolicy",
                     "kind: ImageValidatingPolicy", "kind: NamespacedImageValidatingPolicy"]
        while let rel = e.nextObject() as? String {
            guard (rel as NSString).lastPathComponent == "kyverno-test.yaml" else { continue }
            let testFile = root + "/" + rel
            let dir = (testFile as NSString).deletingLastPathComponent
            guard let test = try? String(contentsOfFile: testFile, encoding: .utf8) else { continue }
            var texts: [String] = []
            for line in test.split(separator: "\n") where line.hasPrefix("- ") && (line.hasSuffix(".yaml") || line.hasSuffix(".yml")) {
                let f = String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                let path = f.hasPrefix("/") ? f : ((dir as NSString).appendingPathComponent(f) as NSString).standardizingPath
                if let t = try? String(contentsOfFile: path, encoding: .utf8) { texts.append(t) }
            }
            let isCEL = texts.contains { t in kinds.contains { t.contains($0 + "\n") } || t.contains("\n        cel:") || t.contains("celPreconditions:") }
            if isCEL { out.append(testFile) }
        }
        return out.sorted()
    }

    func run(files: [String]) async -> [KyvernoTestRunner.CaseResult] {
        var out: [KyvernoTestRunner.CaseResult] = []
        for f in files { out.append(await KyvernoTestRunner().run(testFile: f)) }
        return out
    }

    /// Prints per-case results and failing rows; returns (matched, total).
    func report(_ name: String, _ results: [KyvernoTestRunner.CaseResult]) -> (Int, Int) {
        var lines: [String] = []
        var matched = 0, total = 0
        for r in results {
            let rel = r.path.replacingOccurrences(of: CELConformanceTests.corpus + "/", with: "")
            lines.append("  \(rel): \(r.passed)/\(r.passed + r.failed)\(r.error.map { " (\($0))" } ?? "")")
            for row in r.rows where !row.success { lines.append("    FAIL \(row.policy)/\(row.rule) on \(row.resource): \(row.reason) — \(row.message.prefix(300))") }
            matched += r.passed
            total += r.passed + r.failed
        }
        print("conformance \(name): \(results.count) cases, \(matched)/\(total) expected results matched\n" + lines.joined(separator: "\n"))
        return (matched, total)
    }

    @Test func libraryCELClusterPolicies() async throws {
        let results = await KyvernoTestRunner().run(directories: CELConformanceTests.directories("-cel"))
        let (matched, total) = report("library/*-cel", results)
        #expect(results.count == 91)
        #expect(total == 1126)
        #expect(matched >= 1126)
    }

    @Test func libraryValidatingPolicies() async throws {
        let results = await KyvernoTestRunner().run(directories: CELConformanceTests.directories("-vpol"))
        let (matched, total) = report("library/*-vpol", results)
        #expect(results.count == 71)
        #expect(total == 1051)
        #expect(matched >= 1051)
    }

    @Test func cliMoreCELCases() async throws {
        let files = CELConformanceTests.cliMoreCELCases()
        let results = await run(files: files)
        let (matched, total) = report("cli-more (CEL/VPOL/VAP)", results)
        // 31 with the 3 ImageValidatingPolicy cases (issue 14): their notary attestors and public
        // images cannot verify offline (error rows); test-context-resource-ivpol has no resources
        // (its `resources.yaml` does not exist upstream), so, as in Kyverno's `printTestResult`,
        // its 2 results have no row (0/0, a passing case) instead of 2 "Not found" failures.
        // + the Envoy / HTTP authorization cases (envoy-allow, http-allow, http-deny)
        #expect(results.count == 31)
        #expect(total == 69)
        #expect(matched >= 64)
    }
}
