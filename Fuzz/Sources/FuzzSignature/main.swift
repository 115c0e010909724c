// Signature material fetched from registries, parsed as ImageSignatureVerifier does:
// cosign signature manifests (`SignatureImage(parsingManifest:)`), simple-signing payloads
// (`SimpleSigningPayload(parsing:)`), Sigstore bundles (`SigstoreBundle(parsing:)`) with their DSSE
// envelope and in-toto statement (`InTotoStatement(parsing:)`), and signature checks with a
// fixed key. The same bytes go to every parser: all of them read JSON.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetOCI
import SignetSigning

let key: PublicKey = {
    let pem = """
    -----BEGIN PUBLIC KEY-----
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH8YakVeq6hwREqu2unLfi2NdfH2R
    tkL+mmB6aFfe6XUUwT3fCNbohTJinc/aXHZyo51yEH3Rqtp4Z93jUgvs0w==
    -----END PUBLIC KEY-----
    """
    do { return try PublicKey(pemRepresentation: pem) } catch { fatalError("fixed key: \(error)") }
}()

func statement(_ payload: Data) {
    guard let statement = try? InTotoStatement(parsing: payload) else { return }
    _ = statement.encoded()
    for subject in statement.subjects { _ = subject.digest["sha256"]?.lowercased() }
    _ = statement.predicate["annotations"]?["key"]?.stringValue
}

@_cdecl("FuzzSignature_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(Fuzz.bytes(data, size))

    if let image = try? SignatureImage(parsingManifest: bytes) {
        for layer in image.signatureLayers {
            if let b64 = layer.signatureBase64, let signature = Data(base64Encoded: b64) {
                _ = key.isValidSignature(signature, for: bytes)
            }
        }
        _ = image.encoded()
    }

    if let payload = try? SimpleSigningPayload(parsing: bytes) {
        _ = payload.matches(annotations: ["env": "prod"])
        _ = payload.annotations
        let encoded = payload.encoded()
        Fuzz.invariant((try? SimpleSigningPayload(parsing: encoded))?.encoded() == encoded,
                       "simple-signing payload does not survive encoded()")
    }

    if let bundle = try? SigstoreBundle(parsing: bytes) {
        _ = bundle.encoded()
        switch bundle.content {
        case .dsseEnvelope(let envelope):
            if let payload = envelope.payloadBytes {
                statement(payload)
                let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: envelope.payloadType, payload: payload)
                for sig in envelope.signatures {
                    if let signature = Data(base64Encoded: sig.sig) { _ = key.isValidSignature(signature, for: pae) }
                }
            }
        case .messageSignature(_, let digest, let signature):
            _ = key.isValidSignature(signature, for: digest)
        }
    }

    if let envelope = try? JSONDecoder().decode(DSSEEnvelope.self, from: bytes), let payload = envelope.payloadBytes {
        statement(payload)
    }
    statement(bytes)
    return 0
}
