import Foundation
import SignetPrimitives
import Testing
@testable import SignetJMESPath

/// Table-driven cases from Kyverno's own tests (functions_test.go, arithmetic_test.go,
/// time_test.go) and docs, stored in Fixtures/kyverno-functions.json.
@Suite struct KyvernoFunctionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var expression: String
        var data: JSONValue
        var result: JSONValue?
        var source: String
        var testDescription: String { expression }
    }

    static let clock = JMESPathClock.fixed(Date(timeIntervalSince1970: 1_748_781_000)) // 2025-06-01T12:30:00Z

    static let cases: [Case] = {
        let url = TestPaths.fixtures().appendingPathComponent("kyverno-functions.json")
        guard let data = try? Data(contentsOf: url), let doc = try? JSONValue(json: data) else { return [] }
        return (doc.arrayValue ?? []).compactMap { c in
            guard let e = c["expression"]?.stringValue else { return nil }
            let isError = c["error"]?.boolValue ?? false
            return Case(expression: e, data: c["data"] ?? .string(""), result: isError ? Optional<JSONValue>.none : .some(c["result"] ?? .null),
                        source: c["source"]?.stringValue ?? "")
        }
    }()

    @Test func fixtureLoaded() {
        #expect(Self.cases.count > 200)
    }

    /// Functions whose primitives (GoDuration, Quantity, RE2) are not wired in yet are skipped.
    static func pending(_ expression: String) -> Bool {
        let arithmetic = ["add(", "sum(", "subtract(", "multiply(", "divide(", "modulo("]
        if !(DurationBridge.isAvailable && QuantityBridge.isAvailable), arithmetic.contains(where: expression.contains) { return true }
        if !DurationBridge.isAvailable, ["time_add", "time_truncate", "time_since", "time_diff"].contains(where: expression.contains) { return true }
        if !KyvernoRegex.isAvailable, expression.contains("regex_") { return true }
        return false
    }

    @Test(arguments: cases)
    func kyvernoCase(_ c: Case) throws {
        if Self.pending(c.expression) { return }
        let options = JMESPathOptions.kyverno(clock: Self.clock)
        do {
            let expression = try JMESPathExpression(compiling: c.expression, options: options)
            let value = try expression.evaluate(c.data)
            guard let expected = c.result else {
                Issue.record("\(c.expression) (\(c.source)): expected an error, got \(value.jsonString)")
                return
            }
            #expect(jsonEqual(value, expected), "\(c.expression) (\(c.source)): got \(value.jsonString), expected \(expected.jsonString)")
        } catch let e as JMESPathError {
            if c.result != nil {
                Issue.record("\(c.expression) (\(c.source)): unexpected error \(e.code): \(e)")
            }
        }
    }

    @Test func kyvernoErrorTexts() throws {
        let options = JMESPathOptions.kyverno(clock: Self.clock)
        let cases: [(String, String)] = [
            ("to_boolean('yes')", "JMESPath function 'to_boolean': lowercase argument must be 'true' or 'false' (provided: 'yes')"),
            ("divide(`14`, `0`)", "JMESPath function 'divide': Zero divisor passed"),
            ("modulo(`14`, `1.5`)", "JMESPath function 'modulo': Non-integer argument(s) passed for modulo"),
            ("round(`14`, `1.5`)", "JMESPath function 'round': Non-integer argument(s) passed for round off"),
            ("sum(`[]`)", "JMESPath function 'sum': at least one element in the array is required"),
            ("add(`1`, `true`)", "JMESPath function 'add': invalid operand"),
        ]
        for (expr, text) in cases {
            #expect(throws: JMESPathError.self) { try JMESPathExpression(compiling: expr, options: options).evaluate(.null) }
            do {
                _ = try JMESPathExpression(compiling: expr, options: options).evaluate(.null)
            } catch let e as JMESPathError {
                #expect(e.message == text)
            }
        }
    }

    @Test func randomMatchesPattern() throws {
        let options = JMESPathOptions.kyverno()
        let e = try JMESPathExpression(compiling: "random('[a-z0-9]{6}-[A-F]{2,4}')", options: options)
        for _ in 0..<50 {
            guard case .string(let s) = try e.evaluate(.null) else { Issue.record("not a string"); return }
            let parts = s.split(separator: "-")
            #expect(parts.count == 2 && parts[0].count == 6 && (2...4).contains(parts[1].count))
            #expect(parts[0].allSatisfy { $0.isLowercase || $0.isNumber } && parts[1].allSatisfy { "ABCDEF".contains($0) })
        }
    }

    @Test func randomIsBounded() throws {
        let options = JMESPathOptions.kyverno()
        for pattern in ["((){1000}){1000}", "(a{1000}){1000}", "[a-z]{1000}{1000}"] {
            let e = try JMESPathExpression(compiling: "random('\(pattern)')", options: options)
            #expect(throws: JMESPathError.self) { _ = try e.evaluate(.null) }
        }
    }

    @Test func builtinsStillAvailable() throws {
        let v = try JMESPathExpression.search("length(to_upper(name))", in: ["name": "abc"], options: .kyverno())
        #expect(jsonEqual(v, 3))
    }

    @Test func functionListing() {
        let names = JMESPathFunctionTable.kyvernoOnly().functions.map(\.name)
        for n in ["add", "time_truncate", "x509_decode", "semver_compare", "md5", "sha1", "random", "items"] {
            #expect(names.contains(n))
        }
        #expect(JMESPathFunctionTable.kyvernoOnly()["compare"]?.signatureText == "compare(string, string) number")
    }
}

/// `x509_decode` against the JSON Kyverno's Test_x509Decode expects (Fixtures/kyverno-x509.json).
@Suite struct X509DecodeTests {
    static let cases: [JSONValue] = {
        let url = TestPaths.fixtures().appendingPathComponent("kyverno-x509.json")
        guard let data = try? Data(contentsOf: url), let doc = try? JSONValue(json: data) else { return [] }
        return doc.arrayValue ?? []
    }()

    @Test func fixtureLoaded() { #expect(Self.cases.count == 7) }

    @Test(arguments: 0..<7)
    func decodesLikeKyverno(_ index: Int) throws {
        guard index < Self.cases.count else { return }
        let c = Self.cases[index]
        let e = try JMESPathExpression(compiling: c["expression"]?.stringValue ?? "", options: .kyverno())
        let got = try e.evaluate(c["data"] ?? .null)
        let expected = c["result"] ?? .null
        guard case .object(let g) = got, case .object(let x) = expected else {
            Issue.record("not an object: \(got.jsonString.prefix(200))")
            return
        }
        for (k, v) in x {
            #expect(jsonEqual(g[k] ?? .null, v), "field \(k): got \((g[k] ?? .null).jsonString.prefix(300)), expected \(v.jsonString.prefix(300))")
        }
        #expect(Set(g.keys) == Set(x.keys), "extra fields: \(Set(g.keys).subtracting(x.keys)), missing: \(Set(x.keys).subtracting(g.keys))")
    }

    @Test func rejectsNonPEM() throws {
        let e = try JMESPathExpression(compiling: "x509_decode('xyz')", options: .kyverno())
        #expect(throws: JMESPathError.self) { _ = try e.evaluate(.null) }
    }
}
