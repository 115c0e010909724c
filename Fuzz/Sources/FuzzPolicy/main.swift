// Policy files: `PolicyLoader.load(yaml:)` as `signet serve` and `signet apply/test` read them
// (bytes decoded as UTF-8 the same way), strict and lenient, then every loaded policy prepared
// and run on a fixed Pod and Deployment, as a policy set is on load and on each request.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetPolicy

let pod: JSONValue = {
    let text = #"""
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"prod-a","labels":{"app":"web","tier":"front"},
     "annotations":{"ttl":"2h"}},"spec":{"serviceAccountName":"default","hostNetwork":false,
     "initContainers":[{"name":"init","image":"busybox:1.36"}],
     "containers":[{"name":"nginx","image":"registry.example.com/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
     "securityContext":{"runAsNonRoot":true,"privileged":false,"capabilities":{"drop":["ALL"]}},
     "ports":[{"containerPort":8080,"hostPort":0}],
     "resources":{"limits":{"memory":"512Mi","cpu":"500m"},"requests":{"memory":"1e3","cpu":"0.1"}}}],
     "volumes":[{"name":"data","hostPath":{"path":"/var/lib"}}]}}
    """#
    do { return try JSONValue(json: text) } catch { fatalError("fixed pod: \(error)") }
}()

let deployment: JSONValue = .object([
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": .object(["name": "web", "namespace": "default", "labels": .object(["app": "web"])]),
    "spec": .object(["replicas": 3, "template": .object(["metadata": .object(["labels": .object(["app": "web"])]),
                                                          "spec": pod["spec"] ?? .null])]),
])

let admission = AdmissionInfo(operation: .create, username: "alice", uid: "1", groups: ["dev"])

@_cdecl("FuzzPolicy_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if Fuzz.knownTrap(bytes) { return -1 }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? PolicyLoader(strict: true).load(yaml: text)
    guard let result = try? PolicyLoader().load(yaml: text) else { return 0 }
    for diagnostic in result.diagnostics { _ = diagnostic.description }
    guard !result.policies.isEmpty else { return 0 }
    let engine = PolicyEngine(policies: result.policies)
    _ = engine.hasVerifyImages
    for resource in [pod, deployment] {
        let response = engine.validate(resource, admission: admission)
        if response.blocked { _ = response.blockMessage }
        _ = response.warnings
        _ = JSONPatcher.apply(response.patches, to: resource)
    }
    return 0
}
