import Foundation
import Testing
@testable import SignetPrimitives

/// Parses every JSON file of the shared conformance corpora and round-trips it through both writers.
struct JSONCorpusTests {
    /// The first ancestor D of this file with D/shared/conformance.
    static func conformanceRoot() -> URL? {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/conformance")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test func corpusRoundTrips() throws {
        guard let root = Self.conformanceRoot(),
              let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        var files = 0
        for case let url as URL in walker where url.pathExtension == "json" {
            let data = try Data(contentsOf: url)
            let value = try JSONValue(json: data)
            // Go prints 1.0 as 1, so compare with integers widened to numbers.
            let expected = value.integersAsNumbers()
            #expect(try JSONValue(json: value.jsonString(sortedKeys: true)).integersAsNumbers() == expected,
                    "\(url.lastPathComponent)")
            #expect(try JSONValue(json: value.jsonString(sortedKeys: false, escapeHTML: false)).integersAsNumbers() == expected)
            #expect(try JSONValue(json: value.jsonString).integersAsNumbers() == expected)
            // The envelope reader reads the same document.
            let envelope = try data.withUnsafeBytes { try JSONEnvelope(jsonBytes: $0, expanding: ["request", "metadata", "spec", "kind"]) }
            #expect(envelope.value == value, "\(url.lastPathComponent)")
            files += 1
        }
        print("JSON corpus: \(files) files parsed and round-tripped")
        #expect(files > 0)
    }
}
