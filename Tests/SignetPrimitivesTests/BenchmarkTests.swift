import Foundation
import Testing
@testable import SignetPrimitives

/// Throughput figures, only when PRIMITIVES_BENCH=1 (meant for `swift test -c release`).
struct BenchmarkTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["PRIMITIVES_BENCH"] == "1" }

    static func measure(_ name: String, iterations: Int, _ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations { try body() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "bench %@: %.2f µs/op (%d ops)", name, seconds / Double(iterations) * 1e6, iterations))
    }

    @Test func throughput() throws {
        guard Self.enabled else { return }
        let name = try RE2("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        let host = "my-service-0123456789.namespace-abcdefgh.svc.cluster.local"
        try Self.measure("RE2 compile (DNS-1123 pattern)", iterations: 2_000) { _ = try RE2(name.pattern) }
        Self.measure("RE2 matches DNS-1123 (58 chars)", iterations: 20_000) { _ = name.matches(host) }
        Self.measure("RE2 firstMatch DNS-1123 with groups", iterations: 20_000) { _ = name.firstMatch(in: host) }
        let image = try RE2("^(?:(?P<registry>[a-z0-9.-]+(?::[0-9]+)?)/)?(?P<repo>[a-z0-9._/-]+)(?::(?P<tag>[\\w.-]+))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$")
        let ref = "ghcr.io/example/app:v1.2.3@sha256:" + String(repeating: "ab", count: 32)
        Self.measure("RE2 firstMatch image reference (107 chars)", iterations: 20_000) { _ = image.firstMatch(in: ref) }
        let long = String(repeating: "x", count: 1_000_000)
        let evil = try RE2("(x+x+)+y")
        Self.measure("RE2 (x+x+)+y over 1,000,000 chars", iterations: 3) { _ = evil.matches(long) }
        let words = String(repeating: "alpha beta gamma ", count: 10_000)
        let word = try RE2("\\b(\\w+)\\b")
        Self.measure("RE2 replacingAll words (170 KB)", iterations: 5) { _ = word.replacingAll(in: words, template: "<$1>") }
        Self.measure("Quantity parse 1.5Gi", iterations: 100_000) { _ = try? Quantity(parsing: "1.5Gi") }
        Self.measure("Quantity parse 250m + description", iterations: 100_000) { _ = (try? Quantity(parsing: "250m"))?.description }
        Self.measure("GoDuration parse 1h2m3.5s", iterations: 100_000) { _ = try? GoDuration(parsing: "1h2m3.5s") }
        var doc: JSONValue = [:]
        var items: [JSONValue] = []
        for i in 0..<2_000 { items.append(["name": .string("item-\(i)"), "value": .integer(Int64(i)), "ratio": .number(Double(i) / 7), "tags": ["a", "b<c>"]]) }
        doc = ["items": .array(items)]
        let text = doc.jsonString(sortedKeys: true)
        try Self.measure("JSON parse \(text.utf8.count / 1024) KB", iterations: 20) { _ = try JSONValue(json: text) }
        Self.measure("JSON write \(text.utf8.count / 1024) KB (Go form)", iterations: 20) { _ = doc.jsonString(sortedKeys: true) }
    }
}
