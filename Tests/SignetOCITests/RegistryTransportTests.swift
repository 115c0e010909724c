import Testing
@testable import SignetOCI

/// A server owns its registry connection pools and closes them on shutdown (issue 11).
struct RegistryTransportTests {
    @Test func clientsShareTheirTransportAndAClosedOneFailsWithAnError() async throws {
        let transport = RegistryTransport()
        let client = RegistryClient(transport: transport)
        let other = client.with(credentials: .anonymous)
        #expect(other.transport === transport)
        #expect(RegistryClient().transport === RegistryTransport.shared)
        try await transport.shutdown()
        try await transport.shutdown() // a second call does nothing
        // Requests after the shutdown fail as transport errors, never trap.
        await #expect(throws: SignetOCIError.self) {
            _ = try await client.resolve(try Reference(parsing: "127.0.0.1:9/closed/app:v1"))
        }
    }
}
