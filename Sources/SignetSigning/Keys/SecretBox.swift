import Foundation

/// NaCl's `crypto_secretbox` (XSalsa20-Poly1305), as cosign's key files use it through
/// go-securesystemslib and `golang.org/x/crypto/nacl/secretbox`.
///
/// The first 32 bytes of the XSalsa20 keystream are the Poly1305 key; the message is XORed with
/// the keystream from byte 32 on; the sealed box is the 16-byte tag followed by the ciphertext.
public enum SecretBox {
    /// Key length in bytes.
    public static let keySize = 32
    /// Nonce length in bytes.
    public static let nonceSize = 24
    /// Authenticator length in bytes (the box is this much longer than the message).
    public static let overhead = 16

    /// Encrypts and authenticates `message`; returns `tag || ciphertext`.
    public static func seal(_ message: some DataProtocol, key: some DataProtocol, nonce: some DataProtocol) throws -> Data {
        let (key, nonce) = try check(key: key, nonce: nonce)
        var stream = [UInt8](repeating: 0, count: 32) + Array(message)
        Salsa20.xsalsa20XOR(&stream, key: key, nonce: nonce)
        let authKey = Array(stream[0..<32])
        let ciphertext = Array(stream[32...])
        let tag = Poly1305.authenticate(ciphertext, key: authKey)
        return Data(tag + ciphertext)
    }

    /// Checks the tag of `box` (`tag || ciphertext`) and decrypts it.
    ///
    /// Throws `.authenticationFailed` when the box was not sealed with this key and nonce (for a
    /// key file: the password is wrong) or was altered.
    public static func open(_ box: some DataProtocol, key: some DataProtocol, nonce: some DataProtocol) throws -> Data {
        let (key, nonce) = try check(key: key, nonce: nonce)
        let box = Array(box)
        guard box.count >= overhead else {
            throw SignetSigningError(.authenticationFailed, "secretbox is shorter than its \(overhead)-byte authenticator")
        }
        var authKey = [UInt8](repeating: 0, count: 32)
        Salsa20.xsalsa20XOR(&authKey, key: key, nonce: nonce)
        let tag = Array(box[0..<overhead])
        let ciphertext = Array(box[overhead...])
        guard Poly1305.constantTimeEqual(Poly1305.authenticate(ciphertext, key: authKey), tag) else {
            throw SignetSigningError(.authenticationFailed, "secretbox authentication failed")
        }
        var message = ciphertext
        Salsa20.xsalsa20XOR(&message, key: key, nonce: nonce, offset: 32)
        return Data(message)
    }

    private static func check(key: some DataProtocol, nonce: some DataProtocol) throws -> ([UInt8], [UInt8]) {
        guard key.count == keySize else {
            throw SignetSigningError(.invalidKey, "secretbox key must be \(keySize) bytes, got \(key.count)")
        }
        guard nonce.count == nonceSize else {
            throw SignetSigningError(.invalidKey, "secretbox nonce must be \(nonceSize) bytes, got \(nonce.count)")
        }
        return (Array(key), Array(nonce))
    }
}
