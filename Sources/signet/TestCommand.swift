import ArgumentParser
import Foundation
import SignetPolicy

/// `signet test DIR...`: runs Kyverno CLI test cases (`kyverno-test.yaml`) like `kyverno test`.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run kyverno-test.yaml test cases (cli.kyverno.io/v1alpha1 Test) found below each directory.")

    @OptionGroup(title: "Image verification") var verification: ImageVerifierOptions

    @Argument(help: "Directories (searched recursively) or test files.")
    var paths: [String]

    @Option(name: [.customShort("f"), .long], help: "Test file name.")
    var fileName = "kyverno-test.yaml"

    @Flag(help: "Print only failing results.")
    var failOnly = false

    @Flag(help: "Print each result's message.")
    var detailedResults = false

    @Flag(help: "Treat fields Signet does not implement as errors.")
    var strict = false

    func run() async throws {
        var runner = KyvernoTestRunner(fileSystem: LocalFileSystem(), fileName: fileName, strict: strict, verifier: try verification.makeVerifier())
        runner.imageDataProvider = try verification.makeImageDataProvider()
        let results = await runner.run(directories: paths)
        if results.isEmpty { print("\nNo test yamls available") }
        for r in results {
            print("Loading test \(r.name) ( \(r.path) ) ...")
            for d in r.diagnostics where d.severity == .error || detailedResults { print("  \(d)") }
            if let e = r.error {
                print("  Error: \(e)")
                continue
            }
            print("  Checking results ...")
            let rows = failOnly ? r.rows.filter { !$0.success } : r.rows
            if !rows.isEmpty {
                print("")
                printTable(rows)
                print("")
            }
        }
        print("\n" + KyvernoTestRunner.summary(results) + "\n")
        let failed = results.reduce(0) { $0 + $1.failed }
        if failed > 0 { throw CLIError("\(failed) tests failed") }
    }

    func printTable(_ rows: [KyvernoTestRunner.Row]) {
        var header = ["ID", "POLICY", "RULE", "RESOURCE", "RESULT", "REASON"]
        if detailedResults { header.append("MESSAGE") }
        var table = [header]
        for r in rows {
            var line = [String(r.id), r.policy, r.rule, r.resource, r.success ? "Pass" : "Fail", r.reason]
            if detailedResults { line.append(r.message) }
            table.append(line)
        }
        var widths = Array(repeating: 0, count: header.count)
        for line in table { for (i, c) in line.enumerated() { widths[i] = max(widths[i], c.count) } }
        for line in table {
            print("│ " + line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " │ ") + " │")
        }
    }
}
