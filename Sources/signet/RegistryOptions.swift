import ArgumentParser
import Foundation
import SignetPrimitives
import Logging
import SignetOCI

/// Registry flags shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Flag(name: .long, help: "Allow plain HTTP and unverified TLS for non-loopback registries (loopback registries always use HTTP).")
    var allowInsecureRegistry = false

    @Option(name: .long, help: ArgumentHelp("Registry credentials: a docker config.json or a kubernetes.io/dockerconfigjson file (added to $DOCKER_CONFIG/config.json or ~/.docker/config.json).", valueName: "file"))
    var registryConfig: String?

    @Option(name: .long, help: ArgumentHelp("Timeout of one registry request, e.g. 30s, 3m, 1m30s, or seconds.", valueName: "duration"))
    var timeout: String = "60s"

    @Flag(name: .long, help: "Log registry requests (method, URL, status) to stderr.")
    var verbose = false

    func validate() throws {
        guard RegistryOptions.parseDuration(timeout) != nil else {
            throw ValidationError("invalid --timeout \"\(timeout)\" (examples: 30s, 3m, 1m30s, 90)")
        }
    }

    /// Builds the registry client from the flags, `$DOCKER_CONFIG/config.json` (or
    /// `~/.docker/config.json`) and `--registry-config`.
    func makeClient(transport: RegistryTransport = .shared) throws -> RegistryClient {
        var configuration = RegistryClient.Configuration(allowInsecure: allowInsecureRegistry)
        if let t = RegistryOptions.parseDuration(timeout) { configuration.requestTimeout = t }
        if verbose {
            var logger = Logger(label: "signet.oci") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .debug
            configuration.logger = logger
        }
        return RegistryClient(configuration: configuration, credentials: try RegistryOptions.loadCredentials(extraFile: registryConfig),
                              transport: transport)
    }

    /// The credentials of the docker config (if it exists) merged with `extraFile` (which wins).
    static func loadCredentials(extraFile: String?) throws -> CredentialStore {
        var store = CredentialStore.anonymous
        let env = ProcessInfo.processInfo.environment
        let configDir = env["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker")
        let defaultFile = configDir.appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: defaultFile.path) {
            store = try CredentialStore(dockerConfigFile: defaultFile)
        }
        if let extraFile {
            guard FileManager.default.fileExists(atPath: extraFile) else {
                throw CLIError("registry config file \(extraFile) does not exist")
            }
            store = store.merging(try CredentialStore(dockerConfigFile: URL(fileURLWithPath: extraFile)))
        }
        return store
    }

    /// Go-style durations (`90s`, `3m`, `1h2m3s`, `500ms`) or plain seconds; positive, at most a day.
    static func parseDuration(_ text: String) -> Duration? {
        let duration: Duration
        if let seconds = Double(text), seconds.isFinite {
            guard seconds > 0, seconds <= 86_400 else { return nil }
            duration = .milliseconds(Int64(seconds * 1000))
        } else if let parsed = try? GoDuration(parsing: text) {
            duration = parsed.swiftDuration
        } else {
            return nil
        }
        guard duration > .zero, duration <= .seconds(86_400) else { return nil }
        return duration
    }
}

extension Reference {
    /// Parses a command-line image reference, turning the error into `Error: ...` text.
    static func cli(_ text: String) throws -> Reference {
        do { return try Reference(parsing: text) } catch let e as SignetOCIError { throw CLIError(e.message) }
    }
}
