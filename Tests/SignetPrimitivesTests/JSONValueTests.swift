import Foundation
import Testing
@testable import SignetPrimitives

struct JSONValueTests {
    static let valid: [(String, JSONValue)] = [
        ("null", .null),
        ("true", true),
        (" false ", false),
        ("0", .integer(0)),
        ("-0", .integer(0)),
        ("123", .integer(123)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775807", .integer(Int64.max)),
        ("9223372036854775808", .number(9223372036854775808.0)),
        ("-9223372036854775809", .number(-9223372036854775809.0)),
        ("\"abc\\ndef\"", "abc\ndef"),
        ("\"h\u{e9}llo\"", "h\u{e9}llo"),
        ("1.5", .number(1.5)),
        ("1e3", .number(1000)),
        ("-1.25E-2", .number(-0.0125)),
        ("\"a\\u0041\"", "aA"),
        ("\"\\ud83d\\ude00\"", "\u{1F600}"),
        ("\"\\ud800\\u0041\"", "\u{FFFD}A"),
        ("\"\\ud800\"", "\u{FFFD}"),
        ("\"\\udc00x\"", "\u{FFFD}x"),
        ("\"\\ud800\\ud800\\udc00\"", "\u{FFFD}\u{10000}"),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\u{08}\u{0C}\n\r\t"),
        ("[1, [2, {\"a\": []}]]", [1, [2, ["a": []]]]),
        ("{\"a\":1,\"a\":2}", ["a": 2]),
        ("{}", [:]),
    ]

    @Test(arguments: valid)
    func parsesValid(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONValue(json: text) == expected)
        #expect(try JSONValue(json: Data(text.utf8)) == expected)
        let bytes = Array(text.utf8)
        #expect(try bytes.withUnsafeBytes { try JSONValue(jsonBytes: $0) } == expected)
    }

    static let invalid: [String] = [
        "", " ", "nul", "tru", "01", "-", "1.", ".5", "1e", "1e+", "+1", "1.5.5", "--1", "0x10",
        "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "[", "{", "\"abc", "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\\uZZZZ\"", "\"a\u{01}b\"", "1 2", "1e400", "-1e400", "[1]]", "NaN", "Infinity",
    ]

    @Test(arguments: invalid)
    func rejectsInvalid(_ text: String) {
        #expect(throws: PrimitivesError.self) { try JSONValue(json: text) }
    }

    @Test func invalidUTF8BecomesReplacement() throws {
        let data = Data([0x22, 0x61, 0xFF, 0x62, 0x22])
        #expect(try JSONValue(json: data) == "a\u{FFFD}b")
    }

    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "[", count: 511) + String(repeating: "]", count: 511)
        #expect(throws: Never.self) { try JSONValue(json: ok) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: PrimitivesError.self) { try JSONValue(json: deep) }
        #expect(error?.code == .invalidJSON)
        let objects = String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(throws: PrimitivesError.self) { try JSONValue(json: objects) }
    }

    static let writes: [(JSONValue, String)] = [
        (["b": 1, "a": [true, .null, 1.5]], #"{"a":[true,null,1.5],"b":1}"#),
        ("<a href=\"x\">&</a>", #""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#),
        ("\u{2028}\u{2029}\u{01}\u{08}\u{0C}\u{7F}é", #""\u2028\u2029\u0001\b\f"# + "\u{7F}é\""),
        (.number(1), "1"),
        (.number(-0.0), "-0"),
        (.number(1e20), "100000000000000000000"),
        (.number(1e21), "1e+21"),
        (.number(1.5e300), "1.5e+300"),
        (.number(0.000001), "0.000001"),
        (.number(1e-7), "1e-7"),
        (.number(1.234e-20), "1.234e-20"),
        (.number(123.456), "123.456"),
        (.number(0.1), "0.1"),
        (.number(.infinity), "null"),
        (.integer(Int64.min), "-9223372036854775808"),
    ]

    @Test(arguments: writes)
    func writesLikeGo(_ value: JSONValue, _ expected: String) {
        #expect(value.jsonString(sortedKeys: true) == expected)
    }

    @Test func legacyWriterDoesNotEscapeHTML() {
        #expect(JSONValue.string("<&>").jsonString == #""<&>""#)
        #expect(JSONValue.string("<&>").jsonString(sortedKeys: false, escapeHTML: false) == #""<&>""#)
    }

    /// Fuzz/findings/json-negative-zero.json (FuzzJSON's stability check): a float -0 is written
    /// `-0` as Go's encoding/json writes it, and `-0` is read as the integer 0 as apimachinery's
    /// decoder reads it, so the second round is the fixed point.
    @Test func negativeZeroReachesAFixedPointAfterOneRound() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/findings/json-negative-zero.json").standardizedFileURL
        let finding = try Data(contentsOf: file)
        let first = try JSONValue(json: finding).jsonString
        let second = try JSONValue(json: first).jsonString
        #expect(first.contains("-0"))
        #expect(!second.contains("-0,") && second != first)
        #expect(try JSONValue(json: second).jsonString == second)
        #expect(try JSONValue(json: "-0.0") == .number(-0.0))
        #expect(try JSONValue(json: JSONValue.number(-0.0).jsonString) == .integer(0))
    }

    @Test func roundTrips() throws {
        let v: JSONValue = ["k": ["x", 1, 2.5, false, .null, ["n": "\u{1F600}\"\\"]]]
        #expect(try JSONValue(json: v.jsonString(sortedKeys: true)) == v)
        #expect(try JSONValue(json: v.jsonString) == v)
    }
}
