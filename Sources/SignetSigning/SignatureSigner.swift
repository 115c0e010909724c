import Foundation

/// Something that signs cosign payloads: a local key, or a key held by a KMS.
///
/// `sign(_:)` returns the signature bytes exactly as cosign stores them before base64: ASN.1 DER
/// for ECDSA, raw for Ed25519, PKCS#1 v1.5 for RSA.
public protocol SignatureSigner: Sendable {
    /// The public half, used for `public-key` and to write `cosign.pub`.
    func publicKey() async throws -> PublicKey
    /// Signs `payload` (the signer hashes it as its algorithm requires).
    func sign(_ payload: Data) async throws -> Data
}

/// Something that checks a signature over a payload.
///
/// A signature that does not verify is `false`, not an error; errors are for transport or
/// configuration problems (a KMS that cannot be reached, say).
public protocol SignatureVerifier: Sendable {
    func verify(signature: Data, payload: Data) async throws -> Bool
}

extension PublicKey: SignatureVerifier {
    public func verify(signature: Data, payload: Data) async throws -> Bool {
        isValidSignature(signature, for: payload)
    }
}
