// Registry answers: image manifests and indexes decoded as the registry client and the OCI
// layout reader do (`ImageManifest(decoding:)`, `ImageIndex(decoding:)`, `FetchedManifest`
// with each media type), and re-encoded (`jsonData()` must decode again and re-encode to the same bytes).
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetOCI

let mediaTypes: [MediaType] = [.ociManifest, .ociIndex, MediaType("application/vnd.docker.distribution.manifest.v2+json"),
                               MediaType("application/vnd.docker.distribution.manifest.list.v2+json"), MediaType("text/plain")]

@_cdecl("FuzzManifest_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(Fuzz.bytes(data, size))
    if let manifest = try? ImageManifest(decoding: bytes) {
        let encoded = manifest.jsonData()
        Fuzz.invariant((try? ImageManifest(decoding: encoded))?.jsonData() == encoded, "manifest does not survive jsonData()")
        _ = manifest.descriptor()
        for layer in manifest.layers { _ = layer.orderedJSON }
    }
    if let index = try? ImageIndex(decoding: bytes) {
        let encoded = index.jsonData()
        Fuzz.invariant((try? ImageIndex(decoding: encoded))?.jsonData() == encoded, "index does not survive jsonData()")
        for m in index.manifests { _ = m.platform?.description }
    }
    let digest = Digest.sha256(bytes)
    for type in mediaTypes {
        let fetched = FetchedManifest(bytes: bytes, mediaType: type, digest: digest)
        _ = fetched.descriptor
        _ = try? fetched.imageManifest()
        _ = try? fetched.imageIndex()
    }
    return 0
}
