import Foundation
import SignetTestSupport
import Testing
@testable import SignetAdmission

/// deploy/ and ci/: every kustomization renders and passes checkov; the Grafana dashboard charts
/// exactly the metrics `signet serve` exports; the GitLab template schedules prune.
@Suite(.serialized)
struct DeployTests {
    static let root = RepositoryPaths.root

    /// The metric families `AdmissionMetrics` exports, from its own exposition after touching each.
    static func exportedFamilies() -> [String: String] {
        let metrics = AdmissionMetrics()
        metrics.request(path: "/validate", code: 200, duration: .milliseconds(1))
        metrics.response(path: "/validate", allowed: true)
        metrics.decision(policy: "p", rule: "r", result: "pass")
        metrics.cache(.hit)
        metrics.verification(duration: .milliseconds(3))
        metrics.verificationError(reason: "registry")
        metrics.policiesLoaded(1)
        metrics.policyReloadFailed()
        metrics.tlsReload(success: true)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        var families: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count >= 4 { families[String(parts[2])] = String(parts[3]) }
        }
        return families
    }

    /// `signet_...` names in the dashboard's PromQL, histogram series suffixes folded into their family.
    static func dashboardMetricNames(families: [String: String]) throws -> Set<String> {
        let url = root.appendingPathComponent("deploy/grafana/signet-dashboard.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        var expressions: [String] = []
        func walk(_ value: Any) {
            if let dict = value as? [String: Any] {
                if let expr = dict["expr"] as? String { expressions.append(expr) }
                dict.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(object)
        let regex = try NSRegularExpression(pattern: "signet_[a-z_]+")
        var names = Set<String>()
        for expr in expressions {
            for match in regex.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)) {
                guard let range = Range(match.range, in: expr) else { continue }
                var name = String(expr[range])
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                    let base = String(name.dropLast(suffix.count))
                    if families[base] == "histogram" { name = base }
                }
                names.insert(name)
            }
        }
        return names
    }

    @Test func theDashboardChartsExactlyTheExportedMetrics() throws {
        let families = Self.exportedFamilies()
        #expect(families.count >= 9)
        let used = try Self.dashboardMetricNames(families: families)
        #expect(used.subtracting(families.keys).isEmpty, "dashboard uses metrics signet does not export: \(used.subtracting(families.keys).sorted())")
        #expect(Set(families.keys).subtracting(used).isEmpty, "exported metrics without a panel: \(Set(families.keys).subtracting(used).sorted())")
    }

    @Test func theDashboardIsGrafanaShaped() throws {
        let url = Self.root.appendingPathComponent("deploy/grafana/signet-dashboard.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(object["uid"] as? String == "signet-admission")
        let panels = try #require(object["panels"] as? [[String: Any]])
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count)
        for panel in panels {
            #expect(panel["gridPos"] != nil && panel["title"] != nil && panel["targets"] != nil)
        }
    }

    /// scripts/check-deploy: `kubectl kustomize` of deploy/ and every overlay, checkov on each.
    @Test func everyKustomizationRendersAndPassesCheckov() throws {
        let result = try CommandRunner.run("/bin/bash", [Self.root.appendingPathComponent("scripts/check-deploy").path], timeout: 900)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for name in ["deploy", "deploy/overlays/cert-manager", "deploy/overlays/prune-delete"] {
            #expect(result.stdout.contains("\(name): ") && result.stdout.contains("\(name): 0 ") == false, "\(result.stdout)")
        }
        #expect(!result.stdout.contains("FAILED"))
        #expect(result.stdout.split(separator: "\n").filter { $0.contains(" 0 failed") }.count == 3, "\(result.stdout)")
    }

    /// What the overlays change, rendered: the CronJob's --delete, cert-manager's annotations.
    @Test func overlaysChangeWhatTheySay() throws {
        let base = try CommandRunner.run("kubectl", ["kustomize", Self.root.appendingPathComponent("deploy").path])
        #expect(base.status == 0, "\(base.stderr)")
        #expect(base.stdout.contains("kind: CronJob"))
        #expect(!base.stdout.contains("- --delete"))
        #expect(base.stdout.contains("secretName: signet-prune-registry"))
        let prune = try CommandRunner.run("kubectl", ["kustomize", Self.root.appendingPathComponent("deploy/overlays/prune-delete").path])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("- prune\n            - --delete\n"))
        let certManager = try CommandRunner.run("kubectl", ["kustomize", Self.root.appendingPathComponent("deploy/overlays/cert-manager").path])
        #expect(certManager.status == 0, "\(certManager.stderr)")
        #expect(certManager.stdout.components(separatedBy: "cert-manager.io/inject-ca-from: signet-system/signet-webhook-tls").count == 3)
        #expect(certManager.stdout.contains("kind: Certificate"))
        #expect(certManager.stdout.contains("secretName: signet-webhook-tls"))
        #expect(certManager.stdout.contains("- signet-webhook.signet-system.svc\n"))
    }

    /// ci/gitlab: a prune job that runs only in scheduled pipelines.
    @Test func theGitLabTemplateSchedulesPrune() throws {
        let script = """
            import sys, yaml
            doc = yaml.safe_load(open(sys.argv[1]))
            job = doc['.signet-prune']
            assert any('$CI_PIPELINE_SOURCE == "schedule"' in r.get('if', '') for r in job['rules']), job['rules']
            assert any('signet prune' in line for line in job['script']), job['script']
            assert 'signet-prune' in doc and doc['signet-prune']['extends'] == '.signet-prune'
            print('ok')
            """
        let result = try CommandRunner.run("python3", ["-c", script, Self.root.appendingPathComponent("ci/gitlab/signet.gitlab-ci.yml").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
