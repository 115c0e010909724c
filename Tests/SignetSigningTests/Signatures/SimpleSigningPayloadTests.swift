import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

private let hex = "634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"

struct PayloadCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reference: String
    let annotations: [String: String]?
    let expected: String
    var testDescription: String { name }
}

/// Expected bytes written by hand from sigstore/sigstore payload.go's struct order and Go's
/// encoding/json rules (HTML-safe escaping, `/` kept, sorted map keys).
let payloadCases: [PayloadCase] = [
    PayloadCase(name: "no annotations", reference: "192.168.64.2:5000/cosign-signed-single-sample", annotations: nil,
                expected: #"{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/cosign-signed-single-sample"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}"#),
    PayloadCase(name: "empty annotations are null", reference: "index.docker.io/library/alpine", annotations: [:],
                expected: #"{"critical":{"identity":{"docker-reference":"index.docker.io/library/alpine"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}"#),
    PayloadCase(name: "sorted keys", reference: "r.example/a/b", annotations: ["zeta": "1", "alpha": "2", "Beta": "3", "a-b": "4", "a": "5"],
                expected: #"{"critical":{"identity":{"docker-reference":"r.example/a/b"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"Beta":"3","a":"5","a-b":"4","alpha":"2","zeta":"1"}}"#),
    PayloadCase(name: "html escaping, slash kept", reference: "r.example/x", annotations: ["url": "https://a.example/p?x=1&y=<2>"],
                expected: #"{"critical":{"identity":{"docker-reference":"r.example/x"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"url":"https://a.example/p?x=1\u0026y=\u003c2\u003e"}}"#),
    PayloadCase(name: "line separators and controls", reference: "r.example/x", annotations: ["k": "a\u{2028}b\u{2029}c\n\t\r\u{1}\u{8}\u{c}\"\\"],
                expected: #"{"critical":{"identity":{"docker-reference":"r.example/x"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"k":"a\u2028b\u2029c\n\t\r\u0001\b\f\"\\"}}"#),
    PayloadCase(name: "non-ascii kept as utf-8, bytewise key order", reference: "r.example/x", annotations: ["é": "ü", "z": "日本"],
                expected: #"{"critical":{"identity":{"docker-reference":"r.example/x"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"z":"日本","é":"ü"}}"#),
]

@Test(arguments: payloadCases)
func payloadBytesAreCosigns(_ c: PayloadCase) throws {
    let payload = SimpleSigningPayload(dockerReference: c.reference, digest: try Digest(parsing: "sha256:" + hex), annotations: c.annotations)
    let bytes = payload.encoded()
    #expect(String(decoding: bytes, as: UTF8.self) == c.expected)
    #expect(bytes.last != UInt8(ascii: "\n"))
    // Round trip through the tolerant parser.
    let parsed = try SimpleSigningPayload(parsing: bytes)
    #expect(parsed == payload)
    #expect(parsed.encoded() == bytes)
}

@Test func payloadOfTheVectorIsByteIdentical() throws {
    let blob = RepositoryPathsForSigning.vectors.appendingPathComponent("valid/layout/blobs/sha256/cf482371b51a7633b3f02e29b87fc3f4a18b3f127af61cb114af5f2c04fcdd75")
    let data = try Data(contentsOf: blob)
    let payload = SimpleSigningPayload(dockerReference: "192.168.64.2:5000/cosign-signed-single-sample",
                                       digest: try Digest(parsing: "sha256:" + hex))
    #expect(payload.encoded() == data)
}

@Test func parsingToleratesKeyOrderAndUnknownFields() throws {
    let text = #"{"optional":{"creator":"skopeo","timestamp":1700000000},"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"sha256:abc"},"identity":{"docker-reference":"r/x:tag"},"extra":1}}"#
    let p = try SimpleSigningPayload(parsing: Data(text.utf8))
    #expect(p.dockerManifestDigest == "sha256:abc")
    #expect(p.type == SimpleSigningPayload.cosignType)
    #expect(p.annotations == ["creator": "skopeo"])
    #expect(p.matches(annotations: ["creator": "skopeo"]))
    #expect(!p.matches(annotations: ["timestamp": "1700000000"]))
    // Go re-encodes the number as an integer, keys sorted.
    #expect(p.jsonValue.encodedString.hasSuffix(#""optional":{"creator":"skopeo","timestamp":1700000000}}"#))
}

@Test(arguments: [
    #"[]"#, #"{"critical":null}"#, #"{"critical":{"type":"x"}}"#, #"{"critical":{"image":{"docker-manifest-digest":"sha256:a"}}}"#,
    #"{"critical":{"type":"x","image":{"docker-manifest-digest":"sha256:a"}},"optional":"str"}"#, "not json",
])
func malformedPayloadsAreRejected(_ text: String) {
    #expect(throws: SignetSigningError.self) { try SimpleSigningPayload(parsing: Data(text.utf8)) }
}

@Test(arguments: [
    (GoJSON.number(1.5), "1.5"), (.number(1e21), "1e+21"), (.number(1e-7), "1e-07"), (.number(-3), "-3"),
    (.bool(true), "true"), (.null, "null"), (.array([.integer(1), .string("/")]), #"[1,"/"]"#),
])
func goJSONScalars(_ value: GoJSON, _ expected: String) {
    #expect(value.encodedString == expected)
}

/// Paths of the shared cosign vectors.
enum RepositoryPathsForSigning {
    static let vectors: URL = RepositoryPaths.shared.appendingPathComponent("vectors/cosign")
}
