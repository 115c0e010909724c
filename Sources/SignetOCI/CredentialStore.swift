import Foundation
import Synchronization

/// A registry login: user name and password (or an identity/refresh token). Its description never
/// shows the secret.
public struct Credential: Hashable, Sendable, CustomStringConvertible {
    public var username: String
    public var password: String
    /// An OAuth2 refresh token (docker config `identitytoken`), used instead of the password.
    public var identityToken: String?

    public init(username: String, password: String, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }

    public var description: String { "Credential(username: \(username), password: <redacted>)" }
}

/// Where registry credentials come from: docker `config.json` (`auths`, `credsStore`,
/// `credHelpers`) and `kubernetes.io/dockerconfigjson` files. The caller reads the files (the
/// library never looks at the environment); credential helpers run as `docker-credential-NAME get`.
public struct CredentialStore: Sendable {
    /// Explicit credentials keyed by normalized registry host.
    public private(set) var auths: [String: Credential]
    /// Default helper (`credsStore`).
    public private(set) var credsStore: String?
    /// Per-registry helpers (`credHelpers`), keyed by normalized registry host.
    public private(set) var credHelpers: [String: String]
    /// Runs a credential helper: (helper name, server URL) -> credential or nil. Replaceable in tests.
    public var helperRunner: @Sendable (String, String) async throws -> Credential?

    /// No credentials at all: every registry is accessed anonymously.
    public static let anonymous = CredentialStore()

    public init(auths: [String: Credential] = [:], credsStore: String? = nil, credHelpers: [String: String] = [:]) {
        self.auths = [:]
        for (k, v) in auths { self.auths[CredentialStore.normalizeKey(k)] = v }
        self.credsStore = credsStore
        self.credHelpers = [:]
        for (k, v) in credHelpers { self.credHelpers[CredentialStore.normalizeKey(k)] = v }
        self.helperRunner = CredentialStore.runHelper
    }

    /// Parses a docker `config.json`, a `.dockerconfigjson` value, a whole `kubernetes.io/dockerconfigjson`
    /// Secret as JSON, or a legacy `.dockercfg` map.
    public init(dockerConfig data: Data) throws {
        self.init()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SignetOCIError(.credentials, "registry config is not a json object")
        }
        var root = object
        // A Kubernetes Secret: data[".dockerconfigjson"] (base64) or stringData.
        if let kind = root["kind"] as? String, kind == "Secret" {
            if let d = root["data"] as? [String: Any], let b64 = (d[".dockerconfigjson"] ?? d[".dockercfg"]) as? String,
               let decoded = Data(base64Encoded: b64),
               let inner = try? JSONSerialization.jsonObject(with: decoded) as? [String: Any] {
                root = inner
            } else if let d = root["stringData"] as? [String: Any], let s = (d[".dockerconfigjson"] ?? d[".dockercfg"]) as? String,
                      let inner = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] {
                root = inner
            } else {
                throw SignetOCIError(.credentials, "secret has no .dockerconfigjson data")
            }
        }
        let authMap: [String: Any]
        if let a = root["auths"] as? [String: Any] {
            authMap = a
        } else if root["credsStore"] == nil && root["credHelpers"] == nil {
            authMap = root // legacy .dockercfg: hosts at top level
        } else {
            authMap = [:]
        }
        for (key, value) in authMap {
            guard let entry = value as? [String: Any] else { continue }
            var username = entry["username"] as? String ?? ""
            var password = entry["password"] as? String ?? ""
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw SignetOCIError(.credentials, "registry config: the auth entry for \(CredentialStore.normalizeKey(key)) is not base64 of user:password")
                }
                username = String(decoded[..<colon])
                password = String(decoded[decoded.index(after: colon)...])
            }
            let identity = (entry["identitytoken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if username.isEmpty && password.isEmpty && identity == nil { continue }
            auths[CredentialStore.normalizeKey(key)] = Credential(username: username, password: password, identityToken: identity)
        }
        if let store = root["credsStore"] as? String, !store.isEmpty { credsStore = store }
        if let helpers = root["credHelpers"] as? [String: Any] {
            for (k, v) in helpers { if let name = v as? String { credHelpers[CredentialStore.normalizeKey(k)] = name } }
        }
    }

    /// Reads and parses a docker config or dockerconfigjson file at `url` (path given by the caller).
    public init(dockerConfigFile url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SignetOCIError(.credentials, "cannot read registry config \(url.path)")
        }
        do { try self.init(dockerConfig: data) } catch let e as SignetOCIError {
            throw SignetOCIError(.credentials, "\(url.path): \(e.message)")
        }
    }

    /// This store with `other`'s entries added; `other` wins where both have one.
    public func merging(_ other: CredentialStore) -> CredentialStore {
        var result = self
        for (k, v) in other.auths { result.auths[k] = v }
        for (k, v) in other.credHelpers { result.credHelpers[k] = v }
        if let s = other.credsStore { result.credsStore = s }
        return result
    }

    /// The credential for `registry` (a normalized host such as `index.docker.io` or `localhost:5000`):
    /// `credHelpers` first, then `auths`, then `credsStore`; nil means anonymous.
    public func credential(for registry: String) async throws -> Credential? {
        let key = CredentialStore.normalizeKey(registry)
        let serverURL = key == Reference.dockerHubRegistry ? "https://index.docker.io/v1/" : key
        if let helper = credHelpers[key] { return try await helperRunner(helper, serverURL) }
        if let c = auths[key] { return c }
        if let store = credsStore { return try await helperRunner(store, serverURL) }
        return nil
    }

    /// Normalizes a config key: drops scheme and path, maps Docker Hub aliases to `index.docker.io`.
    public static func normalizeKey(_ key: String) -> String {
        var k = Substring(key.lowercased())
        if let r = k.range(of: "://") { k = k[r.upperBound...] }
        if let slash = k.firstIndex(of: "/") { k = k[..<slash] }
        switch k {
        case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return Reference.dockerHubRegistry
        default: return String(k)
        }
    }

    /// The docker-credential-helpers protocol: `docker-credential-NAME get`, server URL on stdin,
    /// `{"ServerURL","Username","Secret"}` on stdout; a "not found" answer means no credential.
    @Sendable public static func runHelper(_ name: String, _ serverURL: String) async throws -> Credential? {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw SignetOCIError(.credentials, "invalid credential helper name \"\(name)\"")
        }
        let program = "docker-credential-" + name
        return try await runHelperProgram(URL(fileURLWithPath: "/usr/bin/env"), arguments: [program, "get"],
                                          displayName: program, serverURL: serverURL)
    }

    /// Runs one credential helper executable (`executable arguments…`) with `serverURL` on stdin.
    /// stdout and stderr are drained concurrently so a helper that writes much to stderr before answering
    /// cannot fill a pipe and block; at most `outputLimit` bytes of stdout are accepted (more is an error)
    /// and at most 64 KiB of stderr are kept (the rest is read and dropped). A helper still running after
    /// `timeout` is terminated (SIGTERM, then SIGKILL a second later) and the call fails.
    public static func runHelperProgram(_ executable: URL, arguments: [String], displayName: String,
                                        serverURL: String, timeout: Duration = .seconds(30),
                                        outputLimit: Int = 1 << 20) async throws -> Credential? {
        let program = displayName
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Credential?, any Error>) in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments
                let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                process.standardInput = stdin
                process.standardOutput = stdout
                process.standardError = stderr
                // The server URL goes into the pipe before the helper starts (it fits the pipe buffer), so a
                // helper that exits without reading stdin can never cause EPIPE/SIGPIPE here.
                try? stdin.fileHandleForWriting.write(contentsOf: Data(serverURL.utf8.prefix(4096)))
                try? stdin.fileHandleForWriting.close()
                do { try process.run() } catch {
                    cont.resume(throwing: SignetOCIError(.credentials, "cannot run credential helper \(program)", underlying: error))
                    return
                }
                let flags = HelperRunFlags()
                let stop: @Sendable () -> Void = {
                    guard process.isRunning else { return }
                    process.terminate()
                    DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                    }
                }
                // Both streams are read at once, each on its own thread: reading one to the end first lets
                // a chatty helper block on the other (full pipe) until the timeout.
                let out = BoundedPipeReader(stdout.fileHandleForReading, keep: outputLimit) {
                    flags.set(\.outputTooLarge); stop()
                }
                let err = BoundedPipeReader(stderr.fileHandleForReading, keep: 64 << 10, onOverflow: nil)
                // A helper that hangs (e.g. waiting for a keychain prompt) is stopped after `timeout`.
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds)) {
                    if process.isRunning { flags.set(\.timedOut); stop() }
                }
                let outData = out.wait()
                let errData = err.wait()
                process.waitUntilExit()
                if flags.get(\.outputTooLarge) {
                    cont.resume(throwing: SignetOCIError(.credentials, "credential helper \(program) wrote more than \(outputLimit) bytes"))
                    return
                }
                if flags.get(\.timedOut) {
                    cont.resume(throwing: SignetOCIError(.credentials, "credential helper \(program) did not answer within \(timeout)"))
                    return
                }
                if process.terminationStatus != 0 {
                    let text = (String(data: outData + errData, encoding: .utf8) ?? "").lowercased()
                    if process.terminationStatus == 127 {
                        cont.resume(throwing: SignetOCIError(.credentials, "credential helper \(program) is not installed"))
                    } else if text.contains("credentials not found") || text.contains("not found") {
                        cont.resume(returning: nil)
                    } else {
                        cont.resume(throwing: SignetOCIError(.credentials, "credential helper \(program) failed with status \(process.terminationStatus)"))
                    }
                    return
                }
                struct Answer: Decodable { let Username: String?; let Secret: String? }
                guard let answer = try? JSONDecoder().decode(Answer.self, from: outData) else {
                    cont.resume(throwing: SignetOCIError(.credentials, "credential helper \(program) returned invalid json"))
                    return
                }
                let user = answer.Username ?? "", secret = answer.Secret ?? ""
                if user.isEmpty && secret.isEmpty { cont.resume(returning: nil); return }
                if user == "<token>" {
                    cont.resume(returning: Credential(username: "", password: "", identityToken: secret))
                } else {
                    cont.resume(returning: Credential(username: user, password: secret))
                }
            }
        }
    }
}

/// What happened to a helper run, set from the timer and reader threads.
private final class HelperRunFlags: Sendable {
    struct Values { var timedOut = false; var outputTooLarge = false }
    private let values = Mutex(Values())
    func set(_ flag: WritableKeyPath<Values, Bool>) { values.withLock { $0[keyPath: flag] = true } }
    func get(_ flag: WritableKeyPath<Values, Bool>) -> Bool { values.withLock { $0[keyPath: flag] } }
}

/// Reads a pipe to its end on a thread of its own, keeping at most `keep` bytes; `onOverflow` (once)
/// when more arrives. The data is published by the semaphore in `wait()`.
private final class BoundedPipeReader: Sendable {
    private let data = Mutex(Data())
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle, keep: Int, onOverflow: (@Sendable () -> Void)?) {
        DispatchQueue.global().async { [self] in
            var overflowed = false
            while let chunk = try? handle.read(upToCount: 64 << 10), !chunk.isEmpty {
                let truncated = data.withLock { kept -> Bool in
                    let room = max(0, keep - kept.count)
                    kept.append(chunk.prefix(room))
                    return chunk.count > room
                }
                if truncated, !overflowed { overflowed = true; onOverflow?() }
            }
            done.signal()
        }
    }

    /// The bytes kept, once the pipe is closed by the helper (and every process it started).
    func wait() -> Data {
        done.wait()
        return data.withLock { $0 }
    }
}
