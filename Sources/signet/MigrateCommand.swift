import ArgumentParser
import Foundation
import SignetPolicy
import SignetPrimitives

/// `signet migrate POLICY...`: the ImageValidatingPolicies that enforce the `verifyImages` rules
/// of ClusterPolicies (issue 14), with a diagnostic for everything that cannot be carried over.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Print the ImageValidatingPolicies and ValidatingPolicies that enforce ClusterPolicies.",
        discussion: """
            One policies.kyverno.io/v1 ImageValidatingPolicy per verifyImages entry and one \
            ValidatingPolicy per validate rule with a plain pattern, printed as YAML documents \
            separated by ---. With --check, the ClusterPolicies and their migration are applied \
            to the --resource files and every difference in decision or digest patches is printed. Every rule or field that cannot be carried over is \
            reported on stderr; the exit status is 1 when something was left out.
            """)

    @Argument(help: "ClusterPolicy files or directories.")
    var policies: [String]

    @Flag(help: "Apply each ClusterPolicy's verifyImages rules and their migration to --resource files and report every difference.")
    var check = false

    @Option(name: [.short, .customLong("resource")], help: "Resource files for --check.")
    var resource: [String] = []

    @OptionGroup(title: "Image verification") var verification: ImageVerifierOptions

    func run() async throws {
        if check && resource.isEmpty { throw CLIError("--check needs --resource files") }
        let loader = PolicyLoader()
        var documents: [JSONValue] = []
        var incomplete = false
        var resources: [JSONValue] = []
        for path in resource {
            for d in try YAMLDocuments.load(path: path) {
                if d["kind"]?.stringValue?.hasSuffix("List") == true { resources += d["items"]?.arrayValue ?? [] } else { resources.append(d) }
            }
        }
        let verifier = check ? try verification.makeVerifier() : nil
        var differences = 0
        for path in policies {
            let loaded = try loader.load(path: path)
            for p in loaded.policies {
                let out = PolicyMigration.migrate(p)
                documents += out.documents
                for d in out.diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
                incomplete = incomplete || !out.isComplete
                guard check else { continue }
                let yaml = out.documents.map { $0.jsonString(sortedKeys: true, escapeHTML: false) }.joined(separator: "\n---\n")
                let migrated = try loader.load(yaml: yaml)
                for d in await PolicyMigration.check(p, migrated: migrated, convertedRules: out.convertedRules, resources: resources, verifier: verifier) {
                    print("difference: \(p.name): \(d)")
                    differences += 1
                }
            }
        }
        if check {
            print("\(differences) difference(s) on \(resources.count) resource(s)")
            if differences > 0 { throw ExitCode(1) }
            return
        }
        do { print(try YAMLEmitter.documents(documents), terminator: "") } catch { throw CLIError("\(error)") }
        if incomplete { throw ExitCode(1) }
    }
}
