// Image references: `Reference(parsing:)` (CLI arguments, policy image references, registry
// answers) with its rewrites and a print/parse round trip, and Kyverno's image parsing
// (`KyvernoImage(parsing:)`, glob matching) as verifyImages reads a Pod's images, over the one
// grammar they share (`ImageName`): the two readers must agree on what they both accept.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetOCI
import SignetPolicy
import SignetSigning

let globs = ["*", "registry.example.com/*", "*.example.com/team/*:v?", "docker.io/library/nginx*", "ghcr.io/*/app@sha256:*"]
let digest: Digest = {
    do { return try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32)) } catch { fatalError("\(error)") }
}()

@_cdecl("FuzzReference_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)

    let image = KyvernoImage(parsing: text, pointer: "/spec/containers/0/image")
    _ = image.string
    _ = image.withTag
    _ = image.matchesAny(globs)
    for glob in globs { _ = KyvernoImage(parsing: glob).matches(text) }
    _ = Wildcard.match(text, "registry.example.com/team/app:v1")

    let parts = ImageName(splitting: text)
    _ = ImageName.registryComponent(of: parts.name)
    _ = ImageName.grammarSplit(parts.name)
    _ = ImageName.pathProblem(parts.name)
    _ = ImageName.domainProblem(parts.name, portLimit: true)
    _ = Reference.parsedIfValid(text)

    _ = try? Digest(parsing: text)
    _ = Reference.isValidTag(text)
    _ = Reference.isLoopback(host: text)
    _ = try? SignatureRepository(parsing: text)
    if let reference = try? Reference(parsing: text) {
        let printed = reference.description
        guard let again = try? Reference(parsing: printed) else {
            Fuzz.invariant(false, "\(printed) (from a parsed reference) does not parse")
            return 0
        }
        Fuzz.invariant(again == reference, "\(printed) parses to another reference")
        // Whatever the strict reader accepts, the lenient one reads with the same tag and digest.
        Fuzz.invariant(image.tag == (reference.tag ?? (reference.digest == nil ? "latest" : "")),
                       "\(text): tag \(image.tag) vs \(reference.tag ?? "nil")")
        Fuzz.invariant(image.digest == (reference.digest?.description ?? ""), "\(text): digest \(image.digest)")
        _ = try? reference.withTag("v1")
        _ = reference.withDigest(digest)
        _ = try? reference.withRepository("mirror/app")
        _ = try? Reference(registry: reference.registry, repository: reference.repository, tag: "latest")
    }
    return 0
}
