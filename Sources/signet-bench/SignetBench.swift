import ArgumentParser

/// Benchmarks that print figures; run with `swift run -c release signet-bench SUBCOMMAND`.
/// Goals are checked here, never with timed assertions inside unit tests.
@main
struct SignetBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signet-bench",
        abstract: "Signet benchmarks: print figures for the speed and memory goals.",
        subcommands: [PolicyBenchmark.self, VariablesBenchmark.self, KMSBenchmark.self, AdmissionBenchmark.self]
    )
}
