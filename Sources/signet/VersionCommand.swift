import ArgumentParser
import Foundation

/// `signet version [--json]`: the build's version, commit, Swift version and platform, laid out as
/// `cosign version` prints them (sigstore release-utils `version.Info`: aligned `Key:  value` lines,
/// or the same fields as JSON with `--json`).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version, commit, Swift version and platform.")

    @Flag(name: .long, help: "Print the fields as JSON.")
    var json = false

    func run() throws {
        let info = VersionInfo.current
        print(json ? info.json : info.text)
    }
}

/// What `signet version` reports.
struct VersionInfo: Sendable, Equatable {
    var gitVersion: String
    var gitCommit: String
    var gitTreeState: String
    var buildDate: String
    var swiftVersion: String
    var compiler: String
    var platform: String

    static var current: VersionInfo {
        VersionInfo(gitVersion: BuildInfo.version, gitCommit: BuildInfo.gitCommit, gitTreeState: BuildInfo.gitTreeState,
                    buildDate: BuildInfo.buildDate, swiftVersion: swiftLanguageVersion, compiler: "swiftc",
                    platform: "\(operatingSystem)/\(architecture)")
    }

    /// The fields in cosign's order, with its names (`GoVersion` becomes `SwiftVersion`).
    var fields: [(key: String, jsonKey: String, value: String)] {
        [("GitVersion", "gitVersion", gitVersion), ("GitCommit", "gitCommit", gitCommit),
         ("GitTreeState", "gitTreeState", gitTreeState), ("BuildDate", "buildDate", buildDate),
         ("SwiftVersion", "swiftVersion", swiftVersion), ("Compiler", "compiler", compiler),
         ("Platform", "platform", platform)]
    }

    /// `signet: ...` then `Key:  value` lines aligned on the longest key plus two spaces, as cosign.
    var text: String {
        let width = (fields.map(\.key.count).max() ?? 0) + 2
        var lines = ["signet: sign container images, verify them, and enforce Kyverno policies on Kubernetes.", ""]
        for field in fields {
            lines.append((field.key + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + field.value)
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var object: [String: String] = [:]
        for field in fields { object[field.jsonKey] = field.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    static var swiftLanguageVersion: String {
        #if swift(>=6.5)
        return "6.5+"
        #elseif swift(>=6.4)
        return "6.4"
        #elseif swift(>=6.3)
        return "6.3"
        #elseif swift(>=6.2)
        return "6.2"
        #elseif swift(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    static var operatingSystem: String {
        #if os(Linux)
        return "linux"
        #elseif os(macOS)
        return "darwin"
        #else
        return "unknown"
        #endif
    }

    /// Go's GOARCH names, as cosign prints them.
    static var architecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }
}

/// `signet completion bash|zsh|fish`: the shell completion script (swift-argument-parser's
/// generator, the same as `signet --generate-completion-script SHELL`).
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print a shell completion script.",
        discussion: """
            bash: signet completion bash > /etc/bash_completion.d/signet
            zsh:  signet completion zsh > "${fpath[1]}/_signet"
            fish: signet completion fish > ~/.config/fish/completions/signet.fish
            """)

    @Argument(help: ArgumentHelp("The shell: bash, zsh or fish.", valueName: "shell"))
    var shell: String

    func validate() throws {
        guard CompletionShell(rawValue: shell) != nil else {
            throw ValidationError("unknown shell '\(shell)': use bash, zsh or fish")
        }
    }

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else { throw CLIError("unknown shell '\(shell)'") }
        print(Signet.completionScript(for: kind))
    }
}
