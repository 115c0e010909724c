/// A finding about a policy or test file: its path (e.g. `spec.rules[0].validate.deny`),
/// severity and message. Unimplemented fields are warnings (errors in strict mode); invalid
/// policies are errors.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case warning, error }
    public var severity: Severity
    /// Where: the policy name and field path, e.g. `ClusterPolicy/require-labels: spec.rules[0].preconditions`.
    public var path: String
    public var message: String

    public init(_ severity: Severity, path: String, _ message: String) {
        self.severity = severity
        self.path = path
        self.message = message
    }

    public var description: String { "\(severity): \(path): \(message)" }
}
