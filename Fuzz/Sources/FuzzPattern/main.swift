// The pattern engine (`Pattern(_:).match(_:)`, Kyverno validate.MatchPattern) with its scalar
// conditions: quantities (`<=1Gi`), durations (`<24h`), ranges (`1-4`), wildcards, `|`/`&`.
// Input that is JSON is matched as a resource against fixed patterns and used as a pattern
// against a fixed Pod and Deployment; any other input (or a bare JSON scalar) is a scalar string on
// both sides.
import Foundation
import FuzzSupport
import SignetPrimitives
import SignetPolicy

func json(_ text: String) -> JSONValue {
    do { return try JSONValue(json: text) } catch { fatalError("fixed JSON does not parse: \(error)\n\(text)") }
}

let pod = json(#"""
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"prod","labels":{"app":"web","team":"a"},
 "annotations":{"ttl":"90m","owner":"alice@example.com"}},
 "spec":{"hostNetwork":false,"terminationGracePeriodSeconds":30,"activeDeadlineSeconds":3.5,
 "containers":[{"name":"nginx","image":"nginx:1.25","securityContext":{"runAsNonRoot":true,"runAsUser":1000},
   "resources":{"limits":{"memory":"512Mi","cpu":"500m","ephemeral-storage":"1.5G"},"requests":{"memory":"1e8","cpu":1}},
   "ports":[{"containerPort":8080}]},
  {"name":"sidecar","image":"registry.example.com/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000000",
   "resources":{"limits":{"memory":"64Ki","cpu":"0.25"}},"env":[{"name":"A","value":"1"}]}],
 "volumes":[{"name":"d","emptyDir":{"sizeLimit":"1Gi"}}]}}
"""#)

let deployment = json(#"""
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"app":"x"}},
 "spec":{"replicas":3,"template":{"metadata":{"labels":{"app":"x"}},
 "spec":{"containers":[{"name":"c","image":"busybox","resources":{"limits":{"memory":"2Gi","cpu":"2"}}}]}}}}
"""#)

/// Patterns as policies write them: every anchor, operators, quantities, durations, ranges.
let patterns: [Pattern] = [
    #"{"spec":{"containers":[{"resources":{"limits":{"memory":"<=1Gi & >=1Ki","cpu":"<2 | 100m-1500m"}}}]}}"#,
    #"{"spec":{"containers":[{"name":"*","image":"!*:latest","=(securityContext)":{"=(runAsNonRoot)":true,"=(runAsUser)":">0"}}]}}"#,
    #"{"spec":{"=(hostNetwork)":false,"X(hostPID)":"null","^(containers)":[{"(name)":"nginx","ports":[{"containerPort":"1-65535"}]}]}}"#,
    #"{"metadata":{"annotations":{"ttl":"<=24h & >1s","+(owner)":"?*@*"},"labels":{"app":"?*","<(team)":"a|b"}}}"#,
    #"{"spec":{"terminationGracePeriodSeconds":"<=60","activeDeadlineSeconds":"!-10!-20","volumes":[{"=(emptyDir)":{"=(sizeLimit)":"<2Gi"}}]}}"#,
    #"{"spec":{"template":{"spec":{"containers":[{"resources":{"limits":{"memory":"!1Gi","cpu":"1!-3"}}}]}},"replicas":">1 & <=10"}}"#,
    #"{"*":{"containers":[{"env":[{"name":"?*","value":"*"}]}]}}"#,
].map { Pattern(json($0)) }

/// Scalar conditions checked against a fuzzed scalar value.
let conditions: [String] = ["<=1Gi", ">100m", "1Ki-2Mi", "!-1-5", "<24h", ">=1h30m", "!*:latest", "a*|?b", "1.5", "!0 & <1e3"]
/// Fixed values a fuzzed scalar condition is checked against.
let values: [JSONValue] = ["512Mi", "1.5G", "2h45m", 3, 2.5, true, "", "nginx:latest", .null, "1e-3", "-7Ki"]

@_cdecl("FuzzPattern_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if Fuzz.knownTrap(bytes) { return -1 }
    if let resource = try? JSONValue(json: Data(bytes)) {
        for pattern in patterns { _ = pattern.match(resource) }
        let fuzzed = Pattern(resource)
        _ = fuzzed.match(pod)
        _ = fuzzed.match(deployment)
        // A bare number (`1e-9223372036854775808` is JSON too) is also tried as a scalar string.
        if resource.objectValue != nil || resource.arrayValue != nil { return 0 }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    for condition in conditions { _ = Pattern(["v": .string(condition)]).match(["v": .string(text)]) }
    let fuzzed = Pattern(["v": .string(text)])
    for value in values { _ = fuzzed.match(["v": value]) }
    return 0
}
