import Foundation
import SignetSigning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How commands turn `--key` into a signer or verifier: the one key-provider registry of the
/// program (files and `env://` from SignetSigning, KMS schemes from `KMSOptions`), with passwords
/// from `COSIGN_PASSWORD` or the terminal.
enum KeyOptions {
    /// The registry every command uses.
    static func registry(environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyProviderRegistry {
        var registry = KeyProviderRegistry.local(environment: environment) { request in
            try Passwords.forExistingKey(request.reference, environment: environment)
        }
        registerKMSProviders(into: &registry, environment: environment)
        return registry
    }

    /// Registers the KMS schemes (`hashivault://`, `openbao://`, FORMATS.md section 3) through
    /// `KMSOptions`; nothing is read or contacted until a command uses such a key.
    static func registerKMSProviders(into registry: inout KeyProviderRegistry, environment: [String: String]) {
        KMSOptions.register(into: &registry, environment: environment)
    }

    /// A signer for `--key`.
    static func signer(for key: String) async throws -> any SignatureSigner {
        try await registry().signer(for: KeyReference(parsing: key))
    }

    /// A verifier for `--key` (public key, certificate, or the public half of a private key).
    static func verifier(for key: String) async throws -> any SignatureVerifier {
        try await registry().verifier(for: KeyReference(parsing: key))
    }
}

/// Passwords for cosign key files, as cosign gets them: `COSIGN_PASSWORD` when set (empty
/// allowed); else, on a terminal, asked without echo (twice for a new key); else the whole of a
/// piped standard input (`echo -n pw | signet ...`), unmodified. Never logged.
enum Passwords {
    static let variable = "COSIGN_PASSWORD"
    /// Piped passwords longer than this are refused.
    static let maximumPipedLength = 64 * 1024

    /// The password to decrypt an existing key.
    static func forExistingKey(_ reference: KeyReference, environment: [String: String]) throws -> Data {
        if let value = environment[variable] { return Data(value.utf8) }
        guard Terminal.isInteractive else { return try Terminal.readPipedInput(limit: maximumPipedLength) }
        return try Terminal.readSecret(prompt: "Enter password for private key: ")
    }

    /// The password for a new key: asked twice on the terminal, both must match.
    static func forNewKey(environment: [String: String]) throws -> Data {
        if let value = environment[variable] { return Data(value.utf8) }
        guard Terminal.isInteractive else { return try Terminal.readPipedInput(limit: maximumPipedLength) }
        let first = try Terminal.readSecret(prompt: "Enter password for private key: ")
        let second = try Terminal.readSecret(prompt: "Enter password for private key again: ")
        guard first == second else { throw CLIError("passwords do not match") }
        return first
    }
}

/// Reading a secret from the terminal with echo off (termios), as cosign does.
enum Terminal {
    /// Whether standard input is a terminal.
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// All of standard input (a piped password), at most `limit` bytes.
    static func readPipedInput(limit: Int) throws -> Data {
        let data: Data
        do {
            data = try FileHandle.standardInput.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw CLIError("cannot read the password from standard input: \(error)")
        }
        guard data.count <= limit else {
            throw CLIError("the password piped on standard input is longer than \(limit) bytes")
        }
        return data
    }

    /// Reads one line from the terminal on standard input with echo turned off; the prompt goes
    /// to stderr.
    static func readSecret(prompt: String) throws -> Data {
        guard isInteractive else {
            throw CLIError("no password: set \(Passwords.variable) or run in a terminal")
        }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
            throw CLIError("cannot read the terminal settings to turn off echo")
        }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        guard tcsetattr(STDIN_FILENO, TCSANOW, &silent) == 0 else {
            throw CLIError("cannot turn off terminal echo")
        }
        defer { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        // Prompt only once echo is off, so that an answer typed right after it is never shown.
        FileHandle.standardError.write(Data(prompt.utf8))
        var line = [UInt8]()
        var byte: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return Data(line)
    }
}

/// Writing key files: no silent overwrite, exact modes whatever the umask.
enum KeyFiles {
    /// Fails when any of `paths` exists and `force` is off.
    static func checkCanWrite(_ paths: [String], force: Bool) throws {
        guard !force else { return }
        for path in paths where FileManager.default.fileExists(atPath: path) {
            throw CLIError("\(path) already exists: remove it or pass --force to overwrite")
        }
    }

    /// Writes `contents` to `path` with `mode`. Without `force` the file must not exist (O_EXCL);
    /// with it, a temporary file is renamed over the old one.
    static func write(_ contents: String, to path: String, mode: mode_t, force: Bool) throws {
        let target = force ? path + ".tmp-\(getpid())" : path
        let flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL)
        let fd = open(target, flags, mode)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST { throw CLIError("\(path) already exists: remove it or pass --force to overwrite") }
            throw CLIError("cannot write \(path): \(reason)")
        }
        var ok = fchmod(fd, mode) == 0
        if ok {
            do {
                try FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(contentsOf: Data(contents.utf8))
            } catch {
                ok = false
            }
        }
        ok = (fsync(fd) == 0) && ok
        close(fd)
        if ok && force { ok = rename(target, path) == 0 }
        guard ok else {
            let reason = String(cString: strerror(errno))
            unlink(target)
            throw CLIError("cannot write \(path): \(reason)")
        }
    }
}
