import ArgumentParser
import Foundation
import Logging
import SignetAdmission
import SignetOCI
import SignetPolicy
import SignetPrimitives
import SignetVerification

/// `signet-bench admission`: the admission work of one warm review, in process, without HTTP or
/// TLS (issue 11): the bench-admission Pod and key policy, the verification cached. Side by side
/// on one core: the floor (parse the AdmissionReview and write a reply), the warm path
/// (`reviewImmediately`, as `ImmediateReviewHandler` runs it) and the full async `review`.
struct AdmissionBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admission", abstract: "Microseconds of admission work per warm review.")

    @Option(help: "Seconds to measure each path.") var seconds = 3.0

    /// Answers every verification "verified" (the cache is warmed once, then never asks again).
    struct Verified: ImageVerifier, DigestResolver {
        func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult {
            .verified(digest: request.reference.digest?.description ?? "")
        }
        func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest {
            guard let digest = reference.digest else { throw ValidationError("the bench image is pinned") }
            return digest
        }
    }

    @Option(help: "Policy and review templates, shared with scripts/bench-admission.")
    var fixtures = "scripts/bench-fixtures/admission"

    static let registry = "registry.example.com:5000"
    static let publicKey = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH8YakVeq6hwREqu2unLfi2NdfH2R
        tkL+mmB6aFfe6XUUwT3fCNbohTJinc/aXHZyo51yEH3Rqtp4Z93jUgvs0w==
        -----END PUBLIC KEY-----
        """

    /// The policy template with the registry and the key (indented as its `@PUBLIC_KEY@` line).
    static func policy(_ template: String) -> String {
        template.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let at = line.range(of: "@PUBLIC_KEY@") else { return line.replacingOccurrences(of: "@REGISTRY@", with: registry) }
            let indent = line[..<at.lowerBound]
            return publicKey.split(separator: "\n").map { indent + $0 }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    func run() async throws {
        let template = try String(contentsOfFile: fixtures + "/require-signed-images.yaml", encoding: .utf8)
        let review = try String(contentsOfFile: fixtures + "/review.json", encoding: .utf8)
        let body = Data(review.replacingOccurrences(of: "@IMAGE@", with: Self.registry
            + "/bench/app:v1@sha256:fcb3e944a8f865b0bf01144adba562f3d8194a86678da3682a3c38adc6e16721").utf8)
        let loaded = try PolicyLoader().load(yaml: Self.policy(template))
        let set = PolicySet(policies: loaded.policies.map { LoadedPolicy(policy: $0, version: "bench") })
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let controller = AdmissionController(policies: PolicyStore(fixed: set),
                                             verification: VerificationService(verifier: Verified(), resolver: Verified()),
                                             metrics: AdmissionMetrics(), violations: ViolationStore(), logger: logger)
        func parse() throws -> AdmissionRequest {
            guard let request = try AdmissionReview(parsing: body).request else {
                throw ValidationError("the bench review has no request")
            }
            return request
        }
        let warm = await controller.review(try parse(), phase: .validate, group: .all, deadline: .now + .seconds(10))
        guard warm.allowed, controller.reviewImmediately(try parse(), phase: .validate, group: .all) == warm else {
            throw ValidationError("the warm review is not allowed, or not answered at once: \(warm)")
        }
        print("one Pod, one verifyImages rule with a public key, verification cached; \(seconds) s per path, one core")
        let floor = try measure { bytes in
            let request = try parse()
            bytes += try AdmissionReview.reply(AdmissionResponse(uid: request.uid, allowed: true)).replyData().count
        }
        let immediate = try measure { bytes in
            guard let response = controller.reviewImmediately(try parse(), phase: .validate, group: .all) else {
                throw ValidationError("not answered at once")
            }
            bytes += try AdmissionReview.reply(response).replyData().count
        }
        var full = 0.0
        do {
            let clock = ContinuousClock()
            var n = 0, bytes = 0
            let start = clock.now
            while clock.now - start < .seconds(seconds) {
                for _ in 0..<200 {
                    let response = await controller.review(try parse(), phase: .validate, group: .all, deadline: .now + .seconds(10))
                    bytes += try AdmissionReview.reply(response).replyData().count
                }
                n += 200
            }
            full = (clock.now - start) / .microseconds(1) / Double(n)
            guard bytes > 0 else { throw ValidationError("no reply was written") }
        }
        print(String(format: "floor: parse the review + write a reply       %6.1f us", floor))
        print(String(format: "warm path: parse + reviewImmediately + reply  %6.1f us  (%5.1f us beyond the floor)", immediate, immediate - floor))
        print(String(format: "full path: parse + await review + reply       %6.1f us  (%5.1f us beyond the floor)", full, full - floor))
    }

    /// Microseconds per call of `body`, over `seconds`.
    func measure(_ body: (inout Int) throws -> Void) throws -> Double {
        var bytes = 0
        for _ in 0..<500 { try body(&bytes) }
        let clock = ContinuousClock()
        var n = 0
        let start = clock.now
        while clock.now - start < .seconds(seconds) {
            for _ in 0..<500 { try body(&bytes) }
            n += 500
        }
        guard bytes > 0 else { throw ValidationError("no reply was written") }
        return (clock.now - start) / .microseconds(1) / Double(n)
    }
}
