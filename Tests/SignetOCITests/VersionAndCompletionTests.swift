import Foundation
import SignetTestSupport
import Testing

/// `signet version` (cosign's layout) and `signet completion SHELL`, through the built binary.
struct VersionAndCompletionTests {
    static let keys = ["GitVersion", "GitCommit", "GitTreeState", "BuildDate", "SwiftVersion", "Compiler", "Platform"]

    @Test func versionPrintsCosignsFieldsAligned() throws {
        let result = try CommandRunner.signet(["version"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let fieldLines = lines.filter { line in Self.keys.contains { line.hasPrefix($0 + ":") } }
        #expect(fieldLines.map { String($0.prefix { $0 != ":" }) } == Self.keys)
        // Values start in one column: the longest key, its colon, then two spaces (cosign's layout).
        let column = "GitTreeState:".count + 2
        for line in fieldLines {
            let value = line.dropFirst(column)
            #expect(!value.isEmpty && !value.hasPrefix(" "), "\(line)")
            #expect(line.prefix(column).hasSuffix(" "), "\(line)")
        }
        let value = { (key: String) in fieldLines.first { $0.hasPrefix(key + ":") }.map { String($0.dropFirst(column)) } }
        #expect(value("GitVersion")?.hasPrefix("v") == true)
        #expect(value("SwiftVersion")?.first?.isNumber == true)
        #expect(value("Compiler") == "swiftc")
        #if os(Linux) && arch(x86_64)
        #expect(value("Platform") == "linux/amd64")
        #endif
        let commit = try #require(value("GitCommit"))
        #expect(commit == "unknown" || (commit.count == 40 && commit.allSatisfy(\.isHexDigit)))
    }

    @Test func versionAsJSON() throws {
        let result = try CommandRunner.signet(["version", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String])
        #expect(Set(object.keys) == ["gitVersion", "gitCommit", "gitTreeState", "buildDate", "swiftVersion", "compiler", "platform"])
        let plain = try CommandRunner.signet(["--version"])
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == object["gitVersion"])
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(_ shell: String) throws {
        let result = try CommandRunner.signet(["completion", shell])
        #expect(result.status == 0, "\(result.stderr)")
        for word in ["signet", "sign-blob", "verify-blob", "copy", "prune", "version"] {
            #expect(result.stdout.contains(word), "\(shell) script lacks \(word)")
        }
        let generated = try CommandRunner.signet(["--generate-completion-script", shell]).stdout
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == generated.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func bashCompletionIsValidBash() throws {
        let script = try CommandRunner.signet(["completion", "bash"]).stdout
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("signet-completion-\(UUID().uuidString).bash")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try CommandRunner.run("/bin/bash", ["-n", file.path])
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test func unknownShellIsRefused() throws {
        let result = try CommandRunner.signet(["completion", "powershell"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown shell 'powershell'"))
    }
}
