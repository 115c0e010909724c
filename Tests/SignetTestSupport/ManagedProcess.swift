import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A server process started by a test; `stop()` ends it (also on deinit).
public final class ManagedProcess: @unchecked Sendable {
    public let process: Process
    public let name: String
    public let logURL: URL

    /// Starts `executable` (looked up on PATH) with its output captured in a temporary log file.
    /// Fails with a message naming the program when it is not installed.
    public init(_ executable: String, arguments: [String], environment: [String: String] = [:],
                currentDirectory: URL? = nil) throws {
        guard let path = ManagedProcess.which(executable) else {
            throw TestSupportError("\(executable) is not installed (run scripts/install-deps): this test needs a real \(executable)")
        }
        name = executable
        let base = (executable as NSString).lastPathComponent
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("signet-\(base)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The captured stdout+stderr so far.
    public var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    public func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    deinit { stop(); try? FileManager.default.removeItem(at: logURL) }

    /// The full path of `executable` on PATH (and pip's script folders), or nil.
    public static func which(_ executable: String) -> String? {
        if executable.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: executable) ? executable : nil }
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/root/.local/bin", "/root/.pyenv/shims"]
        for dir in dirs {
            let candidate = dir + "/" + executable
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Waits until something accepts TCP connections on 127.0.0.1:`port`, or throws after `timeout`.
    public func waitForPort(_ port: Int, timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw TestSupportError("\(name) exited early (status \(process.terminationStatus)): \(output.suffix(2000))")
            }
            if ManagedProcess.canConnect(port: port) { return }
            usleep(50_000)
        }
        throw TestSupportError("\(name) did not listen on 127.0.0.1:\(port) within \(Int(timeout))s: \(output.suffix(2000))")
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } } == 0
    }
}

/// A failure of the test support code (a missing binary, a server that did not start).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Paths of the repository and of ../shared beside it.
public enum RepositoryPaths {
    /// The checkout's root, from this file's path (Tests/SignetTestSupport/ManagedProcess.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// ../shared beside the checkout: conformance corpus, cosign vectors, formats.
    public static let shared: URL = root.deletingLastPathComponent().appendingPathComponent("shared")
}
