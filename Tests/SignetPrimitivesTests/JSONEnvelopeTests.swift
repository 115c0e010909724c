import Foundation
import Testing
@testable import SignetPrimitives

/// `JSONEnvelope` reads the document `JSONValue` reads, and rejects what it rejects.
struct JSONEnvelopeTests {
    static func envelope(_ text: String, _ expanding: [String] = ["request", "kind", "userInfo"]) throws -> JSONEnvelope {
        try Data(text.utf8).withUnsafeBytes { try JSONEnvelope(jsonBytes: $0, expanding: expanding) }
    }

    static let documents = [
        #"{}"#,
        #"[]"#,
        #""text""#,
        #"42"#,
        #"null"#,
        #"{"request":{"uid":"a","kind":{"kind":"Pod"},"object":{"kind":{"x":1}}}}"#,
        #"{"request":{"uid":"a"},"request":{"uid":"b"}}"#,             // the last repeated key wins
        #"{"request":{"uid":"a"},"request":5}"#,                         // ... whatever its type
        #"{"request":5,"request":{"uid":"a","uid":"b"}}"#,
        #"{"request":{"userInfo":{"extra":{"k":["v"]},"groups":["g"]}}}"#,
        #" { "request" : { } , "kind" : "AdmissionReview" } "#,
        #"{"request":[{"kind":{}}],"kind":{"kind":{"kind":{}}}}"#,
        #"{"a\u0000b":{"request":1},"request":{"\u00e9":"\ud83d\ude00"}}"#,
    ]

    @Test(arguments: documents)
    func readsTheValueDocument(text: String) throws {
        let value = try JSONValue(json: text)
        let read = try Self.envelope(text)
        #expect(read.value == value)
        #expect(read.isObject == (value.objectValue != nil))
        for key in ["request", "kind", "missing"] {
            #expect(read[key]?.value == value[key], "\(key)")
        }
        #expect(read["request"]?["uid"]?.stringValue == value["request"]?["uid"]?.stringValue)
    }

    static let invalid = [
        "", "{", "{\"request\":", "{\"request\":{}", "{\"request\":{\"uid\" 1}}", "{\"request\":{},}",
        "{\"request\":{}} x", "{'a':1}", "{\"request\":{\"kind\":tru}}", "[1,]", "{\"a\":1 \"b\":2}",
    ]

    @Test(arguments: invalid)
    func rejectsWhatTheValueParseRejects(text: String) {
        #expect(throws: PrimitivesError.self) { try JSONValue(json: text) }
        #expect(throws: PrimitivesError.self) { try Self.envelope(text) }
    }

    @Test func keepsTheNestingBound() throws {
        let deep = String(repeating: #"{"request":"#, count: JSONValue.maximumNestingDepth + 1) + "1"
            + String(repeating: "}", count: JSONValue.maximumNestingDepth + 1)
        #expect(throws: PrimitivesError.self) { try JSONValue(json: deep) }
        #expect(throws: PrimitivesError.self) { try Self.envelope(deep) }
        let fits = String(repeating: #"{"request":"#, count: 100) + "1" + String(repeating: "}", count: 100)
        #expect(try Self.envelope(fits).value == (try JSONValue(json: fits)))
    }

    @Test func expandsOnlyTheNamedObjects() throws {
        let read = try Self.envelope(#"{"request":{"object":{"a":1},"kind":{"kind":"Pod"}}}"#)
        guard case .members(let top) = read, case .members(let request)? = top.first?.value else {
            Issue.record("the envelope and its request are not read as members")
            return
        }
        #expect(request.map(\.key) == ["object", "kind"])
        if case .value(.object)? = request.first?.value {} else { Issue.record("object is not a value") }
        if case .members? = request.last?.value {} else { Issue.record("kind is not read as members") }
    }
}
