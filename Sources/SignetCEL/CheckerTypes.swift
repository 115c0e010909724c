/// Types as the checker sees them (langdef "Gradual Type Checking"): like `CELType`, with type variables
/// and with optional and opaque types folded into parameterized abstract types, so that one set of rules
/// covers `optional_type(T)`, `net.IP` and caller-declared `tuple(A, B)`.
indirect enum TType: Hashable, Sendable {
    case dyn
    case null
    case bool
    case int
    case uint
    case double
    case string
    case bytes
    case timestamp
    case duration
    case error
    case list(TType)
    case map(TType, TType)
    /// An abstract type with parameters; `optional_type` is `abstract("optional_type", [T])`.
    case abstract(String, [TType])
    /// A type value's type; the parameter is the denoted type when known.
    case type(TType?)
    case message(String)
    /// A type variable: a declared type parameter or a fresh variable of the checker.
    case variable(String)
    /// A protobuf wrapper (`google.protobuf.Int64Value`): the primitive or null.
    case wrapper(TType)

    static func optional(_ t: TType) -> TType { .abstract(optionalName, [t]) }
    static let optionalName = "optional_type"

    /// Converts a declared type; type parameters become variables (renamed per use by the checker).
    init(_ t: CELType) {
        switch t {
        case .dyn, .unknown: self = .dyn
        case .null: self = .null
        case .bool: self = .bool
        case .int: self = .int
        case .uint: self = .uint
        case .double: self = .double
        case .string: self = .string
        case .bytes: self = .bytes
        case .timestamp: self = .timestamp
        case .duration: self = .duration
        case .error: self = .error
        case .list(let e): self = .list(TType(e))
        case .map(let k, let v): self = .map(TType(k), TType(v))
        case .optional(let e): self = .optional(TType(e))
        case .type: self = .type(nil)
        case .typeParameter(let n): self = .variable(n)
        case .opaque(let n): self = .abstract(n, [])
        case .abstract(let n, let p): self = .abstract(n, p.map(TType.init))
        case .message(let n):
            switch n {
            case "google.protobuf.Timestamp": self = .timestamp
            case "google.protobuf.Duration": self = .duration
            case "google.protobuf.Struct": self = .map(.string, .dyn)
            case "google.protobuf.ListValue": self = .list(.dyn)
            case "google.protobuf.Value", "google.protobuf.Any": self = .dyn
            default: self = .message(n)
            }
        }
    }

    /// The public form; remaining variables are `dyn` (the checker substitutes before converting).
    var celType: CELType {
        switch self {
        case .dyn, .variable: .dyn
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .timestamp: .timestamp
        case .duration: .duration
        case .error: .error
        case .list(let e): .list(e.celType)
        case .map(let k, let v): .map(k.celType, v.celType)
        case .abstract(let n, let p):
            if n == TType.optionalName, p.count == 1 { .optional(p[0].celType) }
            else if p.isEmpty { .opaque(n) }
            else { .abstract(n, p.map(\.celType)) }
        case .type: .type
        case .message(let n): .message(n)
        case .wrapper(let p): p.celType
        }
    }

    var isDynOrError: Bool {
        switch self {
        case .dyn, .error: true
        default: false
        }
    }

    var isVariable: Bool {
        if case .variable = self { return true }
        return false
    }

    /// Types `null` may be assigned to (the legacy checkers' rule kept by cel-spec: messages, well-known
    /// time types and abstract types).
    var isNullable: Bool {
        switch self {
        case .abstract, .message, .timestamp, .duration, .wrapper: true
        default: false
        }
    }

    /// Human-readable form for error messages.
    var display: String {
        switch self {
        case .variable(let n): n.hasPrefix("%") ? "_var\(n.dropFirst())" : n
        case .list(let e): "list(\(e.display))"
        case .map(let k, let v): "map(\(k.display), \(v.display))"
        case .abstract(let n, let p) where !p.isEmpty: "\(n)(" + p.map(\.display).joined(separator: ", ") + ")"
        case .type(let t?): "type(\(t.display))"
        case .wrapper(let p): "wrapper(\(p.display))"
        default: celType.description
        }
    }
}

/// A checker overload signature: style, parameter and result types; `.variable` names are its type parameters.
struct CheckSignature: Sendable {
    let id: String
    let receiver: Bool
    let parameters: [TType]
    let result: TType
    let variadic: Bool

    init(_ id: String, receiver: Bool = false, _ parameters: [TType], _ result: TType, variadic: Bool = false) {
        self.id = id
        self.receiver = receiver
        self.parameters = parameters
        self.result = result
        self.variadic = variadic
    }

    init(_ o: CELOverload) {
        self.id = o.id
        self.receiver = o.style == .receiver
        self.parameters = o.parameters.map(TType.init)
        self.result = TType(o.resultType)
        self.variadic = o.isVariadic
    }
}
