import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The result of a finished command.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs short-lived commands (the built `signet` binary, `skopeo`) with a deadline.
public enum CommandRunner {
    /// The `signet` binary under test: `$SIGNET_BIN` when set (scripts/test passes the one built with its
    /// flags, from `swift build --show-bin-path`), else `.build/debug/signet` of this checkout.
    public static var signetBinary: URL { binary(environment: ProcessInfo.processInfo.environment) }

    /// The binary named by `SIGNET_BIN` in `environment` (a relative path is taken from the checkout's
    /// root), or `.build/debug/signet` when it is unset or empty.
    public static func binary(environment: [String: String]) -> URL {
        if let path = environment["SIGNET_BIN"], !path.isEmpty {
            return path.hasPrefix("/") ? URL(fileURLWithPath: path) : RepositoryPaths.root.appendingPathComponent(path)
        }
        return RepositoryPaths.root.appendingPathComponent(".build/debug/signet")
    }

    /// Runs the built `signet` binary; throws a message naming it when it has not been built.
    public static func signet(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: signetBinary.path) else {
            throw TestSupportError("the signet binary is missing at \(signetBinary.path): run `swift build` before these tests")
        }
        return try run(signetBinary.path, arguments, environment: environment, timeout: timeout)
    }

    /// Runs `executable` (a path, or a name looked up on PATH) and waits at most `timeout` seconds.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: TimeInterval = 120) throws -> CommandResult {
        guard let path = ManagedProcess.which(executable) else {
            throw TestSupportError("\(executable) is not installed (run scripts/install-deps): this test needs a real \(executable)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let dir = FileManager.default.temporaryDirectory
        let outURL = dir.appendingPathComponent("signet-cmd-\(UUID().uuidString).out")
        let errURL = dir.appendingPathComponent("signet-cmd-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout))s")
        }
        try? out.close()
        try? err.close()
        return CommandResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
