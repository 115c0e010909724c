import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// cosign's `--type` words and their predicate type URIs [cosign options/predicate.go].
struct PredicateTypeCase: Sendable, CustomStringConvertible {
    let word: String
    let uri: String
    var description: String { word }
}

@Suite("Attestations: statements, envelopes, the .att tag and bundles")
struct AttestationTests {
    static let types: [PredicateTypeCase] = [
        .init(word: "custom", uri: "https://cosign.sigstore.dev/attestation/v1"),
        .init(word: "slsaprovenance", uri: "https://slsa.dev/provenance/v0.2"),
        .init(word: "slsaprovenance02", uri: "https://slsa.dev/provenance/v0.2"),
        .init(word: "slsaprovenance1", uri: "https://slsa.dev/provenance/v1"),
        .init(word: "spdx", uri: "https://spdx.dev/Document"),
        .init(word: "spdxjson", uri: "https://spdx.dev/Document"),
        .init(word: "cyclonedx", uri: "https://cyclonedx.org/bom"),
        .init(word: "link", uri: "https://in-toto.io/Link/v1"),
        .init(word: "vuln", uri: "https://cosign.sigstore.dev/attestation/vuln/v1"),
        .init(word: "openvex", uri: "https://openvex.dev/ns"),
        .init(word: "https://example.com/my-type/v1", uri: "https://example.com/my-type/v1"),
    ]

    @Test(arguments: types) func predicateTypeWords(_ c: PredicateTypeCase) throws {
        #expect(try AttestationPredicateType(parsing: c.word).uri == c.uri)
    }

    @Test(arguments: ["", "not a uri", "provenance", "relative/path"])
    func invalidPredicateTypes(_ word: String) {
        #expect(throws: SignetSigningError.self) { try AttestationPredicateType(parsing: word) }
    }

    static let digest = Digest.sha256(Data("image".utf8))

    /// The statement bytes as cosign's Go encoder writes them (in-toto v0.1 header order).
    @Test func customStatementBytes() throws {
        let stamp = Date(timeIntervalSince1970: 1_700_000_000)
        let data = try ImageAttester.statement(predicate: Data("hello <world>\n".utf8), type: .custom,
                                               repository: "registry.local/app", digest: Self.digest, timestamp: stamp)
        #expect(String(decoding: data, as: UTF8.self) == #"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1","subject":[{"name":"registry.local/app","digest":{"sha256":"\#(Self.digest.encoded)"}}],"predicate":{"Data":"hello \u003cworld\u003e\n","Timestamp":"2023-11-14T22:13:20Z"}}"#)
    }

    @Test func jsonStatementSortsKeysAndStringPredicate() throws {
        let json = try ImageAttester.statement(predicate: Data(#"{"z":1,"a":{"b":true}}"#.utf8), type: .slsaProvenance1,
                                               repository: "r/app", digest: Self.digest)
        #expect(String(decoding: json, as: UTF8.self).hasSuffix(#""predicate":{"a":{"b":true},"z":1}}"#))
        let spdx = try ImageAttester.statement(predicate: Data("SPDXVersion: SPDX-2.2".utf8), type: .spdx, repository: "r/app", digest: Self.digest)
        #expect(String(decoding: spdx, as: UTF8.self).hasSuffix(#""predicate":"SPDXVersion: SPDX-2.2"}"#))
        #expect(throws: SignetSigningError.self) {
            try ImageAttester.statement(predicate: Data("not json".utf8), type: .cycloneDX, repository: "r/app", digest: Self.digest)
        }
    }

    @Test func envelopeIsGoSecureSystemsLibShapeAndVerifiesOverPAE() async throws {
        let key = try PrivateKey.generate()
        let signed = try await ImageAttester(signer: key).attest(image: try Reference(parsing: "r.local/app@\(Self.digest)"),
                                                                  digest: Self.digest, predicate: Data("{}".utf8), type: .vuln)
        let text = String(decoding: signed.envelopeJSON, as: UTF8.self)
        #expect(text.hasPrefix(#"{"payloadType":"application/vnd.in-toto+json","payload":""#))
        #expect(text.contains(#""signatures":[{"keyid":"","sig":""#))
        let decoded = try JSONDecoder().decode(DSSEEnvelope.self, from: signed.envelopeJSON)
        #expect(decoded.payloadBytes == signed.statement)
        #expect(try await decoded.verify(with: key.verifyingKey))
        #expect(try await !decoded.verify(with: try PrivateKey.generate().verifyingKey))
        let layer = ImageAttester.layer(for: signed)
        #expect(layer.mediaType == .inTotoDSSE)
        #expect(layer.annotations == ["dev.cosignproject.cosign/signature": "", "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1"])
    }

    // MARK: real registry

    @Test func attestThenVerifyAgainstTheRegistry() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let (unattested, _) = try await reg.pushImage(tag: "v2")
        let key = try PrivateKey.generate()
        let attester = ImageAttester(signer: key)
        let signed = try await attester.attest(image: image, digest: image.digest!, predicate: Data(#"{"builder":"ci"}"#.utf8),
                                               type: .slsaProvenance1)
        try await attester.upload(signed, to: image, store: reg.store)
        let verifier = ImageAttestationVerifier()

        let ok = try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: AttestationPredicateType.slsaProvenance1.uri, client: reg.client)
        #expect(ok.kind == .verified)
        #expect(ok.attestations.map(\.statement.predicateType) == ["https://slsa.dev/provenance/v1"])
        #expect(ok.attestations.first?.format == .cosign)
        #expect(ok.attestations.first?.outputJSON == signed.envelopeJSON)

        // By tag: resolved to the same digest.
        let byTag = try await verifier.verify(image: try image.repositoryOnly.withTag("v1"), verifier: key.verifyingKey,
                                              predicateType: nil, client: reg.client)
        #expect(byTag.kind == .verified)

        // Another predicate type than the one attested never verifies (CVE-2022-35929).
        let otherType = try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: AttestationPredicateType.custom.uri, client: reg.client)
        #expect(otherType.kind == .noMatchingSignatures)
        #expect(otherType.exitCode == 12)
        #expect(otherType.message.contains("none of the attestations matched the predicate type: https://cosign.sigstore.dev/attestation/v1, found: https://slsa.dev/provenance/v1"))

        let otherKey = try await verifier.verify(image: image, verifier: try PrivateKey.generate().verifyingKey, predicateType: nil, client: reg.client)
        #expect(otherKey.kind == .noMatchingSignatures)

        let none = try await verifier.verify(image: unattested, verifier: key.verifyingKey, predicateType: nil, client: reg.client)
        #expect(none.kind == .noSignatures)
        #expect(none.exitCode == 10)

        let missing = try await verifier.verify(image: try image.repositoryOnly.withTag("nope"), verifier: key.verifyingKey, predicateType: nil, client: reg.client)
        #expect(missing.kind == .noSuchImage)

        // Stored as cosign stores it: an OCI manifest at sha256-HEX.att with one DSSE layer.
        let fetched = try await reg.client.getManifest(try SignatureStore.signatureReference(image: image, digest: image.digest!, kind: .attestation))
        let manifest = try ImageManifest(decoding: fetched.bytes)
        #expect(manifest.layers.map(\.mediaType) == [.inTotoDSSE])
        #expect(manifest.layers[0].annotations?["predicateType"] == "https://slsa.dev/provenance/v1")
        #expect(manifest.layers[0].annotations?["dev.cosignproject.cosign/signature"] == "")

        // A second attestation of another type is appended; --replace drops the earlier one of its type.
        let vex = try await attester.attest(image: image, digest: image.digest!, predicate: Data("{}".utf8), type: .openVEX)
        try await attester.upload(vex, to: image, store: reg.store)
        let again = try await attester.attest(image: image, digest: image.digest!, predicate: Data(#"{"builder":"ci2"}"#.utf8), type: .slsaProvenance1)
        try await attester.upload(again, to: image, replace: true, store: reg.store)
        let all = try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: nil, client: reg.client)
        #expect(all.attestations.count == 2)
        #expect(Set(all.attestations.map(\.statement.predicateType)) == ["https://openvex.dev/ns", "https://slsa.dev/provenance/v1"])
    }

    @Test func statementForAnotherImageIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let (other, _) = try await reg.pushImage(tag: "other")
        let key = try PrivateKey.generate()
        let attester = ImageAttester(signer: key)
        // A valid attestation of `other` copied under `image`'s .att tag.
        let forOther = try await attester.attest(image: other, digest: other.digest!, predicate: Data("x".utf8), type: .custom)
        try await attester.upload(forOther, to: image, store: reg.store)
        let outcome = try await ImageAttestationVerifier().verify(image: image, verifier: key.verifyingKey, predicateType: nil, client: reg.client)
        #expect(outcome.kind == .noMatchingSignatures)
        #expect(outcome.rejections.contains { $0.reason.contains("statement subject does not name image digest") })
    }

    @Test func bundleOnlyAttestationVerifiesAndSignatureBundlesAreNotAttestations() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, test) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        // A signature bundle alone is not an attestation.
        let signatureBundle = try await ImageSigner(signer: key).bundle(image: image, digest: image.digest!)
        try await reg.store.attachBundle(signatureBundle, to: image, subjectMediaType: .ociManifest, subjectSize: Int64(test.manifestBytes.count))
        let verifier = ImageAttestationVerifier()
        #expect(try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: nil, client: reg.client).kind == .noSignatures)

        let attester = ImageAttester(signer: key)
        let signed = try await attester.attest(image: image, digest: image.digest!, predicate: Data(#"{"a":1}"#.utf8), type: .cycloneDX)
        try await reg.store.attachAttestationBundle(try await attester.bundle(for: signed), predicateType: signed.predicateType.uri,
                                                    to: image, subjectMediaType: .ociManifest, subjectSize: Int64(test.manifestBytes.count))
        let outcome = try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: "https://cyclonedx.org/bom", client: reg.client)
        #expect(outcome.kind == .verified)
        #expect(outcome.attestations.first?.format == .sigstoreBundle)
        #expect(try await verifier.verify(image: image, verifier: try PrivateKey.generate().verifyingKey, predicateType: nil, client: reg.client).kind == .noMatchingSignatures)
    }

    @Test func signatureRepositoryHoldsTheAttestations() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let repo = try SignatureRepository(parsing: "\(reg.server.host)/sigs")
        let key = try PrivateKey.generate()
        let attester = ImageAttester(signer: key)
        let signed = try await attester.attest(image: image, digest: image.digest!, predicate: Data("x".utf8), type: .custom)
        try await attester.upload(signed, to: image, signatureRepository: repo, store: reg.store)
        let verifier = ImageAttestationVerifier()
        #expect(try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: nil, client: reg.client).kind == .noSignatures)
        let there = try await verifier.verify(image: image, verifier: key.verifyingKey, predicateType: AttestationPredicateType.custom.uri,
                                              signatureRepository: repo, client: reg.client)
        #expect(there.kind == .verified)
        // The statement still names the image's repository.
        #expect(there.attestations.first?.statement.subjects.first?.name == "\(reg.server.host)/app")
    }
}

/// Through the `signet` binary: `attest` and `verify-attestation`, with a key file and with OpenBao transit.
@Suite("signet attest / verify-attestation")
struct AttestationCLITests {
    static let vectors = RepositoryPathsForSigning.vectors
    static let keyFile = vectors.appendingPathComponent("cosign-test-sigstore.key").path
    static let pubFile = vectors.appendingPathComponent("cosign-test-sigstore.pub").path
    static let env = ["COSIGN_PASSWORD": "hello", "COSIGN_REPOSITORY": ""]

    func signet(_ args: [String], env extra: [String: String] = [:]) throws -> CommandResult {
        try runProgram(try signetBinary(), args, environment: Self.env.merging(extra) { $1 })
    }

    @Test func attestAndVerifyWithAKeyFile() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let (unattested, _) = try await reg.pushImage(tag: "v2")
        let dir = try temporaryDirectory()
        let predicate = dir.appendingPathComponent("provenance.json")
        try Data(#"{"buildType":"https://example.com/build"}"#.utf8).write(to: predicate)

        let attest = try signet(["attest", "--key", Self.keyFile, "--predicate", predicate.path, "--type", "slsaprovenance1",
                                 "--tlog-upload=false", "-y", "\(reg.server.host)/app:v1"])
        #expect(attest.status == 0, "\(attest.stderr)")
        #expect(attest.stderr.contains("uses a tag, not a digest"))

        let verify = try signet(["verify-attestation", "--key", Self.pubFile, "--type", "slsaprovenance1", "--insecure-ignore-tlog", "\(image)"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.contains("Verification for \(image) --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n"))
        let line = try #require(verify.stdout.split(separator: "\n").first)
        let envelope = try JSONDecoder().decode(DSSEEnvelope.self, from: Data(line.utf8))
        let statement = try InTotoStatement(parsing: try #require(envelope.payloadBytes))
        #expect(statement.predicateType == "https://slsa.dev/provenance/v1")
        #expect(statement.predicate["buildType"]?.stringValue == "https://example.com/build")

        // cosign's default --type is custom: no such attestation here.
        #expect(try signet(["verify-attestation", "--key", Self.pubFile, "\(image)"]).status == 12)
        #expect(try signet(["verify-attestation", "--key", Self.pubFile, "\(unattested)"]).status == 10)
        #expect(try signet(["verify-attestation", "--key", Self.pubFile, "\(reg.server.host)/app:missing"]).status == 11)
        let wrongKey = try PrivateKey.generate()
        let wrongPub = dir.appendingPathComponent("other.pub")
        try Data(wrongKey.verifyingKey.pemRepresentation.utf8).write(to: wrongPub)
        #expect(try signet(["verify-attestation", "--key", wrongPub.path, "--type", "slsaprovenance1", "\(image)"]).status == 12)

        // --new-bundle-format: a referrer only.
        let bundle = try signet(["attest", "--key", Self.keyFile, "--predicate", predicate.path, "--type", "https://example.com/t/v1",
                                 "--new-bundle-format", "\(unattested)"])
        #expect(bundle.status == 0, "\(bundle.stderr)")
        #expect(try signet(["verify-attestation", "--key", Self.pubFile, "--type", "https://example.com/t/v1", "\(unattested)"]).status == 0)
        #expect(try signet(["verify-attestation", "--key", Self.pubFile, "--type", "not a type", "\(unattested)"]).status == 1)
    }

    @Test func attestWithOpenBaoTransit() async throws {
        let bao = try await OpenBaoServer()
        defer { bao.stop() }
        try await bao.enableTransit()
        try await bao.createTransitKey("cosign")
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let dir = try temporaryDirectory()
        let predicate = dir.appendingPathComponent("vex.json")
        try Data(#"{"statements":[]}"#.utf8).write(to: predicate)
        let vault = ["VAULT_ADDR": bao.address, "VAULT_TOKEN": bao.rootToken]
        for scheme in ["hashivault", "openbao"] {
            let attest = try signet(["attest", "--key", "\(scheme)://cosign", "--predicate", predicate.path, "--type", "openvex", "\(image)"], env: vault)
            #expect(attest.status == 0, "\(attest.stderr)")
        }
        let verify = try signet(["verify-attestation", "--key", "hashivault://cosign", "--type", "openvex", "\(image)"], env: vault)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.split(separator: "\n").count == 2)
        // The transit public key exported as PEM verifies the same attestations offline.
        let pub = try signet(["public-key", "--key", "hashivault://cosign"], env: vault)
        let pubFile = dir.appendingPathComponent("transit.pub")
        try Data(pub.stdout.utf8).write(to: pubFile)
        #expect(try signet(["verify-attestation", "--key", pubFile.path, "--type", "openvex", "\(image)"]).status == 0)
    }
}
