import Foundation
import Testing

/// Unit tests of the text-format reader used by the conformance runner.
struct TextProtoTests {
    @Test func scalarsAndNesting() throws {
        let m = try TextProtoParser.parse("""
            # comment
            a: 1 b: -2.5e3 c: "x" 'y' "\\n\\101\\x41\\u00e9"
            d { e: true } d < e: false >
            f: [1, 2, 3] g: -inf h: nan i: 0x1F j: NULL_VALUE;
            k { [type.googleapis.com/google.protobuf.Duration] { seconds: 5 } }
            """)
        #expect(m.scalar("a")?.int64 == 1)
        #expect(m.scalar("b")?.double == -2500)
        #expect(m.string("c") == "xy\nAAé")
        #expect(m.messages("d").count == 2)
        #expect(m.all("f").count == 3)
        #expect(m.scalar("g")?.double == -.infinity)
        #expect(m.scalar("h")?.double?.isNaN == true)
        #expect(m.scalar("i")?.int64 == 31)
        #expect(m.scalar("j")?.identifier == "NULL_VALUE")
        let any = try ConformanceReader.readAny(m.message("k") ?? TextProtoMessage())
        guard case .object(let name, let body) = any else { Issue.record("not an object"); return }
        #expect(name == "google.protobuf.Duration")
        #expect(body.scalar("seconds")?.int64 == 5)
    }

    @Test(arguments: ["a: ", "a { b: 1", "a: \"unterminated", "a: '\\q'", String(repeating: "a {", count: 100),
                       "a: " + String(repeating: "[", count: 100_000)])
    func rejectsMalformed(_ text: String) {
        #expect(throws: TextProtoError.self) { try TextProtoParser.parse(text) }
    }

    @Test func readsWholeSuite() throws {
        let files = try ConformanceData.files()
        #expect(files.count >= 30)
        var total = 0
        for url in files {
            let f = try ConformanceData.load(url)
            total += f.tests.count
        }
        print("conformance tests read: \(total)")
        #expect(total > 1500)
    }

    /// Hostile input: random mutations of a real file never trap (they parse or throw).
    @Test func survivesMutations() throws {
        guard let url = try ConformanceData.files().first(where: { $0.lastPathComponent == "basic.textproto" }) else {
            Issue.record("basic.textproto not found")
            return
        }
        let original = Array(try String(contentsOf: url, encoding: .utf8).utf8)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{}<>[]:;,\"'\\#-.0x9e\n ".utf8)
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<8 {
                let i = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[i] = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
            }
            _ = try? TextProtoParser.parse(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func bytesAndEscapes() throws {
        let m = try TextProtoParser.parse(#"b: "\000\377\x7f" c: '\'' "\"" d: < e: [ {f: 1}, {f: 2} ] >"#)
        guard case .string(let b)? = m.scalar("b") else {
            Issue.record("b is not a string")
            return
        }
        #expect(b == [0, 255, 127])
        #expect(m.string("c") == "'\"")
        #expect(m.message("d")?.messages("e").count == 2)
    }
}
