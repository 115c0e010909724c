import Foundation
import Prometheus
import Synchronization

/// The webhook's Prometheus metrics, served at `/metrics` in the text exposition format.
///
/// - `signet_admission_requests_total{path,code}`
/// - `signet_admission_request_duration_seconds{path}` (histogram)
/// - `signet_admission_decisions_total{policy,rule,result}` (result: pass, fail, warn, error, skip)
/// - `signet_admission_responses_total{path,allowed}`
/// - `signet_verification_cache_total{result}` (hit, miss, shared)
/// - `signet_verification_duration_seconds` (histogram of cold verifications)
/// - `signet_verification_errors_total{reason}`
/// - `signet_policies_loaded`, `signet_policy_reload_errors_total`, `signet_tls_reloads_total{result}`
public final class AdmissionMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Series already made, by name and labels: the registry's own lookup builds its key and takes
    /// its lock on every call, a visible share of a warm admission.
    private let counters = SeriesCache<Counter>()
    private let histograms = SeriesCache<DurationHistogram>()

    private func counter(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        counters.series(name, labels) { registry.makeCounter(descriptor: Self.descriptor(name, unit, help), labels: labels) }
    }

    private func histogram(_ name: String, _ help: String, _ labels: [(String, String)]) -> DurationHistogram {
        histograms.series(name, labels) {
            registry.makeDurationHistogram(descriptor: Self.descriptor(name, "seconds", help), labels: labels, buckets: Self.latencyBuckets)
        }
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        // Registered up front so /metrics lists them from the start.
        func cacheCounter(_ result: CacheResult) -> Counter {
            registry.makeCounter(descriptor: Self.descriptor("verification_cache", "total", "Verification cache lookups: hit, miss, or shared with one in flight"),
                                 labels: [("result", result.rawValue)])
        }
        cacheHits = cacheCounter(.hit)
        cacheMisses = cacheCounter(.miss)
        cacheShared = cacheCounter(.shared)
        _ = policiesLoaded
        _ = policyReloadErrors
    }

    private static func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "signet", metricName: name, unitName: unit, helpText: help)
    }

    /// Counts one HTTP request and records its latency.
    public func request(path: String, code: Int, duration: Duration) {
        requests(path: path, code: code).increment()
        latency(path: path).record(duration)
    }

    /// Counts an admission response by outcome.
    public func response(path: String, allowed: Bool) {
        responses(path: path, allowed: allowed).increment()
    }

    // One definition per family, shared by the router's path and `ImmediateSeries`.
    private func requests(path: String, code: Int) -> Counter {
        counter("admission_requests", "total", "HTTP requests by path and status code", [("path", path), ("code", String(code))])
    }

    private func latency(path: String) -> DurationHistogram {
        histogram("admission_request_duration", "Admission request latency", [("path", path)])
    }

    private func responses(path: String, allowed: Bool) -> Counter {
        counter("admission_responses", "total", "Admission responses by path and outcome", [("path", path), ("allowed", String(allowed))])
    }

    /// The series a review answered on the event loop records (`request` with code 200,
    /// `response` and `signet_admission_immediate_reviews_total`), looked up once per path by
    /// `ImmediateReviewHandler`.
    struct ImmediateSeries {
        let requests: Counter
        let duration: DurationHistogram
        let allowed: Counter
        let denied: Counter
        let immediate: Counter

        func record(allowed isAllowed: Bool, duration elapsed: Duration) {
            (isAllowed ? allowed : denied).increment()
            immediate.increment()
            requests.increment()
            duration.record(elapsed)
        }
    }

    func immediateSeries(path: String) -> ImmediateSeries {
        ImmediateSeries(requests: requests(path: path, code: 200), duration: latency(path: path),
                        allowed: responses(path: path, allowed: true), denied: responses(path: path, allowed: false),
                        immediate: counter("admission_immediate_reviews", "total", "Reviews answered on the event loop (warm path) by path", [("path", path)]))
    }

    /// Counts one rule result.
    public func decision(policy: String, rule: String, result: String) {
        counter("admission_decisions", "total", "Rule results by policy, rule and result",
                [("policy", policy), ("rule", rule), ("result", result)]).increment()
    }

    /// Outcomes of a verification cache lookup.
    public enum CacheResult: String, Sendable { case hit, miss, shared }

    public func cache(_ result: CacheResult, count: Int64 = 1) {
        switch result {
        case .hit: cacheHits.increment(by: count)
        case .miss: cacheMisses.increment(by: count)
        case .shared: cacheShared.increment(by: count)
        }
    }

    // Made once: a warm review counts a hit for every verification it reads.
    private let cacheHits: Counter
    private let cacheMisses: Counter
    private let cacheShared: Counter

    /// Records the latency of one cold verification (registry and KMS round trips).
    public func verification(duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.descriptor("verification_duration", "seconds", "Cold image verification latency"),
                                       labels: [], buckets: Self.latencyBuckets).record(duration)
    }

    /// Counts a verification that could not complete (registry, kms, timeout).
    public func verificationError(reason: String) {
        registry.makeCounter(descriptor: Self.descriptor("verification_errors", "total", "Verifications that could not complete, by reason"),
                             labels: [("reason", reason)]).increment()
    }

    var policiesLoaded: Gauge {
        registry.makeGauge(descriptor: Self.descriptor("policies", "loaded", "Policies currently enforced"))
    }

    var policyReloadErrors: Counter {
        registry.makeCounter(descriptor: Self.descriptor("policy_reload_errors", "total", "Policy reloads rejected (the last good set keeps serving)"))
    }

    public func policiesLoaded(_ count: Int) { policiesLoaded.set(Double(count)) }
    public func policyReloadFailed() { policyReloadErrors.increment() }

    public func tlsReload(success: Bool) {
        registry.makeCounter(descriptor: Self.descriptor("tls_reloads", "total", "TLS certificate reloads"),
                             labels: [("result", success ? "success" : "error")]).increment()
    }

    /// The text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// Metric series by name and labels, made once.
private final class SeriesCache<Series: Sendable>: Sendable {
    /// A series by family name and labels as given (compared as values: the warm path counts
    /// every rule result, and no key text is built for the lookup).
    private struct Key: Hashable {
        struct Label: Hashable { let name, value: String }
        let name: String
        let labels: [Label]
    }
    private let table = Mutex<[Key: Series]>([:])

    func series(_ name: String, _ labels: [(String, String)], make: () -> Series) -> Series {
        let key = Key(name: name, labels: labels.map { Key.Label(name: $0.0, value: $0.1) })
        if let existing = table.withLock({ $0[key] }) { return existing }
        let made = make()
        table.withLock { $0[key] = made }
        return made
    }
}
