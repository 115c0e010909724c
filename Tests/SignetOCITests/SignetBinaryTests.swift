import Foundation
import Testing
import SignetTestSupport

/// The CLI tests run the binary scripts/test built (`SIGNET_BIN`), not always the debug one.
@Suite struct SignetBinaryTests {
    @Test(arguments: [
        ([:], ".build/debug/signet"),
        (["SIGNET_BIN": ""], ".build/debug/signet"),
        (["SIGNET_BIN": ".build/release/signet"], ".build/release/signet"),
    ] as [([String: String], String)])
    func relativeOrDefault(environment: [String: String], relative: String) {
        #expect(CommandRunner.binary(environment: environment) == RepositoryPaths.root.appendingPathComponent(relative))
    }

    @Test func absolutePathIsTakenAsIs() {
        let url = CommandRunner.binary(environment: ["SIGNET_BIN": "/opt/x86_64-unknown-linux-gnu/release/signet"])
        #expect(url.path == "/opt/x86_64-unknown-linux-gnu/release/signet")
    }
}
