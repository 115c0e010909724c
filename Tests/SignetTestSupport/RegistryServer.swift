import Foundation

/// A real registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a free loopback
/// port with storage in a temporary directory and deletes enabled. `stop()` ends it and removes the
/// directory.
public final class RegistryServer: @unchecked Sendable {
    /// How clients must authenticate.
    public enum Auth: Sendable {
        case open
        /// htpasswd (bcrypt) Basic auth with one user.
        case basic(username: String, password: String)
        /// distribution's `auth: token` trusting `TokenIssuer`'s certificate.
        case token(TokenIssuer)
    }

    public let port: Int
    public let directory: URL
    private let process: ManagedProcess

    /// `127.0.0.1:PORT`, the registry part of references.
    public var host: String { "127.0.0.1:\(port)" }
    /// The registry's log so far.
    public var log: String { process.output }

    public init(auth: Auth = .open) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("signet-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("storage"), withIntermediateDirectories: true)
        port = try ManagedProcess.freeLoopbackPort()
        var authSection = ""
        switch auth {
        case .open:
            break
        case .basic(let username, let password):
            guard let htpasswd = ManagedProcess.which("htpasswd") else {
                throw TestSupportError("htpasswd is not installed (apt-get install apache2-utils): this test needs it for a Basic-auth registry")
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: htpasswd)
            p.arguments = ["-Bbn", username, password]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let line = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestSupportError("htpasswd -Bbn failed") }
            let file = directory.appendingPathComponent("htpasswd")
            try line.write(to: file)
            authSection = """
            auth:
              htpasswd:
                realm: signet-test
                path: \(file.path)

            """
        case .token(let issuer):
            let bundle = directory.appendingPathComponent("token-root.pem")
            try Data(issuer.certificatePEM.utf8).write(to: bundle)
            authSection = """
            auth:
              token:
                realm: \(issuer.realm)
                service: \(issuer.service)
                issuer: \(issuer.issuer)
                rootcertbundle: \(bundle.path)

            """
        }
        let config = """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(directory.appendingPathComponent("storage").path)
          delete:
            enabled: true
          cache:
            blobdescriptor: inmemory
        http:
          addr: 127.0.0.1:\(port)
          secret: signet-test-\(UUID().uuidString)
        \(authSection)
        """
        let configFile = directory.appendingPathComponent("config.yml")
        try Data(config.utf8).write(to: configFile)
        process = try ManagedProcess("docker-registry", arguments: ["serve", configFile.path])
        do { try process.waitForPort(port) } catch {
            process.stop()
            throw error
        }
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
