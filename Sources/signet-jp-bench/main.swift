// Times the expressions of the jmespath.test benchmark suite (shared/conformance/jmespath/
// benchmarks.json): `parse` cases measure compilation, `full` cases compilation plus evaluation,
// and every case also reports evaluation alone. Usage: signet-jp-bench [benchmarks.json] [seconds]
import Foundation
import SignetJMESPath
import SignetPrimitives

func locateBenchmarks() -> URL? {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<12 {
        let candidate = dir.appendingPathComponent("shared/conformance/jmespath/benchmarks.json")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

let arguments = CommandLine.arguments.dropFirst()
guard let url = arguments.first.map({ URL(fileURLWithPath: $0) }) ?? locateBenchmarks() else {
    FileHandle.standardError.write(Data("benchmarks.json not found\n".utf8))
    exit(1)
}
let secondsPerCase = arguments.dropFirst().first.flatMap(Double.init) ?? 0.3

/// Runs `body` repeatedly for about `secondsPerCase` and returns operations per second.
func rate(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var iterations = 0
    var batch = 1
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .milliseconds(Int64(secondsPerCase * 1000)) {
        for _ in 0..<batch { try body() }
        iterations += batch
        batch = min(batch * 2, 1 << 16)
        elapsed = clock.now - start
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(iterations) / seconds
}

func format(_ r: Double) -> String {
    r >= 1e6 ? String(format: "%8.2fM", r / 1e6) : String(format: "%8.1fk", r / 1e3)
}

do {
    let suites = try JSONValue(json: Data(contentsOf: url))
    print("case                                   kind   compile/s   eval/s      full/s")
    for suite in suites.arrayValue ?? [] {
        let given = suite["given"] ?? .null
        for c in suite["cases"]?.arrayValue ?? [] {
            guard let expression = c["expression"]?.stringValue else { continue }
            let kind = c["bench"]?.stringValue ?? "full"
            let name = (c["comment"]?.stringValue ?? expression).padding(toLength: 38, withPad: " ", startingAt: 0)
            do {
                let compiled = try JMESPathExpression(compiling: expression)
                let compileRate = try rate { _ = try JMESPathExpression(compiling: expression) }
                let evalRate = try rate { _ = try compiled.evaluate(given) }
                let fullRate = try rate { _ = try JMESPathExpression(compiling: expression).evaluate(given) }
                print("\(name) \(kind.padding(toLength: 6, withPad: " ", startingAt: 0)) \(format(compileRate))  \(format(evalRate))  \(format(fullRate))")
            } catch {
                print("\(name) \(kind) error: \(error)")
            }
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
