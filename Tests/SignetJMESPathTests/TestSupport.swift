import Foundation
import SignetPrimitives
@testable import SignetJMESPath

/// Locates `shared/conformance` by walking up from this file (works from /work/dev/X and /work/main).
enum TestPaths {
    static func sharedConformance(_ file: String = #filePath) -> URL? {
        var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
        for _ in 0..<12 {
            let candidate = dir.appendingPathComponent("shared/conformance")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static func fixtures(_ file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}

/// JSON equality as JMESPath sees it: numbers across integer/floating-point, objects unordered.
func jsonEqual(_ a: JSONValue, _ b: JSONValue, unorderedArrays: Bool = false) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
    case (.integer, .integer), (.number, .number), (.integer, .number), (.number, .integer):
        return ValueOps.compareNumbers(a, b) == 0
    case (.array(let x), .array(let y)):
        guard x.count == y.count else { return false }
        if zip(x, y).allSatisfy({ jsonEqual($0, $1, unorderedArrays: unorderedArrays) }) { return true }
        guard unorderedArrays else { return false }
        var rest = y
        for e in x {
            guard let i = rest.firstIndex(where: { jsonEqual(e, $0, unorderedArrays: true) }) else { return false }
            rest.remove(at: i)
        }
        return true
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        return x.allSatisfy { k, v in y[k].map { jsonEqual(v, $0, unorderedArrays: unorderedArrays) } ?? false }
    default: return false
    }
}
