// CEL (SignetCEL): policy authors write the expression, attackers the resource. The first line of
// the input is compiled with every library Kubernetes and Kyverno enable, then evaluated with a
// small cost budget over a fixed Pod and over the rest of the input read as JSON (when it is):
// parse errors, evaluation errors and exhausted budgets are answers; a trap or a hang is a bug.
// The type checker (`CELEnvironment.check`) reads the same expression: its errors are answers too.
import Foundation
import FuzzSupport
import SignetCEL
import SignetPrimitives

let environment = CELEnvironment(variables: [CELVariable("object"), CELVariable("oldObject"), CELVariable("params")],
                                 libraries: CELExtensions.all)
let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "labels": ["app": "web"]],
                      "spec": ["containers": [["name": "c", "image": "registry.gitlab.com/testcompany/app:1",
                                               "resources": ["limits": ["memory": "64Mi", "cpu": "100m"]]]]]]

@_cdecl("FuzzCEL_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    let expression = String(decoding: bytes[..<newline], as: UTF8.self)
    _ = try? environment.check(expression)
    guard let program = try? environment.compile(expression) else { return 0 }
    _ = program.run(CELActivation(json: ["object": pod, "oldObject": .null, "params": .null]), costLimit: 20_000)
    if newline < bytes.count, let document = try? JSONValue(json: Data(bytes[(newline + 1)...])) {
        let result = program.run(CELActivation(json: ["object": document, "oldObject": pod, "params": document]), costLimit: 20_000)
        _ = try? result.value.toJSON()
    }
    return 0
}
