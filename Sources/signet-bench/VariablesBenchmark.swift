import ArgumentParser
import Foundation
import SignetPolicy
import SignetPrimitives

/// `signet-bench variables`: policy evaluations per second of the conformance corpus's
/// ClusterPolicies (the kyverno/policies library folders without a `-cel`/`-vpol`/`-mpol`/`-gpol`
/// suffix, and `policies/`), each on the resources of its own test and with its values file,
/// split into JMESPath-heavy policies (a rule with `{{ }}`, preconditions, deny, foreach or
/// context) and pattern-only ones, measured in one run (issue 15).
struct VariablesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variables", abstract: "JMESPath-heavy vs pattern-only library policies: policy evaluations per second.")

    @Option(help: "Folders searched for kyverno-test.yaml files (test folders ending in -cel/-vpol/-mpol/-gpol are skipped).")
    var corpus: [String] = ["../shared/conformance/kyverno/library", "../shared/conformance/kyverno/policies"]
    @Option(help: "Seconds to measure each group.") var seconds = 3.0

    /// One policy set on one resource, ready to evaluate.
    struct Item {
        var engine: PolicyEngine
        var resource: JSONValue
        var admission: AdmissionInfo
        var policies: Int
    }

    func run() async throws {
        var groups: [Bool: [Item]] = [true: [], false: []]
        var policyCounts: [Bool: Int] = [true: 0, false: 0]
        for root in corpus {
            let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
            for f in files where (f as NSString).lastPathComponent == "kyverno-test.yaml" {
                if ["-cel/", "-vpol/", "-mpol/", "-gpol/"].contains(where: { f.contains($0) }) { continue }
                let testFile = (root as NSString).appendingPathComponent(f)
                let dir = (testFile as NSString).deletingLastPathComponent
                func path(_ p: String) -> String { p.hasPrefix("/") ? p : ((dir as NSString).appendingPathComponent(p) as NSString).standardizingPath }
                guard let test = try? YAMLDocuments.load(path: testFile).first else { continue }
                var policies: [ClusterPolicy] = []
                for pf in test["policies"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    guard let r = try? PolicyLoader().load(path: path(pf)) else { continue }
                    policies += r.policies.filter { p in
                        !p.isInvalid && !p.effectiveRules.isEmpty
                            && p.effectiveRules.allSatisfy { $0.hasValidate && $0.unsupported.isEmpty && !$0.hasVerifyImages && $0.validate?.cel == nil }
                    }
                }
                guard !policies.isEmpty else { continue }
                var values = KyvernoValuesFile()
                if let inline = test["values"] { values = (try? KyvernoValuesFile(documents: [inline])) ?? values }
                else if let v = test["variables"]?.stringValue, let docs = try? YAMLDocuments.load(path: path(v)) {
                    values = (try? KyvernoValuesFile(documents: docs)) ?? values
                }
                values.variables.configMapEntries = false
                values.variables.apiCallEntries = false
                var configuration = PolicyEngine.Configuration()
                configuration.variables = values.variables
                var resources: [JSONValue] = []
                for rp in test["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    resources += ((try? YAMLDocuments.load(path: path(rp))) ?? []).map(KyvernoTestRunner.cliNormalize)
                }
                for heavy in [true, false] {
                    let set = policies.filter { $0.effectiveRules.contains(where: \.usesVariables) == heavy }
                    guard !set.isEmpty else { continue }
                    policyCounts[heavy, default: 0] += set.count
                    let engine = PolicyEngine(policies: set, configuration: configuration)
                    for res in resources {
                        let base = values.admission(for: res, base: AdmissionInfo(operation: values.operation ?? .create))
                        for request in engine.valuesRequests(for: res, admission: base) {
                            groups[heavy, default: []].append(Item(engine: request.engine, resource: request.resource, admission: request.admission,
                                                                   policies: request.engine.policies.count))
                        }
                    }
                }
            }
        }
        for (name, heavy) in [("JMESPath-heavy", true), ("pattern-only", false)] {
            let items = groups[heavy] ?? []
            let (rate, results) = measure(items)
            print(String(format: "%@: %d policies on %d resource evaluations: %.0f policy evaluations/s (%d rule results)",
                         name, policyCounts[heavy] ?? 0, items.count, rate, results))
        }
    }

    /// Evaluates the items round-robin for `seconds`; policy evaluations per second.
    func measure(_ items: [Item]) -> (Double, Int) {
        guard !items.isEmpty else { return (0, 0) }
        func pass() -> (Int, Int) {
            var evaluations = 0, results = 0
            for i in items {
                for p in i.engine.validate(i.resource, admission: i.admission).policies { results &+= p.rules.count }
                evaluations += i.policies
            }
            return (evaluations, results)
        }
        _ = pass()  // warm-up
        let clock = ContinuousClock()
        let start = clock.now
        var evaluations = 0, results = 0
        repeat {
            let (e, r) = pass()
            evaluations += e
            results &+= r
        } while clock.now - start < .seconds(seconds)
        let elapsed = (clock.now - start) / .seconds(1)
        return (Double(evaluations) / elapsed, results)
    }
}
