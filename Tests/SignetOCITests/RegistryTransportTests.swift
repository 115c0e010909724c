import Foundation
import Testing
import SignetTestSupport
@testable import SignetOCI

/// A server owns its registry connection pools and closes them on shutdown (issue 11).
struct RegistryTransportTests {
    @Test func clientsShareTheirTransportAndAClosedOneFailsWithAnError() async throws {
        let image = TestImage(layerCount: 1, layerSize: 16)
        let server = try TestHTTPServer { request in
            if request.path == "/v2/" { return .json(200, "{}") }
            if request.path.hasPrefix("/v2/app/manifests/") {
                return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue),
                                                                ("Docker-Content-Digest", image.digest.description)],
                                        body: image.manifestBytes)
            }
            return .json(404, "{}")
        }
        defer { server.stop() }
        let transport = RegistryTransport()
        let client = RegistryClient(transport: transport)
        let other = client.with(credentials: .anonymous)
        #expect(other.transport === transport)
        #expect(RegistryClient().transport === RegistryTransport.shared)
        let reference = try Reference(parsing: "\(server.host)/app:v1")
        // The same server answers through the transport while it is open...
        #expect(try await other.resolve(reference).digest == image.digest)
        try await transport.shutdown()
        try await transport.shutdown() // a second call does nothing
        // ...and after the shutdown the request fails as a transport error, never traps.
        await #expect(throws: SignetOCIError.self) { _ = try await client.resolve(reference) }
        #expect(try await RegistryClient().resolve(reference).digest == image.digest)
    }
}
