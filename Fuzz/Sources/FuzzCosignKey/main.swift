// Encrypted cosign key files, read as `signet sign --key cosign.key` reads them
// (`LocalKeyProvider.privateKey(for:)`: `CosignKeyFile(pemRepresentation:)`, then scrypt and
// secretbox with a fixed password, then PKCS#8). scrypt's cost is the file's to choose: the parser
// must bound it (N <= 131072, r = 8, p = 1), or one input could run for minutes. Also secretbox
// itself (`SecretBox.open/seal`) on raw bytes.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetSigning

@_cdecl("FuzzCosignKey_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(Fuzz.bytes(data, size))
    // The secretbox (XSalsa20-Poly1305, Swift code) runs on the file's ciphertext before the
    // password is known to be right: drive it directly too, with the input as key, nonce and box.
    if bytes.count >= SecretBox.keySize + SecretBox.nonceSize {
        let key = bytes.prefix(SecretBox.keySize)
        let nonce = bytes.dropFirst(SecretBox.keySize).prefix(SecretBox.nonceSize)
        let box = bytes.dropFirst(SecretBox.keySize + SecretBox.nonceSize)
        _ = try? SecretBox.open(box, key: key, nonce: nonce)
        if let sealed = try? SecretBox.seal(box, key: key, nonce: nonce) {
            Fuzz.invariant((try? SecretBox.open(sealed, key: key, nonce: nonce)) == Data(box), "secretbox does not open what it sealed")
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = CosignKeyFile.isEncryptedKey(text)
    guard let file = try? CosignKeyFile(pemRepresentation: text) else { return 0 }
    // The bound this harness relies on for its speed: fail loudly if it is ever loosened.
    Fuzz.invariant(file.scrypt.n <= 131_072 && file.scrypt.r <= 8 && file.scrypt.p <= 1,
                   "scrypt parameters \(file.scrypt) accepted without a bound")
    Fuzz.invariant((try? CosignKeyFile(pemRepresentation: file.pemRepresentation)) == file,
                   "key file does not survive pemRepresentation")
    // scrypt is BoringSSL's C, built at -O0 in this debug build: N = 32768 takes ~0.7 s here (4-5 s
    // on a loaded machine), N = 131072 four times that (about 0.1-0.4 s in a release build). Only the
    // cheapest accepted cost is decrypted, so that one input stays well under -timeout=10.
    guard file.scrypt == .cosign else { return 0 }
    let provider = LocalKeyProvider(password: { _ in Data("hello".utf8) }, readFile: { _ in bytes })
    _ = Fuzz.blocking { try? await provider.privateKey(for: KeyReference(path: "fuzz.key")).algorithm }
    return 0
}
