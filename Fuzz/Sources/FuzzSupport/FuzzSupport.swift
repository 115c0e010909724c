import CFuzzDriver
import Dispatch
import Foundation

/// Shared helpers for the libFuzzer harnesses (one executable per parser, see Fuzz/README.md).
public enum Fuzz {
    /// libFuzzer's input copied into an array: parsers never see memory libFuzzer reuses.
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Set `SIGNET_FUZZ_KNOWN=1` to stop skipping the inputs of the known traps (`knownTrap`), to
    /// reproduce them; by default they are skipped so that a run can find the other ones.
    public static let reproduceKnownTraps = ProcessInfo.processInfo.environment["SIGNET_FUZZ_KNOWN"] == "1"

    /// Whether `bytes` can reach one of the traps known and being fixed elsewhere (see
    /// Fuzz/README.md). Over-approximates: a skipped input only loses one execution.
    ///
    /// All three traps are fixed (SignetPrimitives' JSON reader, GoDuration and Quantity; regression
    /// tests in SignetPrimitivesTests and the webhook's HostileInputTests): nothing is skipped any more.
    public static func knownTrap(_ bytes: [UInt8]) -> Bool {
        false
    }

    /// JSONValue.swift: `"\ud800\u0041"`, a high-surrogate escape followed by an escape below
    /// U+DC00, underflows `low - 0xDC00` (UInt32).
    static func loneHighSurrogateEscape(_ b: [UInt8]) -> Bool {
        func hex4(at i: Int) -> UInt32? {
            guard i + 4 <= b.count, let s = String(bytes: b[i..<i + 4], encoding: .ascii) else { return nil }
            return UInt32(s, radix: 16)
        }
        var i = 0
        while i + 1 < b.count {
            if b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"), let high = hex4(at: i + 2),
               high >= 0xD800, high < 0xDC00 {
                let j = i + 6
                if j + 1 < b.count, b[j] == UInt8(ascii: "\\"), b[j + 1] == UInt8(ascii: "u") {
                    guard let low = hex4(at: j + 2) else { return true }
                    if low < 0xDC00 { return true }
                }
            }
            i += 1
        }
        return false
    }

    /// Quantities.swift: a decimal exponent equal to Int.min (`1e-9223372036854775808`, leading
    /// zeros allowed) traps in `abs(e)`.
    static func hugeQuantityExponent(_ b: [UInt8]) -> Bool {
        let digits = Array("9223372036854775808".utf8)
        var i = 0
        while i + 2 < b.count {
            if b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E"), b[i + 1] == UInt8(ascii: "-") {
                var j = i + 2
                while j < b.count, b[j] == UInt8(ascii: "0") { j += 1 }
                if j + digits.count <= b.count, Array(b[j..<j + digits.count]) == digits { return true }
            }
            i += 1
        }
        return false
    }

    /// Go durations (AdmissionServer.parseGoDuration, RegistryOptions.parseDuration): a number
    /// of 1e12 or more overflows `Duration`/`Int64` conversions (`1000000000000000000000s`). Any
    /// run of digits and dots (what those parsers read as one number) worth 1e11 or more is skipped.
    public static func hugeDurationNumber(_ text: String) -> Bool {
        // Fixed (GoDuration reports overflow): no longer skipped.
        return false
    }

    /// The former skip rule of `hugeDurationNumber`, kept for reading old findings.
    static func formerHugeDurationNumber(_ text: String) -> Bool {
        var run = ""
        func huge() -> Bool { run.count >= 12 || (Double(run).map { !$0.isFinite || $0 >= 1e11 } ?? false) }
        for c in text {
            if c.isNumber || c == "." { run.append(c); continue }
            if huge() { return true }
            run = ""
        }
        return huge()
    }

    /// libFuzzer's command line: call from the harness's `MODULE_main`.
    public static func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        signet_fuzz_main(argc, argv)
    }

    /// Runs `body` to completion from libFuzzer's (synchronous, non-pool) thread.
    public static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await body()
            done.signal()
        }
        done.wait()
        guard let value = box.value else { preconditionFailure("task ended without a value") }
        return value
    }

    /// Reports a broken invariant as a crash, so that libFuzzer saves the input.
    public static func invariant(_ condition: Bool, _ message: @autoclosure () -> String,
                                 file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fatalError("invariant broken: \(message())", file: file, line: line) }
    }
}

/// Carries a result out of a task; written once, read after the semaphore.
private final class Box<T>: @unchecked Sendable {
    var value: T?
}
