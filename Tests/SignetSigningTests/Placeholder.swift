import Testing
@testable import SignetSigning

@Test func placeholderSignetSigning() { #expect(Bool(true)) }
