import Foundation
import SignetPolicy
import SignetPrimitives

extension AdmissionController {
    /// Why reads fail when `serve` has no API server.
    static let noKubernetesAPI = "signet serve runs without kubernetes api access (--kubernetes-api): cluster data cannot be read"

    /// Step 3 (*evaluate*) for a set whose policies read cluster data (`PolicySet.clusterDataNeeds`):
    /// record → read → evaluate again, in bounded rounds.
    ///
    /// Each round evaluates the policies that read cluster data with a `ClusterDataView` of the
    /// answers read so far; the reads they asked for and that were not known are read from the
    /// API server (`ClusterDataSource.read`: concurrent, cached, within `deadline`), and the
    /// round is repeated, because a read can depend on an earlier answer. The last round
    /// (`Limits.maximumRounds` rounds of reads, `maximumReadsPerRequest` reads) answers what is
    /// still unknown with an error, so a policy that keeps asking ends in a rule error and
    /// failurePolicy decides. Policies that read nothing from the cluster are evaluated once.
    func evaluateWithClusterData(_ object: JSONValue, admission: AdmissionInfo, set: PolicySet, engines: [PolicyEngine],
                                 fixed: [Int: PolicyResult], configuration: PolicyEngine.Configuration,
                                 verifications: VerificationResults, secondPass: SecondPassImages,
                                 deadline: ContinuousClock.Instant) async -> EngineResponse {
        let needs = set.clusterDataNeedsByEngine
        let celNeeds = set.celClusterDataNeeds
        var results: [Int: PolicyResult] = fixed
        for (index, engine) in engines.enumerated() where results[index] == nil && needs[index].isEmpty {
            if let r = engine.evaluate(object, admission: admission, verifications: verifications, secondPass: secondPass).policies.first {
                results[index] = r
            }
        }
        let staticCEL = celNeeds.isEmpty
            ? set.celEngine?.evaluate(object, admission: admission, context: configuration.cel, verifications: verifications, secondPass: secondPass)
            : nil

        var answers: [ClusterQuery: ClusterAnswer] = [:]
        var reads = 0
        let limits = clusterData?.limits ?? ClusterDataSource.Limits()
        if let clusterData, set.clusterDataNeeds.contains(.globalReference) {
            // `globalReference` entries read VariableValues.globalContext: known before the first round
            answers.merge(await clusterData.read([.globalContextEntries], deadline: deadline)) { _, new in new }
            reads += 1
        }
        var httpAnswers: [KyvernoHTTPCall: KyvernoClusterRead] = [:]
        let cached: (@Sendable (ClusterQuery) -> ClusterAnswer?)? = clusterData.map { source in { @Sendable query in source.cachedAnswer(query) } }
        var round = 0
        while true {
            let finalReason: String? = clusterData == nil ? Self.noKubernetesAPI
                : round >= limits.maximumRounds ? "cluster reads still depend on earlier answers after \(limits.maximumRounds) rounds of reads" : nil
            let view = ClusterDataView(answers: answers, finalReason: finalReason, cached: cached)
            var c = configuration
            if c.contextProvider == nil { c.contextProvider = view }
            if case .globalContext(let entries)? = answers[.globalContextEntries] {
                for (name, entry) in entries {
                    if case .success(let data) = entry.data, c.variables.globalContext[name] == nil { c.variables.globalContext[name] = data }
                }
            }
            if c.cel.data.clusterReader == nil { c.cel.data.clusterReader = view }
            if c.cel.data.authorizer == nil { c.cel.data.authorizer = view }
            // CEL `http` calls to allowed hosts: recorded, made, evaluated again, as cluster reads
            let httpFinal: String? = round >= limits.maximumRounds ? "http calls still depend on earlier answers after \(limits.maximumRounds) rounds" : nil
            let httpView = celHTTP.map { HTTPCallView(client: $0, answers: httpAnswers, finalReason: httpFinal) }
            if c.cel.data.httpReader == nil, c.cel.data.httpResponses == nil { c.cel.data.httpReader = httpView }

            var response = EngineResponse(resource: ResourceInfo(object), policies: [])
            response.policies.reserveCapacity(engines.count)
            for (index, engine) in engines.enumerated() {
                if let r = results[index] { response.policies.append(r); continue }
                if let r = engine.with(verifier: nil, configuration: c)
                    .evaluate(object, admission: admission, verifications: verifications, secondPass: secondPass).policies.first {
                    response.policies.append(r)
                }
            }
            if let staticCEL {
                response.policies += staticCEL
            } else if let cel = set.celEngine {
                response.policies += cel.evaluate(object, admission: admission, context: c.cel, verifications: verifications, secondPass: secondPass)
            }

            let missing = view.missing
            if let httpView, let celHTTP, httpFinal == nil, !httpView.missing.isEmpty {
                // the calls first; cluster reads missing in the same round follow below
                // at most maximumCallsPerRequest calls in all rounds; the rest are errors
                let calls = httpView.missing
                let now = Array(calls.prefix(max(0, celHTTP.maximumCallsPerRequest - httpAnswers.count)))
                for call in calls.dropFirst(now.count) { httpAnswers[call] = .failed("more than \(celHTTP.maximumCallsPerRequest) http calls in one request") }
                httpAnswers.merge(await celHTTP.perform(now, deadline: deadline)) { _, new in new }
                if clusterData == nil || missing.isEmpty || finalReason != nil { round += 1; continue }
            }
            guard let clusterData, !missing.isEmpty, finalReason == nil else {
                logFailures(answers)
                return response
            }
            let budget = max(0, limits.maximumReadsPerRequest - reads)
            let now = Array(missing.prefix(budget))
            for query in missing.dropFirst(now.count) {
                answers[query] = .failed("more than \(limits.maximumReadsPerRequest) cluster reads in one request")
            }
            reads += now.count
            answers.merge(await clusterData.read(now, deadline: deadline)) { _, new in new }
            round += 1
        }
    }

    /// One warning per request whose cluster reads failed (the rules report them as errors).
    func logFailures(_ answers: [ClusterQuery: ClusterAnswer]) {
        let failures = answers.compactMap { q, a -> String? in if case .failed(let m) = a { "\(q): \(m)" } else { nil } }
        guard !failures.isEmpty else { return }
        metrics.verificationError(reason: "cluster")
        logger.warning("cluster data read failed", metadata: ["reason": "\(failures.sorted().prefix(5).joined(separator: "; "))"])
    }
}
