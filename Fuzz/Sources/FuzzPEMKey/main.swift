// PEM public and private keys, as `--key` files and policy `publicKeys` are read:
// `LocalKeyProvider.publicKey(for:)`/`privateKey(for:)` on the text, `PEM.split` (a policy's
// key list), `PublicKey(pemRepresentation:)`; and the raw bytes as DER (`PublicKey(derRepresentation:)`,
// `PrivateKey(pkcs8DERRepresentation:)`, `PrivateKey(sec1DERRepresentation:)`). A parsed key checks a
// fixed signature, and a private key signs and verifies.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetPolicy
import SignetSigning

let payload = Data("fuzz payload".utf8)

func use(_ key: PublicKey) {
    _ = key.algorithm
    _ = key.pemRepresentation
    _ = key.isValidSignature(Data(repeating: 0x30, count: 72), for: payload)
}

func use(_ key: PrivateKey) {
    _ = key.pkcs8PEMRepresentation
    if let signature = try? key.signature(for: payload) {
        Fuzz.invariant(key.verifyingKey.isValidSignature(signature, for: payload), "a key's own signature does not verify")
    }
}

@_cdecl("FuzzPEMKey_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(Fuzz.bytes(data, size))
    let text = String(decoding: bytes, as: UTF8.self)
    if !CosignKeyFile.isEncryptedKey(text) {
        // (Encrypted keys are FuzzCosignKey's: each costs an scrypt.)
        let provider = LocalKeyProvider(password: { _ in Data("hello".utf8) }, readFile: { _ in bytes })
        let reference = KeyReference(path: "fuzz.pem")
        if let key = Fuzz.blocking({ try? await provider.publicKey(for: reference) }) { use(key) }
        if let key = Fuzz.blocking({ try? await provider.privateKey(for: reference) }) { use(key) }
    }
    for block in PEM.split(text) {
        if let key = try? PublicKey(pemRepresentation: block) { use(key) }
    }
    if let key = try? PublicKey(derRepresentation: bytes) { use(key) }
    if let key = try? PrivateKey(pkcs8DERRepresentation: bytes) { use(key) }
    if let key = try? PrivateKey(sec1DERRepresentation: bytes) { use(key) }
    return 0
}
