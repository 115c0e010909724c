import Testing
@testable import SignetCEL

@Suite struct ValueTests {
    @Test(arguments: [
        (CELMapKey.int(1), CELMapKey.uint(1), true),
        (CELMapKey.int(-1), CELMapKey.uint(1), false),
        (CELMapKey.string("a"), CELMapKey.string("a"), true),
        (CELMapKey.bool(true), CELMapKey.int(1), false),
    ])
    func mapKeyEquality(a: CELMapKey, b: CELMapKey, equal: Bool) {
        #expect((a == b) == equal)
        if equal { #expect(a.hashValue == b.hashValue) }
    }

    @Test(arguments: [
        ("hello world", "o w", 4), ("aaaaaaaaaaaaaaaaaaaab", "aaaaaaaaaab", 10), ("abc", "", 0), ("abc", "abcd", -1),
        ("abababababababababac", "abababababac", 8), ("xyz", "y", 1), ("ééa", "a", 4),
    ])
    func substringSearch(haystack: String, needle: String, expected: Int) {
        #expect(StringSearch.firstIndex(of: needle, in: haystack) ?? -1 == expected)
    }

    @Test func hostileSubstringSearchIsLinear() {
        let haystack = String(repeating: "a", count: 200_000)
        let needle = String(repeating: "a", count: 100_000) + "b"
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(!StringSearch.contains(haystack, needle)) }
        #expect(elapsed < .seconds(2))
    }

    @Test func stringEqualityIsByCodePoint() {
        #expect(!StringSearch.equal("\u{E9}", "e\u{301}"))
        #expect(StringSearch.equal("héllo", "héllo"))
        #expect(CELMapKey.string("\u{E9}") != CELMapKey.string("e\u{301}"))
    }
}
