import Foundation
import SignetSigning
import Testing
@testable import SignetKMS

/// Parsing and formatting that needs no server.
@Suite struct KMSUnitTests {
    @Test(arguments: [
        ("vault:v1:MEUCIQ==", 1, Data([0x30, 0x45, 0x02, 0x21])),
        ("vault:v12:AQID", 12, Data([1, 2, 3])),
        ("bao:v3:AQID", 3, Data([1, 2, 3])),
    ])
    func parsesTransitSignatures(_ text: String, _ version: Int, _ bytes: Data) throws {
        let signature = try TransitSignature(parsing: text)
        #expect(signature.keyVersion == version)
        #expect(signature.bytes == bytes)
    }

    @Test(arguments: ["", "vault:v1", "vault:1:AQID", "vault:v0:AQID", "vault:vx:AQID", "vault:v1:", "vault:v1:!!!", "MEUCIQ=="])
    func rejectsMalformedTransitSignatures(_ text: String) {
        #expect(throws: SignetKMSError.self) { try TransitSignature(parsing: text) }
    }

    @Test func formatsTransitSignatures() {
        #expect(TransitSignature(keyVersion: 2, bytes: Data([1, 2, 3])).description == "vault:v2:AQID")
    }

    @Test(arguments: [
        (#"{"data":{"key_version":1,"signature":"vault:v1:AQID"}}"#, 1),
        (#"{"request_id":"x","data":{"signature":"vault:v7:AQID","key_version":7},"warnings":null}"#, 7),
    ])
    func extractsTheSignatureWithoutAFullDecode(_ json: String, _ version: Int) {
        #expect(VaultClient.extractSignature(Data(json.utf8))?.keyVersion == version)
    }

    @Test(arguments: [#"{"data":{}}"#, #"{"data":{"signature":"vault:v1:A\u0051ID"}}"#, #"{"a":{"signature":"vault:v1:AQID"},"data":{"signature":"vault:v2:AQID"}}"#])
    func leavesOddAnswersToTheDecoder(_ json: String) {
        #expect(VaultClient.extractSignature(Data(json.utf8)) == nil)
    }

    @Test(arguments: [
        ("http://127.0.0.1:8200", "http://127.0.0.1:8200"),
        ("https://vault.example.com/", "https://vault.example.com"),
        ("vault.example.com:8200", "https://vault.example.com:8200"),
        ("https://gateway.example.com/vault/", "https://gateway.example.com/vault"),
    ])
    func parsesAddresses(_ text: String, _ expected: String) throws {
        #expect(try VaultConfiguration(address: text).address.absoluteString == expected)
    }

    @Test(arguments: ["ftp://vault", "http://", ""])
    func rejectsBadAddresses(_ text: String) {
        #expect(throws: SignetKMSError.self) { try VaultConfiguration(address: text) }
    }

    @Test func tokensAndSecretsAreRedacted() {
        let token = VaultToken("s.very-secret")
        #expect("\(token)" == "<redacted>")
        #expect(String(reflecting: token).contains("very-secret") == false)
        let credential = VaultCredential.appRole(roleID: "role", secretID: .value("secret-id-value"))
        #expect("\(credential)".contains("secret-id-value") == false)
        #expect("\(VaultSecretSource.value("jwt-value"))" == "<redacted>")
        #expect("\(VaultCredential.token(token))".contains("very-secret") == false)
    }

    @Test(arguments: [("jwt", "jwt"), ("/auth/gitlab/", "gitlab"), ("auth/k8s/prod", "k8s/prod")])
    func normalizesAuthMounts(_ given: String, _ expected: String) {
        #expect(VaultCredential.jwt(role: "r", jwt: .value("t"), mount: given).mount == expected)
    }

    @Test(arguments: [("transit", "cosign", "transit/sign/cosign"), ("/ci/transit/", "k", "ci/transit/sign/k")])
    func buildsTransitPaths(_ mount: String, _ key: String, _ expected: String) throws {
        #expect(try VaultClient.transitPath(mount, "sign", key) == expected)
    }

    @Test(arguments: ["", "a/b", "..", "k?x", "k%2f"])
    func refusesKeyNamesThatEscapeTheirPath(_ key: String) {
        #expect(throws: SignetKMSError.self) { try VaultClient.transitPath("transit", "sign", key) }
    }

    @Test(arguments: [("ecdsa-p256", "sha2-256"), ("ecdsa-p384", "sha2-384"), ("ecdsa-p521", "sha2-512"), ("rsa-4096", "sha2-256")])
    func choosesTheHashOfTheKeyType(_ type: String, _ hash: String) {
        #expect(TransitSigningScheme(keyType: type).hashPath == hash)
        #expect(TransitSigningScheme(keyType: type).prehashed)
    }

    @Test func ed25519IsNotPrehashed() {
        let scheme = TransitSigningScheme(keyType: "ed25519")
        #expect(scheme.hashPath == nil)
        #expect(scheme.input(for: Data("abc".utf8)) == "YWJj")
    }

    @Test func verificationVersionsRunFromMinDecryptionToLatest() throws {
        let json = #"{"type":"ecdsa-p256","latest_version":4,"min_decryption_version":2,"supports_signing":true,"keys":{}}"#
        let data = try JSONDecoder().decode(TransitKey.KeyData.self, from: Data(json.utf8))
        #expect(try TransitKey(name: "k", response: data).verificationVersions == [4, 3, 2])
    }

    @Test func symmetricKeysListNoPublicKeys() throws {
        let json = #"{"type":"aes256-gcm96","latest_version":1,"min_decryption_version":1,"supports_signing":false,"keys":{"1":1795904247}}"#
        let key = try TransitKey(name: "aes", response: JSONDecoder().decode(TransitKey.KeyData.self, from: Data(json.utf8)))
        #expect(key.publicKeys.isEmpty)
        #expect(key.supportsSigning == false)
    }
}
