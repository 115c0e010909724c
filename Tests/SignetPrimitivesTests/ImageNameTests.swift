import Testing
@testable import SignetPrimitives

/// The one image-reference grammar (distribution/reference) every Signet parser uses.
struct ImageNameTests {
    static let splits: [(String, String, String?, String?)] = [
        ("nginx", "nginx", nil, nil),
        ("nginx:1.25", "nginx", "1.25", nil),
        ("localhost:5000/app", "localhost:5000/app", nil, nil),
        ("localhost:5000/app:v1", "localhost:5000/app", "v1", nil),
        ("r.io/a/b@sha256:abc", "r.io/a/b", nil, "sha256:abc"),
        ("r.io/a:t@sha256:abc", "r.io/a", "t", "sha256:abc"),
        ("a@b/c:d", "a", nil, "b/c:d"),
        ("nginx:", "nginx", "", nil),
        ("", "", nil, nil),
    ]

    @Test(arguments: splits)
    func splitsNameTagAndDigest(_ text: String, _ name: String, _ tag: String?, _ digest: String?) {
        let parts = ImageName(splitting: text)
        #expect(parts.name == name)
        #expect(parts.tag.map(String.init) == tag)
        #expect(parts.digest.map(String.init) == digest)
    }

    static let registries: [(String, String?)] = [
        ("nginx", nil), ("library/nginx", nil), ("ghcr.io/a/b", "ghcr.io"), ("localhost/a", "localhost"),
        ("host:5000/a", "host:5000"), ("Registry/app", "Registry"), ("[::1]:5000/a", "[::1]:5000"),
        ("\u{C9}x/y", "\u{C9}x"), ("my_org/app", nil),
    ]

    @Test(arguments: registries)
    func findsTheRegistryComponentAsDockerDoes(_ name: String, _ registry: String?) {
        #expect(ImageName.registryComponent(of: Substring(name)).map { String($0.registry) } == registry)
    }

    static let pathComponentCases: [(String, Bool)] = [
        ("a", true), ("a0", true), ("a.b", true), ("a_b", true), ("a__b", true), ("a---b", true),
        ("a___b", false), ("a..b", false), ("a._b", false), (".a", false), ("a.", false), ("A", false),
        ("a-", false), ("", false), ("a/b", false),
    ]

    @Test(arguments: pathComponentCases)
    func pathComponents(_ text: String, _ valid: Bool) {
        #expect(ImageName.isValidPathComponent(Substring(text)) == valid)
    }

    static let domainCases: [(String, Bool, Bool)] = [
        // text, valid in distribution's grammar, valid with the TCP port range
        ("ghcr.io", true, true), ("localhost:5000", true, true), ("a-b.c", true, true), ("[::1]", true, true),
        ("[::1]:443", true, true), ("r.io:99999", true, false), ("r.io:0", true, false), ("-a.io", false, false),
        ("a-.io", false, false), ("a..io", false, false), (".a", false, false), ("a.", false, false),
        ("r.io:", false, false), ("r.io:x", false, false), ("[zz]", false, false), ("[::1", false, false),
        ("", false, false), ("a_b.io", false, false),
    ]

    @Test(arguments: domainCases)
    func domains(_ text: String, _ valid: Bool, _ validPort: Bool) {
        #expect((ImageName.domainProblem(Substring(text)) == nil) == valid)
        #expect((ImageName.domainProblem(Substring(text), portLimit: true) == nil) == validPort)
    }

    static let tagCases: [(String, Bool)] = [
        ("v1", true), ("_x", true), ("1.0-rc_1", true), (".x", false), ("-x", false), ("", false),
        (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false), ("a/b", false),
    ]

    @Test(arguments: tagCases)
    func tags(_ text: String, _ valid: Bool) {
        #expect(ImageName.isValidTag(text) == valid)
    }

    @Test func grammarSplitTriesTheDomainFirst() throws {
        let a = try #require(ImageName.grammarSplit("docker.io/library/nginx"))
        #expect(a.domain == "docker.io" && a.path == "library/nginx")
        let b = try #require(ImageName.grammarSplit("library/nginx"))
        #expect(b.domain == "library" && b.path == "nginx")
        let c = try #require(ImageName.grammarSplit("a_b.c/x"))
        #expect(c.domain.isEmpty && c.path == "a_b.c/x")
        #expect(ImageName.grammarSplit("Upper/Case") == nil)
    }

    @Test func pathProblemsNameTheReason() {
        #expect(ImageName.pathProblem("") == "missing repository name")
        #expect(ImageName.pathProblem("a//b")?.contains("empty path component") == true)
        #expect(ImageName.pathProblem("a/B")?.contains("lowercase") == true)
        #expect(ImageName.pathProblem("a/b!")?.contains("invalid repository path component") == true)
        #expect(ImageName.pathProblem("a/b/c") == nil)
    }
}
