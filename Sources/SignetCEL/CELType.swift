/// A CEL type, used in declarations (variables, overload parameters) and as a runtime type value
/// (`type(x)`, `int`, `list`, ...; langdef "Type Values").
public indirect enum CELType: Hashable, Sendable, CustomStringConvertible {
    /// Any value; the parameter type that matches everything.
    case dyn
    case null
    case bool
    case int
    case uint
    case double
    case string
    case bytes
    /// `list(E)`; the runtime type of every list is `list(dyn)`.
    case list(CELType)
    /// `map(K, V)`; the runtime type of every map is `map(dyn, dyn)`.
    case map(CELType, CELType)
    /// `google.protobuf.Timestamp`.
    case timestamp
    /// `google.protobuf.Duration`.
    case duration
    /// `optional_type(T)`.
    case optional(CELType)
    /// The type of type values: `type(int) == type`.
    case type
    /// A type parameter in an overload signature (`A` in `list(A)`); matches anything.
    case typeParameter(String)
    /// An abstract (opaque) type provided by a library, e.g. `net.IP`, `kubernetes.Quantity`.
    case opaque(String)
    /// A protobuf message type name (parsed, not evaluated by this implementation).
    case message(String)
    /// A parameterized abstract type, e.g. `tuple(int, string)` declared by a caller for the type checker
    /// (langdef "Abstract Types"). Values of it are opaque values whose type name is the name; the checker
    /// reports parameterless abstract types as `.opaque(name)`.
    case abstract(String, [CELType])
    /// The type of error values.
    case error
    /// The type of unknown values.
    case unknown

    /// `list(dyn)`.
    public static let anyList = CELType.list(.dyn)
    /// `map(dyn, dyn)`.
    public static let anyMap = CELType.map(.dyn, .dyn)

    /// The CEL name of the type, as `string(type(x))` style printing and type identifiers use it.
    public var name: String {
        switch self {
        case .dyn: "dyn"
        case .null: "null_type"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .list: "list"
        case .map: "map"
        case .timestamp: "google.protobuf.Timestamp"
        case .duration: "google.protobuf.Duration"
        case .optional: "optional_type"
        case .type: "type"
        case .typeParameter(let n): n
        case .opaque(let n): n
        case .message(let n): n
        case .abstract(let n, _): n
        case .error: "error"
        case .unknown: "unknown"
        }
    }

    public var description: String {
        switch self {
        case .list(let e): "list(\(e))"
        case .map(let k, let v): "map(\(k), \(v))"
        case .optional(let t): "optional_type(\(t))"
        case .abstract(let n, let p) where !p.isEmpty: "\(n)(" + p.map(\.description).joined(separator: ", ") + ")"
        default: name
        }
    }

    /// Whether a runtime value may be passed for a parameter of this type (dispatch by dynamic type;
    /// element types of lists and maps are not checked).
    @inline(__always)
    public func accepts(_ value: CELValue) -> Bool {
        // Switch on the type first and test the value's case without binding payloads (no copies).
        switch self {
        case .dyn, .typeParameter: return true
        case .string: if case .string = value { return true }
        case .int: if case .int = value { return true }
        case .uint: if case .uint = value { return true }
        case .double: if case .double = value { return true }
        case .bool: if case .bool = value { return true }
        case .bytes: if case .bytes = value { return true }
        case .null: if case .null = value { return true }
        case .list: if case .list = value { return true }
        case .map: if case .map = value { return true }
        case .timestamp: if case .timestamp = value { return true }
        case .duration: if case .duration = value { return true }
        case .optional: if case .optional = value { return true }
        case .type: if case .type = value { return true }
        case .error: if case .error = value { return true }
        case .unknown: if case .unknown = value { return true }
        case .opaque(let n), .abstract(let n, _): if case .opaque(let o) = value { return n == o.celType.name }
        case .message: return false
        }
        return false
    }

    /// Type values compare by runtime identity: `type([1]) == list`, parameters are ignored.
    func sameRuntimeType(_ other: CELType) -> Bool {
        switch (self, other) {
        case (.list, .list), (.map, .map), (.optional, .optional): true
        default: self.name == other.name && self.kindIndex == other.kindIndex
        }
    }

    var kindIndex: Int {
        switch self {
        case .dyn: 0
        case .null: 1
        case .bool: 2
        case .int: 3
        case .uint: 4
        case .double: 5
        case .string: 6
        case .bytes: 7
        case .list: 8
        case .map: 9
        case .timestamp: 10
        case .duration: 11
        case .optional: 12
        case .type: 13
        case .typeParameter: 14
        case .opaque, .message, .abstract: 15
        case .error: 16
        case .unknown: 17
        }
    }
}
