import Foundation
import SignetOCI
import SignetSigning
import SignetTestSupport

/// A registry with a client, for one test.
struct SignatureTestRegistry {
    let server: RegistryServer
    let client: RegistryClient

    init() throws {
        server = try RegistryServer()
        client = RegistryClient()
    }

    /// Pushes a fresh random image as `repo:tag`; returns its digest reference and the image.
    func pushImage(_ repo: String = "app", tag: String = "v1") async throws -> (Reference, TestImage) {
        let image = TestImage(layerCount: 1, layerSize: 64)
        let tagRef = try Reference(parsing: "\(server.host)/\(repo):\(tag)")
        try await client.pushImage(manifest: image.manifestBytes, mediaType: .ociManifest, blobs: image.blobs, to: tagRef)
        return (tagRef.withDigest(image.digest), image)
    }

    var store: SignatureStore { SignatureStore(client: client, settleDelay: .milliseconds(20)) }

    /// Pushes a hand-made signature image for `image` (for tamper cases), replacing the tag.
    func putSignatureImage(_ sigImage: SignatureImage, blobs: [Data], for image: Reference,
                           signatureRepository: SignatureRepository? = nil) async throws {
        let target = try SignatureStore.signatureReference(image: image, digest: image.digest!, signatureRepository: signatureRepository)
        for blob in blobs { try await client.pushBlob(blob, to: target.repositoryOnly) }
        let (manifest, config) = sigImage.encoded()
        try await client.pushBlob(config, to: target.repositoryOnly)
        try await client.putManifest(manifest, mediaType: .ociManifest, to: target)
    }

    func verify(_ image: Reference, key: any SignatureVerifier, annotations: [String: String] = [:],
                signatureRepository: SignatureRepository? = nil) async throws -> VerificationOutcome {
        try await ImageSignatureVerifier().verify(image: image, verifier: key, annotations: annotations,
                                                  signatureRepository: signatureRepository, client: client)
    }
}

/// The built `signet` binary (from `swift build`), or a failure naming it.
func signetBinary() throws -> URL {
    let url = CommandRunner.signetBinary
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw TestSupportError("the signet binary is missing at \(url.path): run `swift build` first")
    }
    return url
}

struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program and collects its output.
func runProgram(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes concurrently so neither fills up.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A temporary directory removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("signet-sig-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
