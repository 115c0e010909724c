import Hummingbird

/// Times every admission request and counts it by route and status code
/// (`signet_admission_requests_total`, `signet_admission_request_duration_seconds`): applied to
/// the review routes only, so the probes do not dilute the latency histogram. The label is the
/// route's own path (`context.endpointPath`), never the request's, so a client cannot grow the
/// label set.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AdmissionMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = context.endpointPath ?? "other"
        do {
            let response = try await next(request, context)
            metrics.request(path: path, code: Int(response.status.code), duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.request(path: path, code: Int(status.code), duration: ContinuousClock.now - start)
            throw error
        }
    }
}
