// JMESPath with Kyverno's functions (SignetJMESPath): the first line is the expression, the rest
// the document (JSON; a fixed Pod otherwise). Errors and exhausted budgets are answers.
import Foundation
import FuzzSupport
import SignetJMESPath
import SignetPrimitives

let options = JMESPathOptions.kyverno(KyvernoFunctionConfiguration(defaultRegistry: "docker.io", enableDefaultRegistryMutation: true,
                                                                    resolveHost: { _ in nil }),
                                      limits: JMESPathLimits(maximumExpressionLength: 16_384, maximumDepth: 128, evaluationBudget: 200_000),
                                      clock: .fixed(Date(timeIntervalSince1970: 1_700_000_000)))
let pod: JSONValue = ["request": ["object": ["metadata": ["name": "p", "labels": ["app": "web"]],
                                             "spec": ["containers": [["name": "c", "image": "nginx:1", "resources": ["limits": ["memory": "64Mi"]]]]]],
                                  "operation": "CREATE"]]

@_cdecl("FuzzJMESPath_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    let expression = String(decoding: bytes[..<newline], as: UTF8.self)
    guard let compiled = try? JMESPathExpression(compiling: expression, options: options) else { return 0 }
    var document = pod
    if newline < bytes.count, let parsed = try? JSONValue(json: Data(bytes[(newline + 1)...])) { document = parsed }
    _ = try? compiled.evaluate(document)
    return 0
}
