import ArgumentParser
import Foundation
import SignetPolicy

/// `signet-bench policy`: evaluations per second of every policy of the conformance corpus
/// against a typical Pod on one core, and peak memory (issue 5 target: 20,000 Pod evaluations/s).
struct PolicyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Policy evaluations per second over the conformance corpus.")

    @Option(help: "Folders searched for policy YAML (kyverno-test.yaml and resource files are skipped by kind).")
    var corpus: [String] = ["../shared/conformance/kyverno/policies", "../shared/conformance/kyverno/cli"]
    @Option(help: "The Pod to evaluate.") var resource = "examples/bench/pod.yaml"
    @Option(help: "Seconds to measure.") var seconds = 5.0

    func run() async throws {
        var policies: [ClusterPolicy] = []
        var seen = Set<String>()
        for root in corpus {
            let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
            for f in files where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
                let path = (root as NSString).appendingPathComponent(f)
                guard let r = try? PolicyLoader().load(path: path) else { continue }
                for p in r.policies where !p.isInvalid && seen.insert("\(p.kind)/\(p.name)/\(path)").inserted {
                    policies.append(p)
                }
            }
        }
        guard let pod = try YAMLDocuments.load(path: resource).first else { throw ValidationError("no resource in \(resource)") }
        let engine = PolicyEngine(policies: policies)
        // Rule results produced, so the work cannot be optimized away.
        func validate(_ times: Int) -> Int {
            var n = 0
            for _ in 0..<times { for p in engine.validate(pod).policies { n &+= p.rules.count } }
            return n
        }
        let rules = policies.reduce(0) { $0 + $1.effectiveRules.count }
        print("policies: \(policies.count) (\(rules) rules incl. autogen), resource: \(resource)")
        _ = validate(200)  // warm-up
        var iterations = 0
        var results = 0
        let clock = ContinuousClock()
        let start = clock.now
        let limit = Duration.seconds(seconds)
        while clock.now - start < limit {
            results += validate(500)
            iterations += 500
        }
        let elapsed = (clock.now - start) / .seconds(1)
        let pods = Double(iterations) / elapsed
        print(String(format: "Pod evaluations (all %d policies each): %.0f /s", policies.count, pods))
        print(String(format: "policy evaluations:                     %.0f /s", pods * Double(policies.count)))
        print(String(format: "rule results per Pod: %d", results / max(iterations, 1)))
        print("peak RSS: \(peakRSS())")
    }

    /// VmHWM from /proc/self/status (Linux): the process's peak resident set.
    func peakRSS() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "unknown" }
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }
}
