import Foundation
import Testing
import SignetPrimitives
@testable import SignetPolicy

/// Inputs that trapped before their fix, found while fuzzing (Fuzz/, scripts/fuzz). Each input is a
/// file in Fixtures/fuzz; the test is that the parser returns, with the value the fix chose.
@Suite struct FuzzRegressionTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/fuzz/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    struct ImageCase: Sendable, CustomStringConvertible {
        let file: String
        let registry: String, path: String, tag: String, digest: String
        var description: String { file }
    }

    /// FuzzReference: the only `/` inside the digest part left no registry separator
    /// (`firstIndex(of: "/")!` trapped). The name is then a Docker Hub path.
    @Test(arguments: [
        ImageCase(file: "kyverno-image-slash-in-digest.txt", registry: "docker.io", path: "a.b", tag: "", digest: "c/d"),
        ImageCase(file: "kyverno-image-slash-in-digest-2.txt", registry: "docker.io", path: "localhost", tag: "", digest: "sha256:x/y:z"),
    ])
    func kyvernoImageWithSlashOnlyInDigest(_ c: ImageCase) throws {
        let image = KyvernoImage(parsing: try Self.fixture(c.file))
        #expect(image.registry == c.registry)
        #expect(image.path == c.path)
        #expect(image.tag == c.tag)
        #expect(image.digest == c.digest)
    }

    /// A sign after the `0x`/`0b`/`0o` prefix made `-(Int64.min)`; such scalars are strings now.
    @Test func yamlSignedRadixDigitsAreStrings() throws {
        let docs = try YAMLDocuments.parse(try Self.fixture("yaml-signed-radix-digits.yaml"))
        #expect(docs.count == 1)
        #expect(docs.first?["hex"] == .string("-0x-8000000000000000"))
        #expect(docs.first?["bin"]?.stringValue?.hasPrefix("-0b-1") == true)
        #expect(docs.first?["oct"] == .string("-0o-1000000000000000000000"))
        // The policy loader reads the same text without trapping.
        _ = try PolicyLoader().load(yaml: try Self.fixture("yaml-signed-radix-digits.yaml"))
    }

    /// go-yaml (YAML 1.1) integers with a radix prefix, at the edges of int64.
    @Test(arguments: [
        ("0x10", JSONValue.integer(16)), ("-0x10", .integer(-16)), ("+0x10", .integer(16)),
        ("0b101", .integer(5)), ("0o17", .integer(15)), ("017", .integer(15)),
        ("-0x8000000000000000", .integer(.min)), ("0x7fffffffffffffff", .integer(.max)),
        ("0x8000000000000000", .string("0x8000000000000000")), ("0x", .string("0x")),
        ("0x+5", .string("0x+5")), ("0b102", .string("0b102")),
    ] as [(String, JSONValue)])
    func yamlRadixIntegers(_ text: String, _ expected: JSONValue) {
        #expect(YAMLDocuments.resolvePlain(text) == expected)
    }
}
