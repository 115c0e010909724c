// gzip (Kyverno's CEL `gzip.decompress`, SignetPolicy's own DEFLATE decoder): the bytes come from
// resources and ConfigMaps. Malformed streams, bad checksums and outputs over the bound are
// answers (nil); a trap or a hang is a bug. Round trip: what `compressed` writes decompresses back.
import FuzzSupport
import SignetPolicy

@_cdecl("FuzzGzip_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if let out = KyvernoCELGzip.decompressed(bytes) {
        Fuzz.invariant(out.count <= KyvernoCELGzip.maximumOutputBytes, "output over the bound: \(out.count)")
    }
    Fuzz.invariant(KyvernoCELGzip.decompressed(KyvernoCELGzip.compressed(bytes)) == bytes, "compress/decompress round trip")
    return 0
}
