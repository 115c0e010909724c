import Synchronization

extension RE2 {
    /// Compiled patterns shared by `RE2.cached(_:)`; bounded, emptied when full.
    private static let cache = Mutex<[String: RE2]>([:])

    /// The most patterns `cached(_:)` keeps.
    public static let cacheCapacity = 512

    /// `RE2(pattern)` through a process-wide bounded cache, for callers that compile the same
    /// policy patterns on every evaluation. Failures are not cached.
    public static func cached(_ pattern: String) throws -> RE2 {
        if let hit = cache.withLock({ $0[pattern] }) { return hit }
        let re = try RE2(pattern)
        cache.withLock { entries in
            if entries.count >= cacheCapacity { entries.removeAll(keepingCapacity: true) }
            entries[pattern] = re
        }
        return re
    }
}
