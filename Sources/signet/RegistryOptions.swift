import ArgumentParser
import Foundation
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
    func makeClient() throws -> RegistryClient {
        var configuration = RegistryClient.Configuration(allowInsecure: allowInsecureRegistry)
        if let t = RegistryOptions.parseDuration(timeout) { configuration.requestTimeout = t }
        if verbose {
            var logger = Logger(label: "signet.oci") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .debug
            configuration.logger = logger
        }
        return RegistryClient(configuration: configuration, credentials: try RegistryOptions.loadCredentials(extraFile: registryConfig))
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

    /// Go-style durations (`90s`, `3m`, `1h2m3s`, `500ms`) or plain seconds.
    static func parseDuration(_ text: String) -> Duration? {
        if let seconds = Double(text), seconds > 0 { return .milliseconds(Int(seconds * 1000)) }
        var total = 0.0
        var number = ""
        var chars = Array(text)
        var i = 0
        guard !chars.isEmpty else { return nil }
        chars.append(" ")
        while i < chars.count - 1 {
            let c = chars[i]
            if c.isNumber || c == "." { number.append(c); i += 1; continue }
            guard let value = Double(number) else { return nil }
            number = ""
            let unit: Double
            if c == "m" && chars[i + 1] == "s" { unit = 0.001; i += 2 }
            else if c == "h" { unit = 3600; i += 1 }
            else if c == "m" { unit = 60; i += 1 }
            else if c == "s" { unit = 1; i += 1 }
            else { return nil }
            total += value * unit
        }
        guard number.isEmpty, total > 0 else { return nil }
        return .milliseconds(Int(total * 1000))
    }
}

extension Reference {
    /// Parses a command-line image reference, turning the error into `Error: ...` text.
    static func cli(_ text: String) throws -> Reference {
        do { return try Reference(parsing: text) } catch let e as SignetOCIError { throw CLIError(e.message) }
    }
}
