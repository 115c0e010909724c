import Foundation
import SignetPrimitives

/// A type a function parameter accepts (spec: "Function Expressions", types table).
public enum JMESPathType: String, Sendable, CaseIterable {
    case any
    case null
    case boolean
    case number
    case string
    case array
    case object
    case arrayOfNumbers = "array[number]"
    case arrayOfStrings = "array[string]"
    case expressionReference = "expref"

    /// Whether `argument` is of this type.
    func accepts(_ argument: JMESPathArgument) -> Bool {
        switch argument {
        case .expressionReference:
            return self == .expressionReference
        case .value(let v):
            switch self {
            case .any: return true
            case .null: if case .null = v { return true } else { return false }
            case .boolean: if case .bool = v { return true } else { return false }
            case .number: return v.isNumber
            case .string: if case .string = v { return true } else { return false }
            case .array: if case .array = v { return true } else { return false }
            case .object: if case .object = v { return true } else { return false }
            case .arrayOfNumbers:
                guard case .array(let a) = v else { return false }
                return a.allSatisfy(\.isNumber)
            case .arrayOfStrings:
                guard case .array(let a) = v else { return false }
                return a.allSatisfy { if case .string = $0 { return true } else { return false } }
            case .expressionReference: return false
            }
        }
    }
}

/// One parameter of a function: the union of types it accepts.
public struct JMESPathParameter: Sendable {
    /// Accepted types (any of them).
    public var types: [JMESPathType]
    /// Whether the argument may be left out (only trailing parameters).
    public var isOptional: Bool

    /// A parameter accepting any of `types`.
    public init(_ types: JMESPathType..., optional: Bool = false) {
        self.types = types
        self.isOptional = optional
    }

    /// The signature text, e.g. `array|string`.
    public var description: String { types.map(\.rawValue).joined(separator: "|") }
}

/// The parameters of a function; a variadic signature repeats its last parameter.
public struct JMESPathSignature: Sendable {
    /// The parameters in order.
    public var parameters: [JMESPathParameter]
    /// Whether the last parameter repeats (one or more times).
    public var isVariadic: Bool

    /// A signature of `parameters`, the last repeating when `variadic`.
    public init(_ parameters: [JMESPathParameter], variadic: Bool = false) {
        self.parameters = parameters
        self.isVariadic = variadic
    }

    var minimumArity: Int { parameters.filter { !$0.isOptional }.count }

    func checkArity(_ count: Int, name: String) throws {
        if isVariadic {
            guard count >= minimumArity else {
                throw JMESPathError(.invalidArity, "function \(name)() expects at least \(minimumArity) arguments, got \(count)")
            }
        } else {
            guard count >= minimumArity, count <= parameters.count else {
                let expected = minimumArity == parameters.count ? "\(minimumArity)" : "\(minimumArity) to \(parameters.count)"
                throw JMESPathError(.invalidArity, "function \(name)() expects \(expected) arguments, got \(count)")
            }
        }
    }

    func checkTypes(_ args: [JMESPathArgument], name: String) throws {
        for (i, a) in args.enumerated() {
            guard let p = parameters.isEmpty ? nil : parameters[Swift.min(i, parameters.count - 1)] else { continue }
            if !p.types.contains(where: { $0.accepts(a) }) {
                throw JMESPathError(.invalidType,
                                    "invalid type for argument \(i + 1) of \(name)(): expected \(p.description), got \(a.typeName)")
            }
        }
    }

    /// The signature text, e.g. `(array|string, any) `.
    public var description: String {
        var parts = parameters.map { $0.isOptional ? "[\($0.description)]" : $0.description }
        if isVariadic, let last = parts.popLast() { parts.append(last + "...") }
        return parts.joined(separator: ", ")
    }
}

/// A reference to an expression (`&expr`) passed to a function.
public struct JMESPathExpressionReference: Sendable {
    let node: JMESPathNode
}

/// An evaluated function argument.
public enum JMESPathArgument: Sendable {
    /// A JSON value.
    case value(JSONValue)
    /// An expression reference, evaluated by the function via `JMESPathContext.evaluate`.
    case expressionReference(JMESPathExpressionReference)

    /// The value, or null for an expression reference.
    public var value: JSONValue {
        if case .value(let v) = self { return v }
        return .null
    }

    var typeName: String {
        switch self {
        case .expressionReference: return "expref"
        case .value(let v): return v.jmespathTypeName
        }
    }
}

/// The body of a function: evaluated arguments in, a value out. It may evaluate expression
/// references and must charge work proportional to its input through `context`.
public typealias JMESPathFunctionBody = @Sendable (inout JMESPathContext, [JMESPathArgument]) throws -> JSONValue

/// A named function with its signature, documentation and body.
public struct JMESPathFunction: Sendable {
    /// The call name.
    public let name: String
    /// Parameter types, checked before the body runs.
    public let signature: JMESPathSignature
    /// The signature as Kyverno prints it (`jp function`), e.g. `add(any, any) any`.
    public let returnType: String
    /// One-sentence description.
    public let summary: String
    let body: JMESPathFunctionBody

    /// A function named `name`.
    public init(name: String, signature: JMESPathSignature, returns returnType: String = "any",
                summary: String = "", body: @escaping JMESPathFunctionBody) {
        self.name = name
        self.signature = signature
        self.returnType = returnType
        self.summary = summary
        self.body = body
    }

    /// `name(types...) return`, as listed by `jp function`.
    public var signatureText: String { "\(name)(\(signature.description)) \(returnType)" }
}

/// A set of functions by name; later registrations replace earlier ones.
public struct JMESPathFunctionTable: Sendable {
    private var byName: [String: JMESPathFunction] = [:]

    /// An empty table.
    public init() {}

    /// The JMESPath specification's built-in functions.
    public static let builtins: JMESPathFunctionTable = {
        var t = JMESPathFunctionTable()
        for f in BuiltinFunctions.all { t.register(f) }
        return t
    }()

    /// Adds or replaces `function`.
    public mutating func register(_ function: JMESPathFunction) { byName[function.name] = function }

    /// Adds or replaces all of `functions`.
    public mutating func register(contentsOf functions: [JMESPathFunction]) {
        for f in functions { register(f) }
    }

    /// The function called `name`, if registered.
    public subscript(name: String) -> JMESPathFunction? { byName[name] }

    /// All functions sorted by name.
    public var functions: [JMESPathFunction] {
        byName.values.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }
}
