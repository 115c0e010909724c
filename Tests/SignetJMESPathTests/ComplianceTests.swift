import Foundation
import SignetPrimitives
import Testing
@testable import SignetJMESPath

/// Runs every case of the jmespath.test compliance suite (shared/conformance/jmespath).
@Suite struct ComplianceTests {
    static let directory = TestPaths.sharedConformance()?.appendingPathComponent("jmespath")

    static var files: [String] {
        guard let d = directory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: d.path) else { return [] }
        return names.filter { $0.hasSuffix(".json") && $0 != "benchmarks.json" }.sorted()
    }

    struct Outcome {
        var passed = 0
        var failures: [String] = []
    }

    static func run(file: String) throws -> Outcome {
        let url = try #require(directory).appendingPathComponent(file)
        let suites = try JSONValue(json: Data(contentsOf: url))
        var outcome = Outcome()
        for suite in suites.arrayValue ?? [] {
            let given = suite["given"] ?? .null
            for c in suite["cases"]?.arrayValue ?? [] {
                guard let expression = c["expression"]?.stringValue else { continue }
                do {
                    let compiled = try JMESPathExpression(compiling: expression)
                    let result = try compiled.evaluate(given)
                    if let expectedError = c["error"]?.stringValue {
                        outcome.failures.append("\(expression): expected error \(expectedError), got \(result.jsonString)")
                    } else if let expected = c["result"] {
                        // Object iteration order is unspecified (spec: wildcard, keys, values).
                        let unordered = expression.contains("*") || expression.contains("keys") || expression.contains("values")
                        if jsonEqual(result, expected, unorderedArrays: unordered) {
                            outcome.passed += 1
                        } else {
                            outcome.failures.append("\(expression): expected \(expected.jsonString), got \(result.jsonString)")
                        }
                    } else {
                        outcome.passed += 1
                    }
                } catch let e as JMESPathError {
                    if let expectedError = c["error"]?.stringValue {
                        if e.code.rawValue == expectedError {
                            outcome.passed += 1
                        } else {
                            outcome.failures.append("\(expression): expected error \(expectedError), got \(e.code): \(e)")
                        }
                    } else {
                        outcome.failures.append("\(expression): unexpected error \(e.code): \(e)")
                    }
                }
            }
        }
        return outcome
    }

    @Test(arguments: files)
    func complianceFile(_ file: String) throws {
        let outcome = try Self.run(file: file)
        print("jmespath compliance \(file): \(outcome.passed)/\(outcome.passed + outcome.failures.count) passed")
        for f in outcome.failures { Issue.record("\(file): \(f)") }
    }

    @Test func suiteIsPresent() {
        #expect(Self.files.count == 15)
    }
}
