import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// `signet sign-blob` / `verify-blob` through the binary: cosign's output and bundle formats, key
/// files and `hashivault://` on a real OpenBao, and Python's `cryptography` as a second opinion.
@Suite("signet sign-blob and verify-blob")
struct BlobSigningTests {
    static let keyFile = SignatureCLITests.keyFile
    static let pubFile = SignatureCLITests.pubFile
    static let env = ["COSIGN_PASSWORD": "hello"]

    func signet(_ args: [String], env extra: [String: String] = [:]) throws -> CommandResult {
        try runProgram(try signetBinary(), args, environment: Self.env.merging(extra) { $1 })
    }

    /// Python `cryptography` checks a base64 DER ECDSA signature over the file with the PEM key.
    func pythonVerifies(key: String, signatureBase64: String, file: String) throws -> Bool {
        let script = """
            import base64, sys
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            key = serialization.load_pem_public_key(open(sys.argv[1], 'rb').read())
            try:
                key.verify(base64.b64decode(sys.argv[2]), open(sys.argv[3], 'rb').read(), ec.ECDSA(hashes.SHA256()))
            except Exception as e:
                print(e); sys.exit(1)
            """
        let result = try runProgram(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, key, signatureBase64, file])
        return result.status == 0
    }

    func workspace() throws -> (URL, String) {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("release.tar.gz").path
        try Data((0..<5000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: file))
        return (dir, file)
    }

    @Test func keyFileSignThenVerifyAsCosign() throws {
        let (dir, file) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sign = try signet(["sign-blob", "--key", Self.keyFile, file])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(sign.stderr.contains("Using payload from: \(file)"))
        let signature = sign.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: signature) != nil)
        #expect(try pythonVerifies(key: Self.pubFile, signatureBase64: signature, file: file))

        // --signature takes the base64 text or a file holding it.
        let verify = try signet(["verify-blob", "--key", Self.pubFile, "--signature", signature, file])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.contains("Verified OK"))
        let sigFile = dir.appendingPathComponent("release.sig").path
        #expect(try signet(["sign-blob", "--key", Self.keyFile, "--output-signature", sigFile, file]).status == 0)
        #expect(try signet(["verify-blob", "--key", Self.pubFile, "--signature", sigFile, "--insecure-ignore-tlog", file]).status == 0)

        // A changed file fails, with cosign's message and exit 1.
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: file))
        let bad = try signet(["verify-blob", "--key", Self.pubFile, "--signature", sigFile, file])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("invalid signature"))
        #expect(!bad.stderr.contains("Verified OK"))
    }

    @Test func bundlesInBothFormats() throws {
        let (dir, file) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let legacy = dir.appendingPathComponent("cosign.bundle").path
        let sign = try signet(["sign-blob", "--key", Self.keyFile, "--bundle", legacy, file])
        #expect(sign.status == 0, "\(sign.stderr)")
        let legacyJSON = try String(contentsOfFile: legacy, encoding: .utf8)
        let signature = sign.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // cosign's LocalSignedPayload for a key without a transparency log: only base64Signature.
        #expect(legacyJSON == #"{"base64Signature":"\#(signature)"}"#)
        #expect(try signet(["verify-blob", "--key", Self.pubFile, "--bundle", legacy, file]).stderr.contains("Verified OK"))

        let modern = dir.appendingPathComponent("blob.sigstore.json").path
        #expect(try signet(["sign-blob", "--key", Self.keyFile, "--new-bundle-format", "--bundle", modern, file]).status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: modern))) as? [String: Any])
        #expect(object["mediaType"] as? String == "application/vnd.dev.sigstore.bundle.v0.3+json")
        let message = try #require(object["messageSignature"] as? [String: Any])
        let digest = try #require(message["messageDigest"] as? [String: Any])
        #expect(digest["algorithm"] as? String == "SHA2_256")
        let fileDigest = Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect((digest["digest"] as? String).flatMap { Data(base64Encoded: $0) }.map { Digest.hexString($0) } == fileDigest.encoded)
        #expect(try pythonVerifies(key: Self.pubFile, signatureBase64: try #require(message["signature"] as? String), file: file))
        #expect(try signet(["verify-blob", "--key", Self.pubFile, "--bundle", modern, file]).status == 0)

        // The Sigstore bundle of another file does not verify, even with a matching signature.
        let other = dir.appendingPathComponent("other").path
        try Data("other".utf8).write(to: URL(fileURLWithPath: other))
        #expect(try signet(["verify-blob", "--key", Self.pubFile, "--bundle", modern, other]).status == 1)
    }

    @Test func envKeyAndWrongKey() throws {
        let (dir, file) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pem = try String(contentsOfFile: Self.pubFile, encoding: .utf8)
        let sign = try signet(["sign-blob", "--key", Self.keyFile, file])
        let signature = sign.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let viaEnv = try signet(["verify-blob", "--key", "env://RELEASE_PUB", "--signature", signature, file], env: ["RELEASE_PUB": pem])
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
        let other = try PrivateKey.generate()
        let otherPub = dir.appendingPathComponent("other.pub").path
        try other.verifyingKey.pemRepresentation.write(toFile: otherPub, atomically: true, encoding: .utf8)
        #expect(try signet(["verify-blob", "--key", otherPub, "--signature", signature, file]).status == 1)
        let garbage = try signet(["verify-blob", "--key", Self.pubFile, "--signature", "not base64!", file])
        #expect(garbage.status != 0)
        #expect(garbage.stderr.contains("not valid base64"))
        let neither = try signet(["verify-blob", "--key", Self.pubFile, file])
        #expect(neither.status != 0)
        #expect(neither.stderr.contains("--signature or --bundle is required"))
    }

    /// The CI case: sign a release artifact with the Vault transit key, verify with the same
    /// `hashivault://` URI (cosign itself cannot: sigstore/cosign#4467) and with the public key file.
    @Test func hashivaultSignAndVerifyOnOpenBao() async throws {
        let bao = try await OpenBaoServer()
        defer { bao.stop() }
        try await bao.enableTransit()
        try await bao.createTransitKey("release")
        let (dir, file) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let vault = ["VAULT_ADDR": bao.address, "VAULT_TOKEN": bao.rootToken]
        let bundle = dir.appendingPathComponent("release.bundle").path
        let sign = try signet(["sign-blob", "--key", "hashivault://release", "--bundle", bundle, file], env: vault)
        #expect(sign.status == 0, "\(sign.stderr)")
        let signature = sign.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let verify = try signet(["verify-blob", "--key", "hashivault://release", "--signature", signature, file], env: vault)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.contains("Verified OK"))
        #expect(try signet(["verify-blob", "--key", "hashivault://release", "--bundle", bundle, file], env: vault).status == 0)

        let pub = dir.appendingPathComponent("release.pub").path
        let export = try signet(["public-key", "--key", "hashivault://release", "--outfile", pub], env: vault)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try signet(["verify-blob", "--key", pub, "--bundle", bundle, file]).status == 0)
        #expect(try pythonVerifies(key: pub, signatureBase64: signature, file: file))

        // After a rotation the old signature still verifies (every key version is tried).
        try await bao.rotateTransitKey("release")
        #expect(try signet(["verify-blob", "--key", "hashivault://release", "--signature", signature, file], env: vault).status == 0)
    }

    /// A signature cosign made: the vectors hold no sign-blob output, but a cosign image signature
    /// is the same thing over the payload blob (ECDSA over its SHA-256, base64 in the layer's
    /// `dev.cosignproject.cosign/signature` annotation), so verify-blob checks it as cosign would.
    @Test(arguments: ["valid", "mixed-unknown-and-good"])
    func verifiesACosignMadeSignature(_ vector: String) throws {
        let base = SignatureCLITests.vectors.appendingPathComponent(vector)
        let layout = base.appendingPathComponent("layout")
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as? [String: Any])
        let manifests = try #require(index["manifests"] as? [[String: Any]])
        let sigs = try #require(manifests.first { ($0["annotations"] as? [String: String])?["kind"] == "dev.cosignproject.cosign/sigs" })
        let blob = { (digest: String) in layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count)) }
        let sigsDigest = try #require(sigs["digest"] as? String)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: blob(sigsDigest))) as? [String: Any])
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        var verified = 0
        for layer in layers {
            guard let signature = (layer["annotations"] as? [String: String])?["dev.cosignproject.cosign/signature"],
                  let digest = layer["digest"] as? String else { continue }
            let payload = blob(digest).path
            let result = try signet(["verify-blob", "--key", base.appendingPathComponent("key.pub").path, "--signature", signature, payload])
            if result.status == 0 {
                #expect(result.stderr.contains("Verified OK"))
                verified += 1
            }
        }
        #expect(verified >= 1)
    }

    @Test(arguments: [
        (#"{"base64Signature":"MEUCIQ=="}"#, true),
        (#"{"base64Signature":"MEUCIQ==","cert":"","rekorBundle":null}"#, true),
        (#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":"MEUCIQ=="}}"#, true),
        (#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"","payloadType":"x","signatures":[]}}"#, false),
        (#"{"base64Signature":"%%%"}"#, false),
        (#"{}"#, false),
        ("not json", false),
    ])
    func bundleParsing(_ text: String, _ valid: Bool) {
        let parsed = try? BlobSignature.Bundle(parsing: Data(text.utf8))
        #expect((parsed != nil) == valid)
    }
}

extension Digest {
    /// Raw digest bytes as lowercase hex, to compare with `encoded`.
    static func hexString(_ bytes: Data) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
