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
}
