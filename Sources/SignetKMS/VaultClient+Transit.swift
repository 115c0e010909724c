import Foundation
import NIOHTTP1

/// Transit secrets engine calls (`/v1/MOUNT/...`, Vault api-docs/secret/transit).
extension VaultClient {
    /// `GET MOUNT/keys/NAME`.
    public func transitKey(_ name: String, mount: String = "transit") async throws -> TransitKey {
        let path = try Self.transitPath(mount, "keys", name)
        let data: TransitKey.KeyData?
        do {
            data = try await request(.GET, path, json: Optional<[String: String]>.none, data: TransitKey.KeyData.self)
        } catch let error as SignetKMSError where error.vaultStatus == 404 {
            throw SignetKMSError(.keyNotFound, "transit key '\(name)' does not exist at \(path)", underlying: error.underlying)
        }
        guard let data else { throw SignetKMSError(.invalidResponse, "vault's answer to \(path) has no data") }
        return try TransitKey(name: name, response: data)
    }

    /// Creates the key when absent (`POST MOUNT/keys/NAME {"type"}`) and returns it with whether it was created.
    public func createTransitKey(_ name: String, type: String = "ecdsa-p256", mount: String = "transit") async throws -> (key: TransitKey, created: Bool) {
        do {
            let existing = try await transitKey(name, mount: mount)
            guard existing.supportsSigning else {
                throw SignetKMSError(.keyCannotSign, "transit key '\(name)' exists with type \(existing.type), which cannot sign")
            }
            return (existing, false)
        } catch let error as SignetKMSError where error.code == .keyNotFound {
            let path = try Self.transitPath(mount, "keys", name)
            _ = try await request(.POST, path, body: try VaultJSON.encode(["type": type]))
            return (try await transitKey(name, mount: mount), true)
        }
    }

    /// `POST MOUNT/keys/NAME/rotate`: adds a version; new signatures use it.
    public func rotateTransitKey(_ name: String, mount: String = "transit") async throws {
        let path = try Self.transitPath(mount, "keys", name) + "/rotate"
        _ = try await request(.POST, path, body: Data("{}".utf8))
    }

    /// `POST MOUNT/keys/NAME/config {"min_decryption_version": N}`: signatures of older versions stop verifying.
    public func setTransitMinDecryptionVersion(_ name: String, _ version: Int, mount: String = "transit") async throws {
        let path = try Self.transitPath(mount, "keys", name) + "/config"
        _ = try await request(.POST, path, body: try VaultJSON.encode(["min_decryption_version": version]))
    }

    /// `POST MOUNT/sign/NAME/HASH` with the payload hashed here (`prehashed: true`, explicit
    /// `key_version` (0 = latest) and `signature_algorithm: pkcs1v15`, as sigstore's hashivault
    /// client sends them), for a key of type `keyType`.
    public func transitSign(_ payload: Data, key name: String, keyType: String = "ecdsa-p256",
                            keyVersion: Int? = nil, mount: String = "transit") async throws -> TransitSignature {
        let scheme = TransitSigningScheme(keyType: keyType)
        var path = try Self.transitPath(mount, "sign", name)
        if let hash = scheme.hashPath { path += "/" + hash }
        // Hand-built JSON (base64 and integers need no escaping): this is the hot path.
        let version = keyVersion ?? 0
        let prehashed = scheme.prehashed ? #""prehashed":true,"# : ""
        let body = #"{"input":"\#(scheme.input(for: payload))",\#(prehashed)"key_version":\#(version),"signature_algorithm":"pkcs1v15"}"#
        let answer: Data
        do {
            answer = try await request(.POST, path, body: Data(body.utf8))
        } catch let error as SignetKMSError where error.vaultStatus == 400 {
            throw Self.keyError(error, name: name, path: path)
        }
        if let fast = Self.extractSignature(answer) { return fast }
        struct SignData: Decodable { let signature: String }
        guard let signature = try VaultJSON.decode(VaultEnvelope<SignData>.self, from: answer, path: path).data?.signature else {
            throw SignetKMSError(.invalidResponse, "vault's answer to \(path) has no signature")
        }
        return try TransitSignature(parsing: signature)
    }

    /// Finds `"signature":"vault:vN:B64"` without a full JSON decode (nil: use the decoder).
    static func extractSignature(_ answer: Data) -> TransitSignature? {
        let marker = Data(#""signature":""#.utf8)
        guard let found = answer.range(of: marker),
              answer.range(of: marker, in: found.upperBound..<answer.endIndex) == nil,  // twice: let the decoder decide
              let end = answer[found.upperBound...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        let value = answer[found.upperBound..<end]
        guard !value.contains(UInt8(ascii: "\\")) else { return nil }
        return try? TransitSignature(parsing: String(decoding: value, as: UTF8.self))
    }

    /// `POST MOUNT/verify/NAME/HASH` with `vault:vN:` + the signature: Vault's own verdict.
    /// A signature Vault rejects as malformed or of a disallowed version is `false`.
    public func transitVerify(_ signature: TransitSignature, payload: Data, key name: String, keyType: String = "ecdsa-p256",
                              mount: String = "transit") async throws -> Bool {
        let scheme = TransitSigningScheme(keyType: keyType)
        var path = try Self.transitPath(mount, "verify", name)
        if let hash = scheme.hashPath { path += "/" + hash }
        let body = TransitVerifyRequest(input: scheme.input(for: payload), prehashed: scheme.prehashed ? true : nil,
                                        signature: signature.description,
                                        signature_algorithm: "pkcs1v15")
        struct VerifyData: Decodable { let valid: Bool }
        do {
            return try await request(.POST, path, json: body, data: VerifyData.self)?.valid ?? false
        } catch let error as SignetKMSError where error.vaultStatus == 400 {
            let mapped = Self.keyError(error, name: name, path: path)
            if mapped.code == .keyNotFound || mapped.code == .keyCannotSign { throw mapped }
            return false  // "version is too new", "disallowed by policy (too old)", malformed signature
        }
    }

    static func keyError(_ error: SignetKMSError, name: String, path: String) -> SignetKMSError {
        let text = error.vaultErrors.joined(separator: "; ")
        if text.contains("not found") {
            return SignetKMSError(.keyNotFound, "transit key '\(name)' does not exist (\(path))", underlying: error.underlying)
        }
        if text.contains("does not support signing") || text.contains("does not support verification") {
            return SignetKMSError(.keyCannotSign, "transit key '\(name)' cannot sign: \(text)", underlying: error.underlying)
        }
        return error
    }

    /// `MOUNT/OPERATION/NAME`, refusing names that would escape the key's path.
    package static func transitPath(_ mount: String, _ operation: String, _ name: String) throws -> String {
        let trimmedMount = mount.split(separator: "/").joined(separator: "/")
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !trimmedMount.isEmpty,
              !name.contains("?"), !name.contains("#"), !name.contains("%") else {
            throw SignetKMSError(.invalidKeyReference, "transit key name '\(name)' on mount '\(mount)' is not valid")
        }
        return "\(trimmedMount)/\(operation)/\(name)"
    }
}

struct TransitVerifyRequest: Encodable {
    let input: String
    let prehashed: Bool?
    let signature: String
    /// Always `pkcs1v15` (what cosign verifies for RSA; ignored by Vault for ECDSA and Ed25519).
    let signature_algorithm: String
}
