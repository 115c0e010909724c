// Kubernetes quantities and Go durations (SignetPrimitives), as resources and `?timeout=` send them:
// parsing, canonical printing (which must parse back to the same value), comparison and checked
// arithmetic; overflow is an error, never a trap.
import Foundation
import FuzzSupport
import SignetPrimitives

let references: [Quantity] = ["1Gi", "100m", "1e3", "0", "-1.5Ki", "9Ei"].compactMap { try? Quantity(parsing: $0) }

@_cdecl("FuzzQuantity_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: Fuzz.bytes(data, size), as: UTF8.self)
    if let q = try? Quantity(parsing: text) {
        let printed = q.description
        if let again = try? Quantity(parsing: printed) {
            Fuzz.invariant(again == q, "'\(text.prefix(60))' prints as '\(printed)', which reads back as another value")
        } else {
            Fuzz.invariant(false, "'\(text.prefix(60))' prints as '\(printed)', which does not parse")
        }
        for r in references {
            _ = q < r
            _ = try? q.adding(r)
            _ = try? q.subtracting(r)
        }
        _ = try? q.multiplied(by: Int64.max)
        _ = q.negated()
        _ = q.int64Value
        _ = q.milliValue
        _ = q.approximateDouble
    }
    if let d = try? GoDuration(parsing: text) {
        Fuzz.invariant((try? GoDuration(parsing: d.description)) == d, "duration '\(text.prefix(60))' prints as '\(d.description)', which reads back differently")
        _ = d.swiftDuration
    }
    return 0
}
