import ArgumentParser
import Foundation
import SignetKMS

/// `signet-bench kms`: transit signatures per second through `TransitSigner` with 1 and 8
/// concurrent signers, beside the raw transit sign rate over plain HTTP in the same run
/// (issue 4 target: signer >= 90% of raw). `scripts/bench-kms` starts OpenBao and calls this.
struct KMSBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kms", abstract: "Transit signing rate vs raw transit calls.")

    @Option(help: "Transit key name.") var key = "cosign"
    @Option(help: "Seconds per measurement.") var seconds = 5
    @Option(help: "Concurrency levels.") var concurrency: [Int] = [1, 8]

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let address = env["VAULT_ADDR"] ?? env["BAO_ADDR"], let token = env["VAULT_TOKEN"] ?? env["BAO_TOKEN"] else {
            throw ValidationError("VAULT_ADDR and VAULT_TOKEN must be set (scripts/bench-kms sets them)")
        }
        let report = try await TransitBenchmark.run(
            configuration: try VaultConfiguration(address: address), token: VaultToken(token), key: key,
            concurrency: concurrency, duration: .seconds(seconds)
        ) { print($0) }
        print(report)
        if !report.ratios.allSatisfy({ $0.ratio >= 0.9 }) { throw ExitCode(1) }
    }
}
