import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// End-to-end through the `signet` binary: sign, verify, attach, triangulate, tree, clean, prune,
/// and the independent Python check of what Signet signs.
@Suite("signet signature commands")
struct SignatureCLITests {
    static let vectors = RepositoryPathsForSigning.vectors
    static let keyFile = vectors.appendingPathComponent("cosign-test-sigstore.key").path
    static let pubFile = vectors.appendingPathComponent("cosign-test-sigstore.pub").path
    static let env = ["COSIGN_PASSWORD": "hello", "COSIGN_REPOSITORY": ""]

    func signet(_ args: [String], env extra: [String: String] = [:]) throws -> CommandResult {
        try runProgram(try signetBinary(), args, environment: Self.env.merging(extra) { $1 })
    }

    @Test func signByTagThenVerifyPrintsCosignsOutput() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let tagRef = "\(reg.server.host)/app:v1"
        let sign = try signet(["sign", "--key", Self.keyFile, "--tlog-upload=false", "-a", "env=prod", tagRef])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(sign.stderr.contains("WARNING: Image reference \(tagRef) uses a tag, not a digest, to identify the image to sign."))
        #expect(sign.stderr.contains("Pushing signature to: \(reg.server.host)/app"))

        let verify = try signet(["verify", "--key", Self.pubFile, "--insecure-ignore-tlog", "-a", "env=prod", "\(image)"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.contains("""

            Verification for \(image) --
            The following checks were performed on each of these signatures:
              - The specified annotations were verified.
              - The cosign claims were validated
              - The signatures were verified against the specified public key

            """))
        let payload = #"{"critical":{"identity":{"docker-reference":"\#(reg.server.host)/app"},"image":{"docker-manifest-digest":"\#(image.digest!)"},"type":"cosign container image signature"},"optional":{"env":"prod"}}"#
        #expect(verify.stdout == "[\(payload)]\n")
    }

    @Test func digestFileAndSeveralImages() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (first, _) = try await reg.pushImage(tag: "one")
        let (second, _) = try await reg.pushImage(tag: "two")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // kaniko writes the digest without a newline.
        let digestFile = dir.appendingPathComponent("digest").path
        try Data(first.digest!.description.utf8).write(to: URL(fileURLWithPath: digestFile))
        let sign = try signet(["sign", "--key", Self.keyFile, "--digest-file", digestFile, "\(reg.server.host)/app"])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(!sign.stderr.contains("uses a tag"))
        #expect(try signet(["sign", "--key", Self.keyFile, "\(second)"]).status == 0)
        let both = try signet(["verify", "--key", Self.pubFile, "\(first)", "\(second)"])
        #expect(both.status == 0, "\(both.stderr)")
        let lines = both.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains(first.digest!.description) == true)
        #expect(lines.last?.contains(second.digest!.description) == true)
    }

    @Test func exitCodesAreCosigns() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let none = try signet(["verify", "--key", Self.pubFile, "\(image)"])
        #expect(none.status == 10, "\(none.stderr)")
        #expect(none.stderr.contains("no signatures found"))
        let missing = try signet(["verify", "--key", Self.pubFile, "\(reg.server.host)/app:missing"])
        #expect(missing.status == 11, "\(missing.stderr)")
        _ = try await ImageSigner(signer: try PrivateKey.generate()).signAndUpload(image: image, store: reg.store)
        let other = try signet(["verify", "--key", Self.pubFile, "\(image)"])
        #expect(other.status == 12, "\(other.stderr)")
        #expect(other.stderr.contains("no matching signatures"))
    }

    @Test func offlineSignatureCheckedByPythonThenAttached() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sigFile = dir.appendingPathComponent("sig.b64").path, payloadFile = dir.appendingPathComponent("payload.json").path
        let sign = try signet(["sign", "--key", Self.keyFile, "--upload=false", "-a", "note=<a&b>/\u{2028}",
                               "--output-signature", sigFile, "--output-payload", payloadFile, "\(image)"])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(try await reg.store.signatureImage(for: image) == nil)

        // Independent check with Python's `cryptography`.
        guard let python = ManagedProcess.which("python3") else { throw TestSupportError("python3 is not installed: this test needs it") }
        let script = RepositoryPaths.root.appendingPathComponent("scripts/check_signature.py").path
        let check = try runProgram(URL(fileURLWithPath: python), [script, "--key", Self.pubFile, "--payload", payloadFile,
                                                                   "--signature", sigFile, "--digest", image.digest!.description,
                                                                   "--reference", "\(reg.server.host)/app", "--annotation", "note=<a&b>/\u{2028}"])
        #expect(check.status == 0, "\(check.stderr)")
        // The checker really checks: a payload with one byte changed fails.
        var tampered = try Data(contentsOf: URL(fileURLWithPath: payloadFile))
        tampered[tampered.count - 3] ^= 0x01
        let tamperedFile = dir.appendingPathComponent("tampered.json").path
        try tampered.write(to: URL(fileURLWithPath: tamperedFile))
        let bad = try runProgram(URL(fileURLWithPath: python), [script, "--key", Self.pubFile, "--payload", tamperedFile, "--signature", sigFile])
        #expect(bad.status == 1)

        let attach = try signet(["attach", "signature", "--payload", payloadFile, "--signature", sigFile, "\(image)"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let verify = try signet(["verify", "--key", Self.pubFile, "-a", "note=<a&b>/\u{2028}", "\(image)"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func parallelSignProcessesAllSurvive() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let count = 5
        let statuses = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for _ in 0..<count {
                group.addTask { try self.signet(["sign", "--key", Self.keyFile, "\(image)"]) }
            }
            var results: [CommandResult] = []
            for try await r in group { results.append(r) }
            return results
        }
        for s in statuses { #expect(s.status == 0, "\(s.stderr)") }
        let sigImage = try #require(try await reg.store.signatureImage(for: image))
        #expect(sigImage.layers.count == count)
        let outcome = try await reg.verify(image, key: try PublicKey(pemRepresentation: String(contentsOfFile: Self.pubFile, encoding: .utf8)))
        #expect(outcome.signatures.count == count)
    }

    @Test func localImageVerifiesTheVector() throws {
        let layout = Self.vectors.appendingPathComponent("valid/layout").path
        let key = Self.vectors.appendingPathComponent("valid/key.pub").path
        let ok = try signet(["verify", "--key", key, "--local-image", layout])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix(#"[{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/cosign-signed-single-sample"}"#))
        let wrong = try signet(["verify", "--key", Self.pubFile, "--local-image", layout])
        #expect(wrong.status == 12)
    }

    @Test func triangulateTreeCleanAndSignatureRepository() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let hex = image.digest!.encoded
        let tri = try signet(["triangulate", "\(reg.server.host)/app:v1"])
        #expect(tri.stdout == "\(reg.server.host)/app:sha256-\(hex).sig\n", "\(tri.stderr)")
        let triAtt = try signet(["triangulate", "--type", "attestation", "\(image)"])
        #expect(triAtt.stdout == "\(reg.server.host)/app:sha256-\(hex).att\n")
        let sigRepo = "\(reg.server.host)/sigs"
        let triRepo = try signet(["triangulate", "\(image)"], env: ["COSIGN_REPOSITORY": sigRepo])
        #expect(triRepo.stdout == "\(sigRepo):sha256-\(hex).sig\n")

        #expect(try signet(["sign", "--key", Self.keyFile, "\(image)"]).status == 0)
        #expect(try signet(["sign", "--key", Self.keyFile, "--signature-repository", sigRepo, "\(image)"]).status == 0)
        #expect(try signet(["verify", "--key", Self.pubFile, "\(image)"], env: ["COSIGN_REPOSITORY": sigRepo]).status == 0)

        let tree = try signet(["tree", "\(image)"])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(tree.stdout.contains("└── 🔐 Signatures for an image tag: \(reg.server.host)/app:sha256-\(hex).sig"))
        #expect(tree.stdout.contains("   └── 🍒 sha256:"))

        let refused = try signet(["clean", "\(image)"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("-f/--force"))
        #expect(try await reg.store.signatureImage(for: image) != nil)
        let clean = try signet(["clean", "-f", "--type", "signature", "\(image)"])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stderr.contains("Removed \(reg.server.host)/app:sha256-\(hex).sig"))
        #expect(try signet(["verify", "--key", Self.pubFile, "\(image)"]).status == 10)
    }

    @Test func pruneDryRunThenDelete() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (keep, _) = try await reg.pushImage(tag: "keep")
        let (gone, _) = try await reg.pushImage(tag: "gone")
        for image in [keep, gone] { #expect(try signet(["sign", "--key", Self.keyFile, "\(image)"]).status == 0) }
        #expect(try await reg.client.deleteManifest(gone))
        let repo = "\(reg.server.host)/app"
        let dry = try signet(["prune", repo])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout == "\(repo):sha256-\(gone.digest!.encoded).sig\n")
        #expect(dry.stderr.contains("dry run, nothing deleted"))
        #expect(try await reg.store.signatureImage(for: gone) != nil)
        let del = try signet(["prune", "--delete", repo])
        #expect(del.status == 0, "\(del.stderr)")
        #expect(del.stderr.contains("deleted 1"))
        #expect(try await reg.store.signatureImage(for: gone) == nil)
        #expect(try signet(["verify", "--key", Self.pubFile, "\(keep)"]).status == 0)
    }

    /// cosign v3's format: a Sigstore bundle attached as a referrer (the `sha256-HEX` fallback index
    /// on distribution 2.8, which has no referrers API), then verified, cleaned and pruned.
    @Test func newBundleFormatSignVerifyCleanAndPrune() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (keep, _) = try await reg.pushImage(tag: "keep")
        let (gone, _) = try await reg.pushImage(tag: "gone")
        for image in [keep, gone] {
            let sign = try signet(["sign", "--key", Self.keyFile, "--new-bundle-format", "\(image)"])
            #expect(sign.status == 0, "\(sign.stderr)")
            #expect(sign.stderr.contains("Attaching a sigstore bundle"))
        }
        #expect(try await reg.store.signatureImage(for: keep) == nil)  // no classic .sig
        let verify = try signet(["verify", "--key", Self.pubFile, "\(keep)"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let refused = try signet(["sign", "--key", Self.keyFile, "--new-bundle-format", "-a", "env=prod", "\(keep)"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--new-bundle-format takes no -a annotations"))

        // The image `gone` is deleted: its fallback index and bundle are orphans.
        #expect(try await reg.client.deleteManifest(gone))
        let repo = "\(reg.server.host)/app"
        let dry = try signet(["prune", repo])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout == "\(repo):sha256-\(gone.digest!.encoded)\n")
        #expect(dry.stderr.contains("2 referrers fallback indexes: 1 orphaned"))
        let del = try signet(["prune", "--delete", repo])
        #expect(del.status == 0, "\(del.stderr)")
        #expect(del.stderr.contains("1 fallback indexes with 1 sigstore bundles"))
        let tags = try await reg.client.listTags(try Reference(parsing: repo))
        #expect(!tags.contains("sha256-\(gone.digest!.encoded)"))
        #expect(tags.contains("sha256-\(keep.digest!.encoded)"))

        // clean: attestations leave the signature bundle alone; signatures remove it and the index.
        #expect(try signet(["clean", "-f", "--type", "attestation", "\(keep)"]).status == 0)
        #expect(try signet(["verify", "--key", Self.pubFile, "\(keep)"]).status == 0)
        let clean = try signet(["clean", "-f", "--type", "signature", "\(keep)"])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stderr.contains("Removed 1 sigstore bundle referrer (signatures)"))
        #expect(try signet(["verify", "--key", Self.pubFile, "\(keep)"]).status == 10)
        #expect(!(try await reg.client.listTags(try Reference(parsing: repo))).contains("sha256-\(keep.digest!.encoded)"))
    }
}
