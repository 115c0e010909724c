import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SignetKMS

/// Signatures per second through `TransitSigner` beside the raw transit sign rate (plain
/// `POST MOUNT/sign/KEY/sha2-256` calls with a fixed body, nothing parsed), measured in the same
/// run against the same server, for each concurrency level. Meant for a benchmark executable
/// (`scripts/bench-kms`), never for unit tests.
enum TransitBenchmark {
    /// One measurement.
    struct Row: Sendable, CustomStringConvertible {
        /// `raw` or `signer`.
        let kind: String
        let concurrency: Int
        let operations: Int
        let seconds: Double
        var rate: Double { seconds > 0 ? Double(operations) / seconds : 0 }
        var description: String {
            String(format: "%-6@ c=%d  %6d sigs in %6.2f s  %8.1f sig/s", kind as NSString, concurrency, operations, seconds, rate)
        }
    }

    /// The measurements and, per concurrency, signer rate / raw rate.
    struct Report: Sendable, CustomStringConvertible {
        let rows: [Row]
        var ratios: [(concurrency: Int, ratio: Double)] {
            Set(rows.map(\.concurrency)).sorted().compactMap { c in
                guard let raw = rows.first(where: { $0.kind == "raw" && $0.concurrency == c }),
                      let signer = rows.first(where: { $0.kind == "signer" && $0.concurrency == c }), raw.rate > 0 else { return nil }
                return (c, signer.rate / raw.rate)
            }
        }
        var description: String {
            (rows.map(\.description) + ratios.map { String(format: "c=%d  signer/raw = %.1f%%", $0.concurrency, $0.ratio * 100) })
                .joined(separator: "\n")
        }
    }

    /// Runs the benchmark.
    /// - Parameters:
    ///   - configuration: the server (plain `http` or TLS as configured).
    ///   - token: a token allowed to sign with `key` (the raw baseline sends it as is).
    ///   - concurrency: signer counts to measure (e.g. `[1, 8]`).
    ///   - duration: measuring time per (kind, concurrency), split into one-second rounds that
    ///     alternate raw and signer; a warm-up precedes each concurrency level.
    static func run(configuration: VaultConfiguration, token: VaultToken, key: String = "cosign",
                           mount: String = "transit", concurrency: [Int] = [1, 8],
                           duration: Duration = .seconds(5), warmUp: Duration = .seconds(1),
                           progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        var configuration = configuration
        configuration.maximumConnections = max(configuration.maximumConnections, (concurrency.max() ?? 1) * 2)
        let client = try VaultClient(configuration: configuration, credential: .token(token))
        let (rawConfiguration, baseURL) = try VaultTransport.makeHTTPConfiguration(configuration)
        let raw = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: rawConfiguration)
        var rows: [Row] = []
        do {
            let signer = TransitSigner(client: client, keyName: key, mount: mount)
            _ = try await signer.key()  // the key type is read once, outside the measurement
            let url = "\(baseURL)/v1/\(try VaultClient.transitPath(mount, "sign", key))/sha2-256"
            let digest = Data(SHA256.hash(data: Data("signet benchmark payload".utf8))).base64EncodedString()
            let body = #"{"input":"\#(digest)","key_version":0,"prehashed":true,"signature_algorithm":"pkcs1v15"}"#
            let namespace = configuration.namespace
            let rawSign: @Sendable (Int) async throws -> Void = { _ in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "X-Vault-Token", value: token.value)
                if let namespace { request.headers.add(name: "X-Vault-Namespace", value: namespace) }
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await raw.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else {
                    throw SignetKMSError(.server, "raw transit sign answered \(response.status.code)")
                }
            }
            let signerSign: @Sendable (Int) async throws -> Void = { i in
                _ = try await signer.sign(Data("signet benchmark payload \(i)".utf8))
            }
            // Rounds alternate raw and signer so that drift (other load on the machine) hits both alike.
            let rounds = max(1, Int(duration / .seconds(1)))
            let slice = duration / rounds
            for c in concurrency {
                _ = try await measure(concurrency: c, duration: warmUp, rawSign)
                _ = try await measure(concurrency: c, duration: warmUp, signerSign)
                var totals: [String: (Int, Double)] = ["raw": (0, 0), "signer": (0, 0)]
                for round in 0..<rounds {
                    let order = round % 2 == 0 ? [("raw", rawSign), ("signer", signerSign)] : [("signer", signerSign), ("raw", rawSign)]
                    for (kind, operation) in order {
                        let (count, seconds) = try await measure(concurrency: c, duration: slice, operation)
                        totals[kind]!.0 += count
                        totals[kind]!.1 += seconds
                    }
                }
                for kind in ["raw", "signer"] {
                    let row = Row(kind: kind, concurrency: c, operations: totals[kind]!.0, seconds: totals[kind]!.1)
                    progress(row.description)
                    rows.append(row)
                }
            }
        } catch {
            try? await raw.shutdown()
            try? await client.shutdown()
            throw error
        }
        try await raw.shutdown()
        try await client.shutdown()
        return Report(rows: rows)
    }

    /// Runs `operation` from `concurrency` tasks until `duration` has passed; returns how many completed.
    static func measure(concurrency: Int, duration: Duration,
                        _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> (Int, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done = 0
                    while clock.now < end {
                        try await operation(worker * 1_000_000 + done)
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        return (total, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
