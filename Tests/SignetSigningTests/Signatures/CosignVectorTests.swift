import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// The cases under ../shared/vectors/cosign (made by cosign itself): each ends as its `expect` says.
func cosignVectorCases() -> [String] {
    let dir = RepositoryPathsForSigning.vectors
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).appendingPathComponent("expect").path) }.sorted()
}

@Test func cosignVectorsArePresent() {
    #expect(cosignVectorCases().count >= 2, "no vectors found under \(RepositoryPathsForSigning.vectors.path)")
}

@Test(arguments: cosignVectorCases())
func cosignVector(_ name: String) async throws {
    try await checkCosignVector(RepositoryPathsForSigning.vectors.appendingPathComponent(name))
}

/// Runs one vector directory (`expect`, `key.pub`, `layout/`) and checks it ends as `expect` says.
func checkCosignVector(_ dir: URL) async throws {
    let name = dir.lastPathComponent
    let expect = try String(contentsOf: dir.appendingPathComponent("expect"), encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let key = try PublicKey(pemRepresentation: String(contentsOf: dir.appendingPathComponent("key.pub"), encoding: .utf8))
    let layout = try OCILayout(opening: dir.appendingPathComponent("layout"))
    let outcome = try await ImageSignatureVerifier().verify(layout: layout, verifier: key)
    switch expect {
    case "verified":
        #expect(outcome.kind == .verified, "\(name): \(outcome.message)")
        #expect(outcome.signatures.allSatisfy { $0.format == .cosign })
    case "rejected":
        #expect(outcome.kind == .noMatchingSignatures, "\(name) should be rejected: \(outcome.message)")
        #expect(outcome.signatures.isEmpty)
        #expect(!outcome.rejections.isEmpty, "\(name): no rejection recorded")
    default:
        Issue.record("unknown expectation '\(expect)' in \(name)")
    }
}

/// Rejected vectors made at test time from the `valid` one (cosign-made), so that the "rejected"
/// branch above runs: a payload changed after signing, a layout whose image is another digest than
/// the one signed, and a key that did not sign.
enum DerivedRejectedVector: String, CaseIterable, Sendable {
    case tamperedPayload = "tampered-payload"
    case otherDigest = "other-digest"
    case otherKey = "other-key"

    /// Copies `valid` into a fresh temporary directory and alters it; `expect` is `rejected`.
    func make() throws -> URL {
        let fm = FileManager.default
        let source = RepositoryPathsForSigning.vectors.appendingPathComponent("valid")
        let root = fm.temporaryDirectory.appendingPathComponent("signet-vector-\(UUID().uuidString)")
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let dir = root.appendingPathComponent(rawValue)
        try fm.copyItem(at: source, to: dir)
        try Data("rejected\n".utf8).write(to: dir.appendingPathComponent("expect"))
        let layout = dir.appendingPathComponent("layout")
        let index = try String(contentsOf: layout.appendingPathComponent("index.json"), encoding: .utf8)
        let entries = try JSONDecoder().decode(Index.self, from: Data(index.utf8)).manifests
        let image = try #require(entries.first { $0.annotations["kind"] == "dev.cosignproject.cosign/image" })
        let sigs = try #require(entries.first { $0.annotations["kind"] == "dev.cosignproject.cosign/sigs" })
        switch self {
        case .tamperedPayload:
            // Same size, one identity byte changed: the payload still parses and names the image, but
            // the signature over it no longer verifies.
            let manifest = try String(decoding: blob(layout, sigs.digest), as: UTF8.self)
            let layer = try #require(try JSONDecoder().decode(Manifest.self, from: Data(manifest.utf8)).layers.first).digest
            let payload = try String(decoding: blob(layout, layer), as: UTF8.self)
            let tampered = payload.replacingOccurrences(of: "single-sample\"", with: "single-sampl3\"")
            #expect(tampered != payload && tampered.utf8.count == payload.utf8.count)
            let newLayer = try write(layout, Data(tampered.utf8))
            let newManifest = try write(layout, Data(manifest.replacingOccurrences(of: layer, with: newLayer).utf8))
            try rewriteIndex(layout, index.replacingOccurrences(of: sigs.digest, with: newManifest))
        case .otherDigest:
            // Another image manifest (one byte more): the signature names the original digest.
            let bytes = try blob(layout, image.digest) + Data("\n".utf8)
            let newImage = try write(layout, bytes)
            try rewriteIndex(layout, index.replacingOccurrences(of: image.digest, with: newImage)
                .replacingOccurrences(of: "\"size\": \(image.size),", with: "\"size\": \(bytes.count),"))
        case .otherKey:
            let other = RepositoryPathsForSigning.vectors.appendingPathComponent("cosign-test-sigstore.pub")
            try fm.removeItem(at: dir.appendingPathComponent("key.pub"))
            try fm.copyItem(at: other, to: dir.appendingPathComponent("key.pub"))
        }
        return dir
    }

    private struct Index: Decodable { let manifests: [Entry] }
    private struct Entry: Decodable { let digest: String; let size: Int; let annotations: [String: String] }
    private struct Manifest: Decodable { let layers: [Layer] }
    private struct Layer: Decodable { let digest: String }

    private func blob(_ layout: URL, _ digest: String) throws -> Data {
        try Data(contentsOf: layout.appendingPathComponent("blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "")))
    }

    /// Stores `data` as a blob and returns its `sha256:` digest.
    private func write(_ layout: URL, _ data: Data) throws -> String {
        let digest = Digest.sha256(data).description
        try data.write(to: layout.appendingPathComponent("blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "")))
        return digest
    }

    private func rewriteIndex(_ layout: URL, _ text: String) throws {
        try Data(text.utf8).write(to: layout.appendingPathComponent("index.json"))
    }
}

@Test(arguments: DerivedRejectedVector.allCases)
func derivedVectorIsRejected(_ vector: DerivedRejectedVector) async throws {
    let dir = try vector.make()
    defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
    try await checkCosignVector(dir)
}

@Test func vectorWithAnotherKeyIsNoMatchingSignature() async throws {
    let dir = RepositoryPathsForSigning.vectors
    let other = try PublicKey(pemRepresentation: String(contentsOf: dir.appendingPathComponent("cosign-test-sigstore.pub"), encoding: .utf8))
    let outcome = try await ImageSignatureVerifier().verify(layout: try OCILayout(opening: dir.appendingPathComponent("valid/layout")), verifier: other)
    #expect(outcome.kind == .noMatchingSignatures)
    #expect(outcome.exitCode == 12)
}

@Test func mixedVectorReportsTheUnknownSignature() async throws {
    let dir = RepositoryPathsForSigning.vectors.appendingPathComponent("mixed-unknown-and-good")
    let key = try PublicKey(pemRepresentation: String(contentsOf: dir.appendingPathComponent("key.pub"), encoding: .utf8))
    let outcome = try await ImageSignatureVerifier().verify(layout: try OCILayout(opening: dir.appendingPathComponent("layout")), verifier: key)
    #expect(outcome.signatures.count == 1)
    #expect(outcome.rejections.count == 1)
}

@Test func vectorAnnotationsMustMatch() async throws {
    let dir = RepositoryPathsForSigning.vectors.appendingPathComponent("valid")
    let key = try PublicKey(pemRepresentation: String(contentsOf: dir.appendingPathComponent("key.pub"), encoding: .utf8))
    let outcome = try await ImageSignatureVerifier().verify(layout: try OCILayout(opening: dir.appendingPathComponent("layout")),
                                                            verifier: key, annotations: ["env": "prod"])
    #expect(outcome.kind == .noMatchingSignatures)
}

/// Our signature manifest and config are byte-identical to the ones cosign wrote in the vectors.
@Test(arguments: ["valid", "mixed-unknown-and-good"])
func signatureImageBytesAreCosigns(_ name: String) throws {
    let layout = try OCILayout(opening: RepositoryPathsForSigning.vectors.appendingPathComponent("\(name)/layout"))
    let entry = try #require(try layout.index().manifests.first { $0.annotations?["kind"] == LayoutSignatureSource.signaturesKind })
    let manifestBytes = try layout.readBlob(entry.digest)
    let parsed = try SignatureImage(parsingManifest: manifestBytes)
    let rebuilt = SignatureImage(layers: parsed.layers).encoded()
    #expect(rebuilt.manifest == manifestBytes)
    let configDigest = try ImageManifest(decoding: manifestBytes).config.digest
    #expect(rebuilt.config == (try layout.readBlob(configDigest)))
}
