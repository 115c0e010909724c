import SignetPolicy
import SignetPrimitives

extension PolicyEngine {
    /// `apply --benchmark N`: validates `resource` `iterations` times against every policy and
    /// returns the number of rule results produced (so the work cannot be optimized away). Kept
    /// in the executable: benchmark code stays out of the libraries.
    func benchmarkValidate(_ resource: JSONValue, admission: AdmissionInfo = AdmissionInfo(), iterations: Int) -> Int {
        var n = 0
        for _ in 0..<max(0, iterations) {
            for p in validate(resource, admission: admission).policies { n &+= p.rules.count }
        }
        return n
    }
}
