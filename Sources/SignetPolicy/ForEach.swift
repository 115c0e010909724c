import SignetPrimitives

/// One `validate.foreach` entry (Kyverno `ForEachValidation`): `list` (a JMESPath giving the
/// elements), optional `elementScope`, `context`, `preconditions`, and one of `pattern`,
/// `anyPattern`, `deny` or a nested `foreach`. Strings keep their variables until evaluation.
public struct ForEachValidation: Sendable {
    public var list: String
    public var elementScope: Bool?
    public var context: [ContextEntry] = []
    public var preconditions: ConditionBlock?
    public var pattern: JSONValue?
    public var anyPattern: [JSONValue]?
    public var deny: ConditionBlock?
    public var foreach: [ForEachValidation]?

    /// Every string mapped through `f` (autogen).
    func mapStrings(_ f: (String) -> String) -> ForEachValidation {
        var c = self
        c.list = f(list)
        c.context = context.map { $0.mapStrings(f) }
        c.preconditions = preconditions?.mapStrings(f)
        c.pattern = pattern?.mapStrings(f)
        c.anyPattern = anyPattern?.map { $0.mapStrings(f) }
        c.deny = deny?.mapStrings(f)
        c.foreach = foreach?.map { $0.mapStrings(f) }
        return c
    }
}
