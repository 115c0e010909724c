import Foundation
import SignetPrimitives
import Testing
@testable import SignetJMESPath

/// Limits, concurrency, custom functions and Go-compatible formatting.
@Suite struct EngineTests {
    @Test func budgetStopsHugeProjections() throws {
        let big = JSONValue.array(Array(repeating: .array(Array(repeating: .integer(1), count: 1000)), count: 1000))
        let options = JMESPathOptions(limits: JMESPathLimits(evaluationBudget: 100_000))
        let e = try JMESPathExpression(compiling: "[*][*].to_string(@)", options: options)
        #expect(throws: JMESPathError.self) { try e.evaluate(big) }
        do { _ = try e.evaluate(big) } catch let err as JMESPathError { #expect(err.code == .budgetExceeded) }
    }

    @Test func budgetStopsNestedSorts() throws {
        let xs = JSONValue.array((0..<300).map { .integer(Int64($0)) })
        let options = JMESPathOptions(limits: JMESPathLimits(evaluationBudget: 200_000))
        let list = "`[" + (0..<100).map(String.init).joined(separator: ",") + "]`"
        let nested = try JMESPathExpression(compiling: "map(&map(&sort_by($, &@), $), @)".replacingOccurrences(of: "$", with: list), options: options)
        #expect(throws: JMESPathError.self) { _ = try nested.evaluate(xs) }
    }

    @Test func sharedStructureBlowUpIsBounded() throws {
        // Each pipe doubles the logical size; to_string would need 2^40 nodes.
        let options = JMESPathOptions(limits: JMESPathLimits(evaluationBudget: 200_000))
        let expr = String(repeating: "[@, @] | ", count: 40) + "to_string(@)"
        let e = try JMESPathExpression(compiling: expr, options: options)
        #expect(throws: JMESPathError.self) { try e.evaluate(.integer(1)) }
        let eq = try JMESPathExpression(compiling: String(repeating: "[@, @] | ", count: 40) + "@ == @", options: options)
        #expect(throws: JMESPathError.self) { try eq.evaluate(.integer(1)) }
    }

    @Test func depthAndLengthLimits() throws {
        let deep = String(repeating: "(", count: 500) + "a" + String(repeating: ")", count: 500)
        #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: deep) }
        let chain = (0..<400).map { "a\($0)" }.joined(separator: ".")
        #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: chain) }
        let long = String(repeating: "a || ", count: 10_000) + "b"
        #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: long) }
        // The benchmark's 104-deep projection still compiles.
        let projections = (0..<104).map { "p\($0)[*]" }.joined(separator: ".")
        _ = try JMESPathExpression(compiling: projections)
    }

    @Test func deepestAcceptedExpressionsRunOnTaskStacks() async throws {
        // Evaluation recurses once per tree level; the depth limit keeps this within the small
        // stacks of concurrency threads.
        let nots = String(repeating: "!", count: 120) + "a"
        let calls = String(repeating: "not_null(", count: 60) + "a" + String(repeating: ")", count: 60)
        let projections = (0..<60).map { "p\($0)[*]" }.joined(separator: ".")
        for text in [nots, calls, projections] {
            let result = try await Task.detached {
                try JMESPathExpression(compiling: text, options: .kyverno()).evaluate(["a": 1])
            }.value
            _ = result
        }
    }

    @Test func slicesUseCheckedArithmetic() throws {
        let xs: JSONValue = [1, 2, 3]
        let cases: [(String, JSONValue)] = [
            ("[::9223372036854775807]", [1]),
            ("[::-9223372036854775807]", [3]),
            ("[-9223372036854775807:9223372036854775807]", [1, 2, 3]),
            ("[9223372036854775807]", .null),
            ("[-9223372036854775807]", .null),
        ]
        for (e, expected) in cases {
            #expect(jsonEqual(try JMESPathExpression.search(e, in: xs), expected), "\(e)")
        }
        #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: "[99999999999999999999]") }
    }

    @Test func evaluatesConcurrently() async throws {
        let e = try JMESPathExpression(compiling: "people[?age > `30`].name | sort(@)")
        let doc: JSONValue = ["people": .array((0..<100).map { ["name": .string("p\($0)"), "age": .integer(Int64($0))] })]
        let expected = try e.evaluate(doc)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask { jsonEqual(try e.evaluate(doc), expected) }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test func customFunctionsRegister() throws {
        var table = JMESPathFunctionTable.kyverno()
        table.register(JMESPathFunction(
            name: "double", signature: JMESPathSignature([JMESPathParameter(.number)]), returns: "number",
            summary: "doubles a number") { _, args in
                .number((args[0].value.doubleValue ?? 0) * 2)
            })
        let e = try JMESPathExpression(compiling: "double(a)", options: JMESPathOptions(functions: table))
        #expect(jsonEqual(try e.evaluate(["a": 21]), 42))
        #expect(throws: JMESPathError.self) { try e.evaluate(["a": "x"]) }
        #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: "nope(a)", options: JMESPathOptions(functions: table)) }
    }

    @Test(arguments: [
        ("to_string(`1.0`)", "1"),
        ("to_string(`0.1`)", "0.1"),
        ("to_string(`1e21`)", "1e+21"),
        ("to_string(`0.0000001`)", "1e-7"),
        ("to_string(`[\"<a&b>\"]`)", "[\"\\u003ca\\u0026b\\u003e\"]"),
        ("to_string(`{\"b\":1,\"a\":2}`)", "{\"a\":2,\"b\":1}"),
    ])
    func toStringFollowsGo(_ c: (String, String)) throws {
        #expect(try JMESPathExpression.search(c.0, in: .null) == .string(c.1))
    }

    @Test func numbersCompareAcrossKinds() throws {
        #expect(try JMESPathExpression.search("a == `1.0`", in: ["a": 1]) == .bool(true))
        #expect(try JMESPathExpression.search("a < `9007199254740993`", in: ["a": .number(9_007_199_254_740_992)]) == .bool(true))
        #expect(try JMESPathExpression.search("sort(@)", in: [3, .number(1.5), 2]) == [.number(1.5), 2, 3])
    }

    @Test func prettyPrintMatchesGoLayout() throws {
        let e = try JMESPathExpression(compiling: "foo.bar")
        #expect(e.root.prettyPrinted == """
        ASTSubexpression {
          children: {
            ASTField {
              value: "foo"
            }
            ASTField {
              value: "bar"
            }
        }

        """)
    }

    @Test func yamlAndIndentedOutput() throws {
        let v = try JMESPathDocuments.parseJSONOrYAML("a: 1\nb: [x, true]\n")
        #expect(JMESPathDocuments.indentedJSON(v) == "{\n  \"a\": 1,\n  \"b\": [\n    \"x\",\n    true\n  ]\n}")
        #expect(JMESPathDocuments.indentedJSON(.array([])) == "[]")
    }
}

/// Random token soup and byte noise must compile or fail cleanly, never trap or hang.
@Suite struct RobustnessTests {
    static let fragments = ["a", "b", ".", "*", "[", "]", "[?", "[]", "{", "}", "(", ")", "|", "||", "&&", "&", "!", "==", "<",
                            ">=", ",", ":", "@", "`1`", "`[1,2]`", "'x'", "\"q\"", "-1", "0", "3", ":", "length(", "sort_by(",
                            "map(", "to_string(", "merge(", " ", "`", "'", "\"", "\\", "abs(", "&@", "not_null(", "add(",
                            "regex_match(", "time_add(", "semver_compare(", "x509_decode(", "random(", "split(", "items("]

    @Test func tokenSoupNeverTraps() throws {
        var rng = SplitMix64(state: 42)
        let doc: JSONValue = ["a": [1, "x", ["b": [1, 2]]], "b": ["a": .number(1.5), "b": .null]]
        let options = JMESPathOptions.kyverno(limits: JMESPathLimits(evaluationBudget: 100_000))
        var compiled = 0
        for _ in 0..<20_000 {
            let n = Int.random(in: 1...12, using: &rng)
            let text = (0..<n).map { _ in Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &rng)] }.joined()
            guard let e = try? JMESPathExpression(compiling: text, options: options) else { continue }
            compiled += 1
            _ = try? e.evaluate(doc)
        }
        #expect(compiled > 200)
    }

    @Test func byteNoiseNeverTraps() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? JMESPathExpression(compiling: text).evaluate(.null)
        }
    }
}

@Suite struct CacheTests {
    @Test func cachesAndEvicts() async throws {
        let cache = JMESPathExpressionCache(options: .kyverno(), capacity: 4)
        #expect(try cache.search("to_upper(a)", in: ["a": "x"]) == "X")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<32 {
                group.addTask { _ = try cache.search("a || `\(i % 8)`", in: .null) }
            }
            try await group.waitForAll()
        }
        #expect(throws: JMESPathError.self) { try cache.expression("a[") }
    }
}
