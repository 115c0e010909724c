import Foundation
import SignetPrimitives

/// Bounds on compilation and evaluation; all input is hostile.
public struct JMESPathLimits: Sendable {
    /// Longest expression accepted, in UTF-8 bytes.
    public var maximumExpressionLength: Int
    /// Deepest nesting of the syntax tree (evaluation recurses this deep).
    public var maximumDepth: Int
    /// Evaluation steps one `evaluate` may take: node visits, projected elements, compared nodes,
    /// sort comparisons, bytes produced by string functions. Exhaustion is an error.
    public var evaluationBudget: Int

    /// Limits with defaults suited to policy expressions.
    public init(maximumExpressionLength: Int = 16_384, maximumDepth: Int = 128, evaluationBudget: Int = 5_000_000) {
        self.maximumExpressionLength = maximumExpressionLength
        self.maximumDepth = maximumDepth
        self.evaluationBudget = evaluationBudget
    }
}

/// A source of the current time, injectable for tests of `time_now` and friends.
public struct JMESPathClock: Sendable {
    /// Returns the current instant.
    public let now: @Sendable () -> Date

    /// A clock calling `now`.
    public init(now: @escaping @Sendable () -> Date) { self.now = now }

    /// The system clock.
    public static let system = JMESPathClock { Date() }

    /// A clock stopped at `date`.
    public static func fixed(_ date: Date) -> JMESPathClock { JMESPathClock { date } }
}

/// Per-evaluation state handed to function bodies: the remaining budget and the clock.
public struct JMESPathContext {
    /// Steps left before evaluation fails with `budget-exceeded`.
    public private(set) var remainingBudget: Int
    /// The time source for time functions.
    public let clock: JMESPathClock
    let maximumDepth: Int
    var depth = 0
    /// Kyverno's fork of go-jmespath: a field looked up on a map without that key fails with
    /// `unknown-key` instead of giving `null` (see `JMESPathExpression.evaluate(_:reportingMissingKeys:)`).
    var reportsMissingKeys = false

    init(budget: Int, clock: JMESPathClock, maximumDepth: Int) {
        remainingBudget = budget
        self.clock = clock
        self.maximumDepth = maximumDepth
    }

    /// Consumes `cost` steps of the budget; throws `budget-exceeded` once it is spent.
    public mutating func charge(_ cost: Int) throws {
        let c = Swift.max(cost, 0)
        guard remainingBudget >= c else {
            remainingBudget = 0
            throw JMESPathError(.budgetExceeded, "evaluation exceeded its cost budget")
        }
        remainingBudget -= c
    }

    /// Evaluates an expression reference against `value` (as `sort_by`, `map` do).
    public mutating func evaluate(_ reference: JMESPathExpressionReference, on value: JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        // Expression references nest through functions (`map(&map(&..., @), @)`); bound the recursion.
        guard depth <= maximumDepth else { throw JMESPathError(.limitExceeded, "expression references nest too deep") }
        return try Interpreter.soft(reference.node, value, &self)
    }
}
