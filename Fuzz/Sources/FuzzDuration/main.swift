// Go durations: the API server's `?timeout=` parameter as the webhook reads it
// (`AdmissionServer.budget(forTimeoutParameter:)`), and durations in policy patterns (`<24h`,
// GoDuration in Quantities.swift) on either side of a comparison.
import Foundation
import FuzzSupport
import SignetPrimitives
import Logging
import SignetAdmission
import SignetPolicy

struct NoReviewer: AdmissionReviewer {
    func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup,
                deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        AdmissionResponse(uid: request.uid, allowed: true)
    }
    var isReady: Bool { true }
}

/// A server as `signet serve` builds it (never started): budget() is a method of it.
let server: AdmissionServer = {
    do {
        let pair = try WebhookCertificates.generate(dnsNames: ["localhost"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("tls.crt"), key = dir.appendingPathComponent("tls.key")
        try pair.certificatePEM.write(to: cert, atomically: true, encoding: .utf8)
        try pair.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        let tls = try ReloadingTLSIdentity(certificatePath: cert.path, keyPath: key.path)
        try? FileManager.default.removeItem(at: dir)
        return AdmissionServer(configuration: .init(), tls: tls, reviewer: NoReviewer(), metrics: AdmissionMetrics(),
                               violations: ViolationStore(capacity: 1),
                               logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    } catch {
        fatalError("cannot build the server: \(error)")
    }
}()

let bounds = ["<24h", ">=1h30m", "1s-1m", "!-1ms-2us", "<=1.5h & >0"]
let values: [String] = ["90m", "1h2m3.5s", "-3µs", "0", "1e3s"]

@_cdecl("FuzzDuration_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    if !Fuzz.hugeDurationNumber(text) {
        let budget = server.budget(forTimeoutParameter: text)
        Fuzz.invariant(budget >= .zero || text.hasPrefix("-"), "negative budget \(budget) for '\(text)'")
    }
    for bound in bounds { _ = Pattern(["v": .string(bound)]).match(["v": .string(text)]) }
    let fuzzed = Pattern(["v": .string("<" + text)])
    for value in values { _ = fuzzed.match(["v": .string(value)]) }
    return 0
}
