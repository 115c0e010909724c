import Foundation
import Testing
import SignetTestSupport

/// `--type` of `triangulate` and `clean` is a closed set parsed by the argument parser.
@Suite struct ArtifactTypeCLITests {
    @Test(arguments: [["triangulate", "--type", "bogus", "r.local/app@sha256:" + String(repeating: "a", count: 64)],
                      ["clean", "--type", "bogus", "-f", "r.local/app@sha256:" + String(repeating: "a", count: 64)]])
    func unknownTypeIsAUsageError(_ arguments: [String]) throws {
        let result = try CommandRunner.signet(arguments, timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--type"), "\(result.stderr)")
    }

    /// Known words and cosign's tag suffixes parse (the command then fails on the unreachable registry,
    /// not on the option).
    @Test(arguments: ["signature", "sig", "ATT", "sbom", "digest"])
    func knownTriangulateTypesParse(_ type: String) throws {
        let result = try CommandRunner.signet(["triangulate", "--type", type, "127.0.0.1:1/app:v1"], timeout: 60)
        #expect(result.status != 64, "\(result.stderr)")
        #expect(!result.stderr.contains("--type"), "\(result.stderr)")
    }
}
