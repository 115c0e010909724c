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
    let dir = RepositoryPathsForSigning.vectors.appendingPathComponent(name)
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
        #expect(outcome.kind != .verified, "\(name) verified but should be rejected")
    default:
        Issue.record("unknown expectation '\(expect)' in \(name)")
    }
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
