import Synchronization
import SignetPrimitives

/// A bounded, thread-safe cache of compiled expressions for one set of options, so callers that
/// see the same expression text repeatedly (policy variables) compile it once.
public final class JMESPathExpressionCache: Sendable {
    private struct State {
        var entries: [String: JMESPathExpression] = [:]
        var order: [String] = []
    }

    /// The options every cached expression is compiled with.
    public let options: JMESPathOptions
    /// The most expressions kept; the oldest is dropped first.
    public let capacity: Int
    private let state = Mutex(State())

    /// A cache compiling with `options`, holding at most `capacity` expressions.
    public init(options: JMESPathOptions = JMESPathOptions(), capacity: Int = 1024) {
        self.options = options
        self.capacity = max(1, capacity)
    }

    /// The compiled form of `text`, compiling (and caching) it on first use; compile errors are
    /// thrown and not cached.
    public func expression(_ text: String) throws -> JMESPathExpression {
        if let hit = state.withLock({ $0.entries[text] }) { return hit }
        let compiled = try JMESPathExpression(compiling: text, options: options)
        state.withLock { s in
            guard s.entries[text] == nil else { return }
            if s.order.count >= capacity {
                // Drop the oldest half at once so eviction stays amortised O(1).
                let drop = max(1, s.order.count / 2)
                for k in s.order.prefix(drop) { s.entries[k] = nil }
                s.order.removeFirst(drop)
            }
            s.entries[text] = compiled
            s.order.append(text)
        }
        return compiled
    }

    /// Compiles (or reuses) `text` and evaluates it against `data`.
    public func search(_ text: String, in data: JSONValue) throws -> JSONValue {
        try expression(text).evaluate(data)
    }
}
