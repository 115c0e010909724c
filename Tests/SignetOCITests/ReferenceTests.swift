import Testing
@testable import SignetOCI

/// Reference parsing and normalization (docker/distribution grammar, go-containerregistry names).
struct ReferenceTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let input: String
        let registry: String
        let repository: String
        let tag: String?
        let digest: String?
        var testDescription: String { input }
    }

    static let hex = String(repeating: "a", count: 64)
    static let hex2 = "4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"

    static let valid: [Valid] = [
        .init(input: "alpine", registry: "index.docker.io", repository: "library/alpine", tag: nil, digest: nil),
        .init(input: "alpine:3.20", registry: "index.docker.io", repository: "library/alpine", tag: "3.20", digest: nil),
        .init(input: "library/alpine", registry: "index.docker.io", repository: "library/alpine", tag: nil, digest: nil),
        .init(input: "docker.io/alpine", registry: "index.docker.io", repository: "library/alpine", tag: nil, digest: nil),
        .init(input: "docker.io/x/y", registry: "index.docker.io", repository: "x/y", tag: nil, digest: nil),
        .init(input: "index.docker.io/x/y:z", registry: "index.docker.io", repository: "x/y", tag: "z", digest: nil),
        .init(input: "index.docker.io/alpine", registry: "index.docker.io", repository: "library/alpine", tag: nil, digest: nil),
        .init(input: "registry-1.docker.io/x/y", registry: "index.docker.io", repository: "x/y", tag: nil, digest: nil),
        .init(input: "localhost:5000/a/b:t", registry: "localhost:5000", repository: "a/b", tag: "t", digest: nil),
        .init(input: "localhost/a", registry: "localhost", repository: "a", tag: nil, digest: nil),
        .init(input: "localhost:5000/a", registry: "localhost:5000", repository: "a", tag: nil, digest: nil),
        .init(input: "[::1]:5000/x", registry: "[::1]:5000", repository: "x", tag: nil, digest: nil),
        .init(input: "[::1]/x:y", registry: "[::1]", repository: "x", tag: "y", digest: nil),
        .init(input: "[2001:db8::1]:443/team/app", registry: "[2001:db8::1]:443", repository: "team/app", tag: nil, digest: nil),
        .init(input: "127.0.0.1:5000/a/b", registry: "127.0.0.1:5000", repository: "a/b", tag: nil, digest: nil),
        .init(input: "host.example.com/a/b@sha256:\(hex)", registry: "host.example.com", repository: "a/b", tag: nil, digest: "sha256:\(hex)"),
        .init(input: "name:tag@sha256:\(hex)", registry: "index.docker.io", repository: "library/name", tag: "tag", digest: "sha256:\(hex)"),
        .init(input: "alpine@sha256:\(hex2)", registry: "index.docker.io", repository: "library/alpine", tag: nil, digest: "sha256:\(hex2)"),
        .init(input: "ghcr.io/org/app:v1.2.3", registry: "ghcr.io", repository: "org/app", tag: "v1.2.3", digest: nil),
        .init(input: "gcr.io/a/b/c/d", registry: "gcr.io", repository: "a/b/c/d", tag: nil, digest: nil),
        .init(input: "registry.example.com:8443/deep/path/to/image:latest", registry: "registry.example.com:8443", repository: "deep/path/to/image", tag: "latest", digest: nil),
        .init(input: "my-registry.local:5000/my_app", registry: "my-registry.local:5000", repository: "my_app", tag: nil, digest: nil),
        .init(input: "a/b", registry: "index.docker.io", repository: "a/b", tag: nil, digest: nil),
        .init(input: "a__b/c.d/e-f", registry: "index.docker.io", repository: "a__b/c.d/e-f", tag: nil, digest: nil),
        .init(input: "a---b", registry: "index.docker.io", repository: "library/a---b", tag: nil, digest: nil),
        .init(input: "foo:Tag_With.Dots-1", registry: "index.docker.io", repository: "library/foo", tag: "Tag_With.Dots-1", digest: nil),
        .init(input: "foo:_under", registry: "index.docker.io", repository: "library/foo", tag: "_under", digest: nil),
        .init(input: "foo:\(String(repeating: "t", count: 128))", registry: "index.docker.io", repository: "library/foo", tag: String(repeating: "t", count: 128), digest: nil),
        .init(input: "Registry/app", registry: "Registry", repository: "app", tag: nil, digest: nil),
        .init(input: "a1.b2.c3/x", registry: "a1.b2.c3", repository: "x", tag: nil, digest: nil),
        .init(input: "quay.io/coreos/etcd:v3.5.0", registry: "quay.io", repository: "coreos/etcd", tag: "v3.5.0", digest: nil),
        .init(input: "localhost:5000/a:5000", registry: "localhost:5000", repository: "a", tag: "5000", digest: nil),
        .init(input: "localhost:5000", registry: "index.docker.io", repository: "library/localhost", tag: "5000", digest: nil),
        .init(input: "0/1", registry: "index.docker.io", repository: "0/1", tag: nil, digest: nil),
        .init(input: "x.io/a@sha512:\(String(repeating: "b", count: 128))", registry: "x.io", repository: "a", tag: nil, digest: "sha512:\(String(repeating: "b", count: 128))"),
        .init(input: "xn--bcher-kva.example/a", registry: "xn--bcher-kva.example", repository: "a", tag: nil, digest: nil),
    ]

    @Test(arguments: valid)
    func parsesValidReference(_ c: Valid) throws {
        let ref = try Reference(parsing: c.input)
        #expect(ref.registry == c.registry)
        #expect(ref.repository == c.repository)
        #expect(ref.tag == c.tag)
        #expect(ref.digest?.description == c.digest)
        #expect(ref.repositoryName == "\(c.registry)/\(c.repository)")
        // description round-trips.
        #expect(try Reference(parsing: ref.description) == ref)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let input: String
        let reason: String
        var testDescription: String { input.count > 40 ? String(input.prefix(40)) + "…" : input }
    }

    static let invalid: [Invalid] = [
        .init(input: "", reason: "empty"),
        .init(input: "Alpine", reason: "lowercase"),
        .init(input: "docker.io/Library/alpine", reason: "lowercase"),
        .init(input: "localhost:5000/A/b", reason: "lowercase"),
        .init(input: "alpine@sha256:abc", reason: "64 lowercase hex"),
        .init(input: "alpine@sha256:\(String(repeating: "A", count: 64))", reason: "64 lowercase hex"),
        .init(input: "alpine@md5:d41d8cd98f00b204e9800998ecf8427e", reason: "unsupported algorithm"),
        .init(input: "alpine@", reason: "bad digest"),
        .init(input: "alpine@sha256", reason: "bad digest"),
        .init(input: "alpine:\(String(repeating: "t", count: 129))", reason: "longer than 128"),
        .init(input: "alpine:", reason: "empty tag"),
        .init(input: "alpine:.bad", reason: "invalid tag"),
        .init(input: "alpine:-bad", reason: "invalid tag"),
        .init(input: "alpine:bad/tag", reason: "port"),
        .init(input: "a//b", reason: "empty path component"),
        .init(input: "a/", reason: "empty path component"),
        .init(input: "/a", reason: "empty path component"),
        .init(input: "localhost:5000/", reason: "missing repository"),
        .init(input: ":tag", reason: "missing repository"),
        .init(input: "@sha256:\(hex)", reason: "missing repository"),
        .init(input: "-a", reason: "path component"),
        .init(input: "a-", reason: "path component"),
        .init(input: "a..b", reason: "path component"),
        .init(input: "a___b", reason: "path component"),
        .init(input: "_a", reason: "path component"),
        .init(input: "a b", reason: "spaces"),
        .init(input: "héllo", reason: "non-ascii"),
        .init(input: "\u{1}x", reason: "control"),
        .init(input: "!!garbage!!", reason: "path component"),
        .init(input: "http://host/a", reason: "port"),
        .init(input: "host:port/a", reason: "port"),
        .init(input: "host:99999/a", reason: "port"),
        .init(input: "host:/a", reason: "port"),
        .init(input: "-host.com/a", reason: "registry host"),
        .init(input: "host..com/a", reason: "registry host"),
        .init(input: "[::1/a", reason: "ipv6"),
        .init(input: "[zz::1]:5000/a", reason: "ipv6"),
        .init(input: "[::1]x/a", reason: "registry"),
        .init(input: "a@sha256:\(hex)@sha256:\(hex)", reason: "bad digest"),
        .init(input: "\(String(repeating: "a", count: 256))", reason: "longer than 255"),
        .init(input: "example.com/a/\(String(repeating: "b", count: 250))", reason: "longer than 255"),
        .init(input: "a/B", reason: "lowercase"),
        .init(input: "a.-b", reason: "path component"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidReference(_ c: Invalid) {
        do {
            let ref = try Reference(parsing: c.input)
            Issue.record("expected \"\(c.input)\" to be rejected, got \(ref)")
        } catch let error as SignetOCIError {
            #expect(error.code == .invalidReference)
            #expect(error.message.lowercased().contains(c.reason.lowercased()), "\(error.message) should mention \(c.reason)")
            #expect(error.message.hasPrefix("invalid image reference"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func countOfReferenceCasesIsAtLeastSixty() {
        #expect(Self.valid.count + Self.invalid.count >= 60)
    }

    @Test func withTagAndWithDigest() throws {
        let ref = try Reference(parsing: "localhost:5000/a/b:t")
        let d = try Digest(parsing: "sha256:\(Self.hex)")
        #expect(ref.withDigest(d).description == "localhost:5000/a/b@sha256:\(Self.hex)")
        #expect(try ref.withTag("v2").description == "localhost:5000/a/b:v2")
        #expect(try ref.withTag(d.tagSafe + ".sig").description == "localhost:5000/a/b:sha256-\(Self.hex).sig")
        #expect(throws: SignetOCIError.self) { try ref.withTag("bad tag") }
        #expect(ref.identifier == "t")
        #expect(try Reference(parsing: "alpine").identifier == "latest")
        #expect(try Reference(parsing: "a:t@sha256:\(Self.hex)").identifier == "sha256:\(Self.hex)")
        #expect(ref.repositoryOnly.description == "localhost:5000/a/b")
    }

    @Test(arguments: [
        ("localhost:5000", true), ("localhost", true), ("127.0.0.1:5000", true), ("127.1.2.3", true),
        ("[::1]:5000", true), ("[::1]", true), ("index.docker.io", false), ("10.0.0.1:5000", false),
        ("127.example.com", false), ("myhost:5000", false),
    ])
    func loopbackDetection(_ host: String, _ loopback: Bool) {
        #expect(Reference.isLoopback(host: host) == loopback)
    }

    @Test func initFromParts() throws {
        let r = try Reference(registry: "docker.io", repository: "alpine", tag: "3")
        #expect(r.description == "index.docker.io/library/alpine:3")
        let local = try Reference(registry: "myhost", repository: "a/b")
        #expect(local.registry == "myhost")
        #expect(throws: SignetOCIError.self) { try Reference(registry: "bad host", repository: "a") }
    }

    /// The memo answers as the parser does, valid or not, and stays bounded.
    @Test(arguments: valid)
    func parsedIfValidAgreesWithTheParser(_ c: Valid) throws {
        #expect(Reference.parsedIfValid(c.input) == (try Reference(parsing: c.input)))
        #expect(Reference.parsedIfValid(c.input) == (try Reference(parsing: c.input)))
    }

    @Test(arguments: invalid)
    func parsedIfValidIsNilForInvalidText(_ c: Invalid) {
        #expect(Reference.parsedIfValid(c.input) == nil)
    }

    @Test func parsedIfValidIsBounded() {
        for i in 0..<(Reference.memoCapacity + 10) {
            _ = Reference.parsedIfValid("r.io/bound:\(i)")
            #expect(Reference.memoCount <= Reference.memoCapacity)
        }
        #expect(Reference.parsedIfValid("r.io/bound:1")?.tag == "1")
    }
}
