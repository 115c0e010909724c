import Synchronization
import SignetPrimitives

/// A bounded cache of compiled RE2 patterns, shared by all evaluations (patterns are usually constants).
final class RegexCache: Sendable {
    static let shared = RegexCache()
    private let storage = Mutex<[String: RE2]>([:])
    private static let capacity = 512

    func matches(pattern: String, text: String) -> CELValue {
        do {
            let regex = try compiled(pattern)
            return .bool(regex.matches(text))
        } catch {
            return .error(CELError(.invalidArgument, "invalid regular expression '\(pattern)': \(error)", underlying: error))
        }
    }

    func compiled(_ pattern: String) throws -> RE2 {
        if let r = storage.withLock({ $0[pattern] }) { return r }
        let r = try RE2(pattern)
        storage.withLock { cache in
            if cache.count >= RegexCache.capacity { cache.removeAll(keepingCapacity: true) }
            cache[pattern] = r
        }
        return r
    }
}
