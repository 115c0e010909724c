import Foundation
import SignetCEL
@testable import SignetPolicy
import SignetPrimitives
import Testing

/// Kyverno's `time`, `hash`, `x509`, `image.GetMetadata` and the Kubernetes `authorizer` CEL libraries.
@Suite struct KyvernoCELLibraryExtrasTests {
    /// Evaluates `expression` in the Kyverno policy environment with `data` and `admission`.
    static func eval(_ expression: String, data: KyvernoCELData = .empty,
                     admission: AdmissionInfo = AdmissionInfo(username: "alice", groups: ["dev"])) throws -> CELValue {
        let program = try KyvernoCELLibrary.environment.compile(expression)
        var vars = KyvernoCELLibrary.handles(data)
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web-0", "namespace": "default"]]
        vars.merge(KyvernoCELLibrary.authorizerVariables(data.authorizer, admission: admission, info: ResourceInfo(pod))) { _, new in new }
        for k in ["object", "oldObject", "request", "namespaceObject", "params", "variables", "exceptions"] { vars[k] = .null }
        return program.run(CELActivation(vars)).value
    }

    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/x509/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    // MARK: time

    @Test(arguments: [
        ("time.truncate(timestamp('2024-05-06T07:08:09.5Z'), duration('1h')) == timestamp('2024-05-06T07:00:00Z')", true),
        // Go truncates relative to 0001-01-01 (a Monday): 2024-05-08 (Wednesday) → Monday 2024-05-06
        ("time.truncate(timestamp('2024-05-08T07:08:09Z'), duration('168h')) == timestamp('2024-05-06T00:00:00Z')", true),
        ("time.truncate(timestamp('2024-05-06T07:08:09Z'), duration('0s')) == timestamp('2024-05-06T07:08:09Z')", true),
        ("time.truncate(timestamp('2024-05-06T07:08:09Z'), duration('-5m')) == timestamp('2024-05-06T07:08:09Z')", true),
        ("time.truncate(timestamp('0001-01-01T00:00:00Z'), duration('1h')) == timestamp('0001-01-01T00:00:00Z')", true),
        ("time.truncate(timestamp('1969-12-31T23:59:59.9Z'), duration('1s')) == timestamp('1969-12-31T23:59:59Z')", true),
        ("time.toCron(timestamp('2024-05-06T07:08:09Z')) == '8 7 6 5 1'", true),
        ("time.toCron(timestamp('1969-12-31T23:59:00Z')) == '59 23 31 12 3'", true),
        ("time.toCron(timestamp('2000-02-29T00:00:00Z')) == '0 0 29 2 2'", true),
        ("time.toCron(timestamp('9999-12-31T23:59:59Z')) == '59 23 31 12 5'", true),
        ("time.now() > timestamp('2020-01-01T00:00:00Z')", true),
        ("type(time.now()) == google.protobuf.Timestamp", true),
        ("time.now() - duration('4380h') < time.now()", true),
    ])
    func time(_ expression: String, _ expected: Bool) throws {
        #expect(try Self.eval(expression) == .bool(expected))
    }

    // MARK: hash

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "d41d8cd98f00b204e9800998ecf8427e"),
        ("hello", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "5d41402abc4b2a76b9719d911017c592"),
        ("kyverno", "6fec57cb57bfc38106901b9a0c4f3155ebb386f5", "6900ead2739f4d80767db3f097b8c7e352c395dac245945161cb7d5e3f8438b3", "9638dd54a7735b1d741a6e202444d186"),
    ])
    func hashes(_ input: String, _ sha1: String, _ sha256: String, _ md5: String) throws {
        for prefix in ["", "hash."] {
            #expect(try Self.eval("\(prefix)sha1('\(input)')") == .string(sha1))
            #expect(try Self.eval("\(prefix)sha256('\(input)')") == .string(sha256))
            #expect(try Self.eval("\(prefix)md5('\(input)')") == .string(md5))
        }
    }

    @Test func hashOfOversizedInputIsAnError() throws {
        let big = String(repeating: "a", count: KyvernoCELExtras.maximumInputBytes + 1)
        #expect(KyvernoCELExtras.hash("sha256", .string(big)).errorValue != nil)
        #expect(KyvernoCELExtras.hash("sha256", .int(1)).errorValue != nil)
    }

    // MARK: math.round, random

    @Test(arguments: [
        ("math.round(3.14159, 2)", CELValue.double(3.14)),
        ("math.round(2.5, 0)", .double(3)),
        ("math.round(-2.5, 0)", .double(-3)),
        ("math.round(1234.5, -2)", .double(1200)),
        ("math.round(1.5)", .double(2)),
    ])
    func mathRound(_ expression: String, _ expected: CELValue) throws {
        #expect(try Self.eval(expression) == expected)
    }

    @Test func mathRoundWithHugePrecisionDoesNotTrap() throws {
        let v = try Self.eval("math.round(1.5, 9223372036854775807)")
        #expect(v.doubleValue != nil)
    }

    @Test func randomMatchesItsPattern() throws {
        #expect(try Self.eval("random('[a-c]{5}').matches('^[a-c]{5}$')") == .bool(true))
        #expect(try Self.eval("random().matches('^[0-9a-z]{8}$')") == .bool(true))
        #expect(try Self.eval("random.random('x[0-9]') .size() == 2") == .bool(true))
        #expect(try Self.eval("random('(')").errorValue != nil)
    }

    @Test(arguments: [
        ("json.marshal({'b': 1, 'a': ['<x>', true, null]})", CELValue.string(#"{"a":["\u003cx\u003e",true,null],"b":1}"#)),
        ("json.unmarshal(json.marshal({'k': 'v'})).k", .string("v")),
        ("yaml.parse('a: 1\\nb: [x, z]').b[1]", .string("z")),
        ("user.parseServiceAccount('system:serviceaccount:ns:sa').Name", .string("sa")),
        ("transform.listObjToMap([{'k': 'a', 'v': 1}], [], 'k', 'v').a", .int(1)),
    ])
    func encodingsAndPrefixedNames(_ expression: String, _ expected: CELValue) throws {
        let value = try Self.eval(expression)
        #expect(value == expected, "\(value)")
    }

    // MARK: x509

    @Test func decodesCertificate() throws {
        let pem = try Self.fixture("cert.pem")
        let v = KyvernoCELExtras.decode(.string(pem))
        let m = try #require(v.mapValue)
        #expect(m[.string("SerialNumber")] == .int(0x1234))
        #expect(m[.string("IsCA")] == .bool(true))
        #expect(m[.string("BasicConstraintsValid")] == .bool(true))
        #expect(m[.string("PublicKeyAlgorithm")] == .int(1))
        #expect(m[.string("PublicKey")]?.mapValue?[.string("E")] == .int(65537))
        #expect(m[.string("DNSNames")] == .list([.string("example.com")]))
        #expect(m[.string("IPAddresses")] == .list([.string("10.0.0.1")]))
        #expect(m[.string("Issuer")]?.mapValue?[.string("CommonName")] == .string("signet-test"))
        #expect(m[.string("NotBefore")]?.stringValue?.hasSuffix("Z") == true)
        // Kyverno's CEL output is a subset of Go's Certificate: no Subject, Version, SignatureAlgorithm
        #expect(m[.string("Subject")] == nil)
        #expect(m[.string("Version")] == nil)
        #expect(m.count == KyvernoCELExtras.certificateFields.count)
        // through the environment
        let escaped = pem.replacingOccurrences(of: "\n", with: "\\n")
        #expect(try Self.eval("x509.decode('\(escaped)').Issuer.Organization[0] == 'Signet'") == .bool(true))
    }

    @Test func serialNumberIsGoInt64OfTheBigInteger() throws {
        // 0x0102030405060708090A: big.Int.Int64() keeps the low 64 bits
        let v = KyvernoCELExtras.decode(.string(try Self.fixture("bigserial.pem")))
        #expect(v.mapValue?[.string("SerialNumber")] == .int(0x0304_0506_0708_090A))
        #expect(DERSerial.int64(of: []) == nil)
        #expect(DERSerial.int64(of: [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
    }

    @Test func decodesCertificateRequest() throws {
        let v = KyvernoCELExtras.decode(.string(try Self.fixture("csr.pem")))
        let m = try #require(v.mapValue)
        #expect(m[.string("Subject")]?.mapValue?[.string("CommonName")] == .string("signet-csr"))
        #expect(m[.string("RawTBSCertificateRequest")] != nil)
    }

    @Test(arguments: [
        "",
        "not a pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nMAA=",
    ])
    func hostileX509InputIsAnErrorValue(_ input: String) {
        #expect(KyvernoCELExtras.decode(.string(input)).errorValue != nil)
    }

    /// Truncations and byte flips of a real certificate: each decodes to a map or an error value.
    @Test func mangledCertificatesNeverTrap() throws {
        let pem = try Self.fixture("cert.pem")
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: body))
        func wrap(_ bytes: Data) -> CELValue {
            .string("-----BEGIN CERTIFICATE-----\n\(bytes.base64EncodedString())\n-----END CERTIFICATE-----\n")
        }
        var errors = 0
        for n in stride(from: 0, to: der.count, by: 5) {
            if KyvernoCELExtras.decode(wrap(der.prefix(n))).errorValue != nil { errors += 1 }
        }
        #expect(errors > 0)
        for i in stride(from: 0, to: der.count, by: 3) {
            var flipped = der
            flipped[i] ^= 0xFF
            let v = KyvernoCELExtras.decode(wrap(flipped))
            #expect(v.errorValue != nil || v.mapValue != nil)
        }
        // the serial reader alone, on every prefix: the serial once its bytes are complete, else nil
        let full = DERSerial.int64(of: [UInt8](der))
        #expect(full == 0x1234)
        for n in 0..<min(der.count, 64) { _ = DERSerial.int64(of: [UInt8](der.prefix(n))) }
    }

    @Test func nonRSACertificateIsAnError() throws {
        let v = KyvernoCELExtras.decode(.string(try Self.fixture("ec.pem")))
        #expect(v.errorValue?.message.contains("rsa") == true)
        #expect(KyvernoCELExtras.decode(.string(String(repeating: "A", count: KyvernoCELExtras.maximumInputBytes + 1))).errorValue != nil)
    }

    // MARK: image.GetMetadata

    @Test func getMetadataReadsPrefetchedImages() throws {
        var data = KyvernoCELData()
        data.images = ["nginx:1.21": ["image": "nginx:1.21", "config": ["architecture": "amd64"],
                                      "manifest": ["annotations": ["a": "b"]]]]
        #expect(try Self.eval("image.GetMetadata('nginx:1.21').config.architecture == 'amd64'", data: data) == .bool(true))
        #expect(try Self.eval("image.getMetadata('nginx:1.21').manifest.annotations['a']", data: data) == .string("b"))
        let miss = try Self.eval("image.GetMetadata('nginx:1.22')", data: data)
        #expect(miss.errorValue?.message.contains("not found in the context") == true)
    }

    @Test func contextFileImagesAreStoredAsKyvernoCLIStoresThem() throws {
        let doc = try JSONValue(json: """
        {"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Context", "spec": {"images": [
          {"image": "docker.io/redis:latest", "config": {"created": "2099-05-01T03:15:12-07:00"}},
          {"image": "busybox", "digest": "sha256:abc", "manifest": {"schemaVersion": 2}},
          {"noimage": true}]}}
        """)
        let images = KyvernoTestRunner.contextImages(doc)
        #expect(images.count == 2)
        #expect(images["docker.io/redis:latest"] == ["image": "docker.io/redis:latest", "resolvedImage": "", "registry": "",
                                                     "repository": "", "config": ["created": "2099-05-01T03:15:12-07:00"]])
        #expect(images["busybox"]?["digest"] == "sha256:abc")
        #expect(images["busybox"]?["tag"] == nil)
    }

    @Test func containerImagesOfWorkloads() throws {
        let pod = try JSONValue(json: """
        {"kind": "Pod", "spec": {"initContainers": [{"image": "init"}], "containers": [{"image": "a"}, {"name": "noimage"}],
                                  "ephemeralContainers": [{"image": "debug"}]}}
        """)
        #expect(PrefetchedImageData.containerImages(of: pod) == ["init", "a", "debug"])
        let cron = try JSONValue(json: """
        {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "job"}]}}}}}}
        """)
        #expect(PrefetchedImageData.containerImages(of: cron) == ["job"])
        #expect(PrefetchedImageData.containerImages(of: "text") == [])
    }

    /// Counts fetches in flight; fails references containing "bad".
    actor Gauge {
        var current = 0, peak = 0, total = 0
        func enter() { current += 1; total += 1; peak = max(peak, current) }
        func leave() { current -= 1 }
    }
    struct FakeImageData: ImageDataProvider {
        let gauge: Gauge
        func imageData(reference: String) async throws -> KyvernoImageData {
            await gauge.enter()
            try? await Task.sleep(for: .milliseconds(2))
            await gauge.leave()
            if reference.contains("bad") { throw SignetPolicyError(.io, "cannot reach \(reference)") }
            return KyvernoImageData(image: reference, resolvedImage: reference + "@sha256:0", registry: "r", repository: "x",
                                    identifier: "v1", tag: "v1", digest: "sha256:0", manifest: ["schemaVersion": 2], config: ["os": "linux"])
        }
    }

    @Test func prefetchIsBoundedDeduplicatedAndRecordsFailures() async throws {
        let gauge = Gauge()
        let refs = (0..<100).map { "img\($0 % 80)" } + ["bad"]
        let out = await PrefetchedImageData.fetch(references: refs, provider: FakeImageData(gauge: gauge))
        #expect(out.images.count + out.failures.count == PrefetchedImageData.maximumReferences)
        #expect(await gauge.total == PrefetchedImageData.maximumReferences)
        #expect(await gauge.peak <= PrefetchedImageData.maximumConcurrentFetches)
        let two = await PrefetchedImageData.fetch(references: ["a", "bad", "a"], provider: FakeImageData(gauge: Gauge()))
        #expect(two.images.keys.sorted() == ["a"])
        #expect(two.failures["bad"] == "cannot reach bad")
        #expect(two.celImages["a"]?["tag"] == "v1")
        #expect(two.contextImages["a"]?["configData"]?["os"] == "linux")
    }

    @Test func needsImageDataOnlyWhenAPolicyReadsIt() throws {
        let foreachPolicy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: p}
        spec:
          rules:
          - name: r
            match: {any: [{resources: {kinds: [Pod]}}]}
            validate:
              foreach:
              - list: request.object.spec.containers
                context:
                - name: imageData
                  imageRegistry: {reference: "{{ element.image }}"}
                deny: {conditions: {any: [{key: "{{ imageData.configData.os }}", operator: NotEquals, value: linux}]}}
        """
        let plain = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: q}
        spec:
          rules:
          - name: r
            match: {any: [{resources: {kinds: [Pod]}}]}
            validate: {pattern: {metadata: {name: "?*"}}}
        """
        let vpol = """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata: {name: v}
        spec:
          matchConstraints: {resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]}
          validations:
          - expression: "image.getMetadata(object.spec.containers[0].image).config.os == 'linux'"
        """
        let loader = PolicyLoader()
        #expect(PolicyEngine(policies: try loader.load(yaml: foreachPolicy).policies).needsImageData)
        #expect(!PolicyEngine(policies: try loader.load(yaml: plain).policies).needsImageData)
        let v = try loader.load(yaml: vpol)
        #expect(PolicyEngine(policies: [], celEngine: CELPolicyEngine(policies: v.validatingPolicies)).needsImageData)
    }

    // MARK: authorizer

    /// Allows alice to get pods in `default`, the `ns1/sa` service account to list secrets, and
    /// everyone `get /healthz`; records nothing (a pure function of the request).
    struct TableAuthorizer: KubernetesAuthorizer {
        func authorize(_ r: KubernetesAuthorizationRequest) -> KubernetesAuthorizationDecision {
            if r.path == "/healthz", r.verb == "get" { return .init(.allow, reason: "public") }
            if r.user == "alice", r.group == "", r.resource == "pods", r.namespace == "default", r.verb == "get" {
                return .init(.allow, reason: "alice reads pods")
            }
            if r.user == "system:serviceaccount:ns1:sa", r.groups.contains("system:serviceaccounts:ns1"),
               r.resource == "secrets", r.subresource == "", r.verb == "list" {
                return .init(.allow)
            }
            if r.resource == "deployments", r.subresource == "scale", r.name == "web" { return .init(.allow) }
            return .init(.noOpinion, reason: "no rule")
        }
    }

    @Test(arguments: [
        ("authorizer.group('').resource('pods').namespace('default').check('get').allowed()", CELValue.bool(true)),
        ("authorizer.group('').resource('pods').namespace('default').check('get').reason()", .string("alice reads pods")),
        ("authorizer.group('').resource('pods').namespace('kube-system').check('get').allowed()", .bool(false)),
        ("authorizer.group('').resource('pods').namespace('kube-system').check('get').reason()", .string("no rule")),
        ("authorizer.group('').resource('pods').check('get').errored()", .bool(false)),
        ("authorizer.group('').resource('pods').check('get').error()", .string("")),
        ("authorizer.serviceAccount('ns1', 'sa').group('').resource('secrets').check('list').allowed()", .bool(true)),
        ("authorizer.serviceAccount('ns2', 'sa').group('').resource('secrets').check('list').allowed()", .bool(false)),
        ("authorizer.path('/healthz').check('get').allowed()", .bool(true)),
        ("authorizer.path('/metrics').check('get').allowed()", .bool(false)),
        ("authorizer.group('apps').resource('deployments').subresource('scale').name('web').check('update').allowed()", .bool(true)),
        ("authorizer.group('apps').resource('deployments').name('web').check('update').allowed()", .bool(false)),
        // the request's own resource: pods in default, as alice
        ("authorizer.requestResource.check('get').allowed()", .bool(true)),
        ("authorizer.requestResource.check('delete').allowed()", .bool(false)),
        ("authorizer.requestResource.namespace('other').check('get').allowed()", .bool(false)),
    ])
    func authorizerChecks(_ expression: String, _ expected: CELValue) throws {
        var data = KyvernoCELData()
        data.authorizer = TableAuthorizer()
        #expect(try Self.eval(expression, data: data) == expected)
    }

    @Test func offlineAuthorizerDeniesWithAnError() throws {
        var data = KyvernoCELData()
        data.authorizer = OfflineKubernetesAuthorizer()
        #expect(try Self.eval("authorizer.group('').resource('pods').check('get').allowed()", data: data) == .bool(false))
        #expect(try Self.eval("authorizer.group('').resource('pods').check('get').errored()", data: data) == .bool(true))
        #expect(try Self.eval("authorizer.group('').resource('pods').check('get').error()", data: data).stringValue?.contains("no cluster") == true)
        // no authorizer: the variable is null, and using it is an error value, not a trap
        #expect(try Self.eval("authorizer == null") == .bool(true))
        #expect(try Self.eval("authorizer.group('')").errorValue != nil)
    }
}
