// Registry credentials: docker `config.json`, `.dockerconfigjson`, whole Kubernetes Secrets and
// legacy `.dockercfg` (`CredentialStore(dockerConfig:)`), then looked up as the registry client
// does (`credential(for:)`; credential helpers are replaced: no process is started); and the
// same bytes as a Kubernetes Secret object read from the API server (`RegistrySecretParser`:
// type, base64 field, size bound, helpers dropped).
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetOCI
import SignetVerification

let registries = ["index.docker.io", "docker.io", "registry.example.com", "localhost:5000", "ghcr.io"]

@_cdecl("FuzzDockerConfig_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(Fuzz.bytes(data, size))
    if let secret = try? JSONValue(json: bytes), let fromSecret = try? RegistrySecretParser.credentials(ofSecret: secret, name: "s") {
        Fuzz.invariant(fromSecret.credHelpers.isEmpty && fromSecret.credsStore == nil, "a Secret's credential helpers were kept")
    }
    guard let store = try? CredentialStore(dockerConfig: bytes) else { return 0 }
    var combined = CredentialStore.anonymous.merging(store).merging(store)
    // Never start `docker-credential-NAME` with a fuzzed name.
    combined.helperRunner = { name, server in Credential(username: name, password: server) }
    let merged = combined
    for key in store.auths.keys { _ = CredentialStore.normalizeKey(key) }
    let found = Fuzz.blocking {
        var n = 0
        for registry in registries {
            if let credential = try? await merged.credential(for: registry) { n += credential.description.count }
        }
        return n
    }
    _ = found
    return 0
}
