// Measures SignetCEL compile and evaluation rates on one core.
// Usage: signet-cel-bench [--seconds S] [--expression EXPR]
import Foundation
import SignetCEL
import SignetPrimitives

let defaultExpression = "object.spec.containers.all(c, c.image.startsWith('registry.gitlab.com/testcompany/'))"

let pod: JSONValue = [
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": ["name": "web", "namespace": "default", "labels": ["app": "web"]],
    "spec": [
        "containers": [
            ["name": "app", "image": "registry.gitlab.com/testcompany/app:1.2.3", "ports": [["containerPort": 8080]]],
            ["name": "sidecar", "image": "registry.gitlab.com/testcompany/proxy:2.0"],
            ["name": "metrics", "image": "registry.gitlab.com/testcompany/metrics:0.9"],
        ],
    ],
]

var seconds = 2.0
var expression = defaultExpression
var evalOnly = false
/// With `--count N`: run exactly N evaluations and no timing (for instruction counting under callgrind).
var count: Int?
/// With `--count`: what to repeat (`eval`, `compile` or `check`).
var countWhat = "eval"
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
    switch a {
    case "--seconds": seconds = arguments.popFirst().flatMap(Double.init) ?? seconds
    case "--expression": expression = arguments.popFirst() ?? expression
    case "--eval-only": evalOnly = true
    case "--count": count = arguments.popFirst().flatMap(Int.init)
    case "--count-what": countWhat = arguments.popFirst() ?? countWhat
    default:
        FileHandle.standardError.write(Data("usage: signet-cel-bench [--seconds S] [--expression EXPR]\n".utf8))
        exit(2)
    }
}

let env = CELEnvironment(variables: [CELVariable("object")])

/// CPU time of this thread: the machine is shared, so wall time would understate the rate per core.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Runs `body` in batches until `seconds` of CPU time have passed; returns operations per CPU second.
func measure(_ seconds: Double, batch: Int, _ body: () throws -> Void) rethrows -> Double {
    var count = 0
    let start = now()
    var elapsed = 0.0
    repeat {
        for _ in 0..<batch { try body() }
        count += batch
        elapsed = now() - start
    } while elapsed < seconds
    return Double(count) / elapsed
}

do {
    let program = try env.compile(expression)
    let activation = CELActivation(json: ["object": pod])
    let result = try program.evaluate(activation)
    if let count {
        switch countWhat {
        case "compile": for _ in 0..<count { _ = try env.compile(expression) }
        case "check": for _ in 0..<count { _ = try env.check(expression) }
        default: for _ in 0..<count { _ = try program.evaluate(activation) }
        }
        exit(0)
    }
    if evalOnly {
        let evalRate = try measure(seconds, batch: 1000) { _ = try program.evaluate(activation) }
        print(String(format: "eval: %.0f/s", evalRate))
        exit(0)
    }
    let compileRate = try measure(seconds / 2, batch: 100) { _ = try env.compile(expression) }
    // Type checking (optional; evaluation does not need it).
    let checkRate = try measure(seconds / 2, batch: 100) { _ = try env.check(expression) }
    let evalRate = try measure(seconds, batch: 1000) { _ = try program.evaluate(activation) }
    // Conversion of the JSON input included (what a webhook pays per request).
    let jsonRate = try measure(seconds / 2, batch: 100) { _ = try program.evaluate(json: ["object": pod]) }
    print("result: \(try result.toJSON().jsonString)")
    print(String(format: "compile: %.0f/s", compileRate))
    print(String(format: "check: %.0f/s", checkRate))
    print(String(format: "eval: %.0f/s", evalRate))
    print(String(format: "eval+json: %.0f/s", jsonRate))
} catch {
    print("Error: \(error)")
    exit(1)
}
