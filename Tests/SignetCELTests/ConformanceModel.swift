// The model of cel-spec `cel.expr.conformance.test.SimpleTestFile`, read from text format.
// Schema: proto/cel/expr/conformance/test/simple.proto, proto/cel/expr/value.proto, proto/cel/expr/checked.proto.

import Foundation

/// A `cel.expr.Value`, independent of the evaluator's value model.
indirect enum ProtoValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    /// `EnumValue{type, value}`.
    case enumValue(type: String, value: Int32)
    /// `google.protobuf.Any` expanded as `[type.googleapis.com/NAME] { ... }`: the full type name and body.
    case object(typeName: String, body: TextProtoMessage)
    /// Map entries in file order.
    case map([(key: ProtoValue, value: ProtoValue)])
    case list([ProtoValue])
    /// `type_value`: a type name such as `int` or `google.protobuf.Duration`.
    case type(String)
}

/// A `cel.expr.Type` as used by `type_env` and `deduced_type`.
indirect enum ProtoType: Sendable, Equatable {
    /// Primitive names of `Type.PrimitiveType`.
    enum Primitive: String, Sendable { case bool = "BOOL", int64 = "INT64", uint64 = "UINT64", double = "DOUBLE", string = "STRING", bytes = "BYTES" }
    /// `Type.WellKnownType`.
    enum WellKnown: String, Sendable { case any = "ANY", timestamp = "TIMESTAMP", duration = "DURATION" }

    case dyn
    case null
    case primitive(Primitive)
    case wrapper(Primitive)
    case wellKnown(WellKnown)
    case list(ProtoType)
    case map(key: ProtoType, value: ProtoType)
    case function(result: ProtoType, args: [ProtoType])
    case message(String)
    case typeParam(String)
    case type(ProtoType?)
    case error
    case abstract(name: String, parameters: [ProtoType])
}

/// A `cel.expr.Decl`: an identifier or a function with overloads.
enum ProtoDecl: Sendable {
    /// One overload of a function declaration.
    struct Overload: Sendable {
        let id: String
        let params: [ProtoType]
        let typeParams: [String]
        let result: ProtoType
        let isInstance: Bool
    }

    case ident(name: String, type: ProtoType)
    case function(name: String, overloads: [Overload])
}

/// A binding value (`cel.expr.ExprValue`).
enum ProtoExprValue: Sendable {
    case value(ProtoValue)
    case error([String])
    case unknown
}

/// What a test expects.
enum ConformanceExpectation: Sendable {
    case value(ProtoValue)
    /// `typed_result`: a value and the type the checker deduces (nil if not given).
    case typed(ProtoValue?, ProtoType?)
    /// `eval_error` / `any_eval_errors`: the messages (informative only, any error matches).
    case error([String])
    /// `unknown` / `any_unknowns`.
    case unknown
    /// No matcher: the spec default is `value { bool_value: true }`.
    case none
}

/// One `SimpleTest`.
struct ConformanceTest: Sendable {
    let file: String
    let section: String
    let name: String
    let expr: String
    let disableMacros: Bool
    let disableCheck: Bool
    let checkOnly: Bool
    let typeEnv: [ProtoDecl]
    let container: String
    let bindings: [(name: String, value: ProtoExprValue)]
    let expected: ConformanceExpectation

    /// `file/section/name`, unique within the suite.
    var id: String { "\(file)/\(section)/\(name)" }
}

/// A whole `SimpleTestFile`.
struct ConformanceFile: Sendable {
    let name: String
    let tests: [ConformanceTest]
}

/// Why a test file could not be modelled.
struct ConformanceModelError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

enum ConformanceReader {
    /// Reads a `SimpleTestFile` text document; `fileName` is used when the document lacks a name.
    static func read(text: String, fileName: String) throws -> ConformanceFile {
        let root = try TextProtoParser.parse(text)
        let name = root.string("name") ?? fileName
        var tests: [ConformanceTest] = []
        for section in root.messages("section") {
            let sectionName = section.string("name") ?? ""
            for t in section.messages("test") {
                tests.append(try readTest(t, file: name, section: sectionName))
            }
        }
        return ConformanceFile(name: name, tests: tests)
    }

    static func readTest(_ t: TextProtoMessage, file: String, section: String) throws -> ConformanceTest {
        let name = t.string("name") ?? ""
        func ctx(_ m: String) -> ConformanceModelError { ConformanceModelError(message: "\(file)/\(section)/\(name): \(m)") }

        var decls: [ProtoDecl] = []
        for d in t.messages("type_env") {
            let declName = d.string("name") ?? ""
            if let ident = d.message("ident") {
                decls.append(.ident(name: declName, type: try readType(ident.message("type") ?? TextProtoMessage())))
            } else if let fn = d.message("function") {
                var overloads: [ProtoDecl.Overload] = []
                for o in fn.messages("overloads") {
                    overloads.append(ProtoDecl.Overload(
                        id: o.string("overload_id") ?? "",
                        params: try o.messages("params").map(readType),
                        typeParams: o.all("type_params").compactMap {
                            if case .scalar(.string(let b)) = $0 { return String(decoding: b, as: UTF8.self) }
                            return nil
                        },
                        result: try o.message("result_type").map(readType) ?? .dyn,
                        isInstance: o.bool("is_instance_function")))
                }
                decls.append(.function(name: declName, overloads: overloads))
            } else {
                throw ctx("declaration \(declName) is neither ident nor function")
            }
        }

        var bindings: [(name: String, value: ProtoExprValue)] = []
        for b in t.messages("bindings") {
            guard let key = b.string("key") else { throw ctx("binding without key") }
            let ev = b.message("value") ?? TextProtoMessage()
            if let v = ev.message("value") {
                bindings.append((key, .value(try readValue(v))))
            } else if let e = ev.message("error") {
                bindings.append((key, .error(errorMessages(e))))
            } else if ev.has("unknown") {
                bindings.append((key, .unknown))
            } else {
                throw ctx("binding \(key) without value")
            }
        }

        let expected: ConformanceExpectation
        if let v = t.message("value") {
            expected = .value(try readValue(v))
        } else if let tr = t.message("typed_result") {
            expected = .typed(try tr.message("result").map(readValue), try tr.message("deduced_type").map(readType))
        } else if let e = t.message("eval_error") {
            expected = .error(errorMessages(e))
        } else if let e = t.message("any_eval_errors") {
            expected = .error(e.messages("errors").flatMap(errorMessages))
        } else if t.has("unknown") || t.has("any_unknowns") {
            expected = .unknown
        } else {
            expected = .none
        }

        return ConformanceTest(
            file: file, section: section, name: name, expr: t.string("expr") ?? "",
            disableMacros: t.bool("disable_macros"), disableCheck: t.bool("disable_check"),
            checkOnly: t.bool("check_only"), typeEnv: decls, container: t.string("container") ?? "",
            bindings: bindings, expected: expected)
    }

    /// Messages of an `ErrorSet { errors { message } }`.
    static func errorMessages(_ set: TextProtoMessage) -> [String] {
        set.messages("errors").map { $0.string("message") ?? "" }
    }

    /// Reads a `cel.expr.Value`.
    static func readValue(_ m: TextProtoMessage) throws -> ProtoValue {
        guard let field = m.fields.last else { throw ConformanceModelError(message: "empty cel.expr.Value") }
        func scalar() throws -> TextProtoScalar {
            guard case .scalar(let s) = field.value else {
                throw ConformanceModelError(message: "\(field.name) expects a scalar")
            }
            return s
        }
        func nested() -> TextProtoMessage {
            if case .message(let n) = field.value { return n }
            return TextProtoMessage()
        }
        switch field.name {
        case "null_value": return .null
        case "bool_value":
            let s = try scalar()
            return .bool(s.identifier == "true" || s.identifier == "True" || s == .number("1"))
        case "int64_value":
            guard let v = try scalar().int64 else { throw ConformanceModelError(message: "bad int64_value") }
            return .int(v)
        case "uint64_value":
            guard let v = try scalar().uint64 else { throw ConformanceModelError(message: "bad uint64_value") }
            return .uint(v)
        case "double_value":
            guard let v = try scalar().double else { throw ConformanceModelError(message: "bad double_value") }
            return .double(v)
        case "string_value":
            guard case .string(let b) = try scalar() else { throw ConformanceModelError(message: "bad string_value") }
            return .string(String(decoding: b, as: UTF8.self))
        case "bytes_value":
            guard case .string(let b) = try scalar() else { throw ConformanceModelError(message: "bad bytes_value") }
            return .bytes(b)
        case "type_value":
            guard case .string(let b) = try scalar() else { throw ConformanceModelError(message: "bad type_value") }
            return .type(String(decoding: b, as: UTF8.self))
        case "enum_value":
            let e = nested()
            let v = e.scalar("value")?.int64 ?? 0
            return .enumValue(type: e.string("type") ?? "", value: Int32(clamping: v))
        case "list_value":
            return .list(try nested().messages("values").map(readValue))
        case "map_value":
            return .map(try nested().messages("entries").map { entry in
                (try readValue(entry.message("key") ?? TextProtoMessage()),
                 try readValue(entry.message("value") ?? TextProtoMessage()))
            })
        case "object_value":
            return try readAny(nested())
        default:
            throw ConformanceModelError(message: "unknown cel.expr.Value field \(field.name)")
        }
    }

    /// Reads an expanded `google.protobuf.Any`: `[type.googleapis.com/NAME] { body }`.
    static func readAny(_ m: TextProtoMessage) throws -> ProtoValue {
        guard let field = m.fields.first(where: \.isBracketed), case .message(let body) = field.value else {
            throw ConformanceModelError(message: "object_value without an expanded Any")
        }
        let typeName = field.name.split(separator: "/").last.map(String.init) ?? field.name
        return .object(typeName: typeName, body: body)
    }

    /// Reads a `cel.expr.Type`.
    static func readType(_ m: TextProtoMessage) throws -> ProtoType {
        guard let field = m.fields.last else { return .dyn }
        func prim() throws -> ProtoType.Primitive {
            guard case .scalar(.identifier(let s)) = field.value, let p = ProtoType.Primitive(rawValue: s) else {
                throw ConformanceModelError(message: "bad primitive type")
            }
            return p
        }
        func nested() -> TextProtoMessage {
            if case .message(let n) = field.value { return n }
            return TextProtoMessage()
        }
        func str() -> String {
            if case .scalar(.string(let b)) = field.value { return String(decoding: b, as: UTF8.self) }
            return ""
        }
        switch field.name {
        case "dyn": return .dyn
        case "null": return .null
        case "primitive": return .primitive(try prim())
        case "wrapper": return .wrapper(try prim())
        case "well_known":
            guard case .scalar(.identifier(let s)) = field.value, let w = ProtoType.WellKnown(rawValue: s) else {
                throw ConformanceModelError(message: "bad well-known type")
            }
            return .wellKnown(w)
        case "list_type": return .list(try readType(nested().message("elem_type") ?? TextProtoMessage()))
        case "map_type":
            let n = nested()
            return .map(key: try readType(n.message("key_type") ?? TextProtoMessage()),
                        value: try readType(n.message("value_type") ?? TextProtoMessage()))
        case "function":
            let n = nested()
            return .function(result: try readType(n.message("result_type") ?? TextProtoMessage()),
                             args: try n.messages("arg_types").map(readType))
        case "message_type": return .message(str())
        case "type_param": return .typeParam(str())
        case "type":
            let n = nested()
            return .type(n.isEmpty ? nil : try readType(n))
        case "error": return .error
        case "abstract_type":
            let n = nested()
            return .abstract(name: n.string("name") ?? "", parameters: try n.messages("parameter_types").map(readType))
        default:
            throw ConformanceModelError(message: "unknown cel.expr.Type field \(field.name)")
        }
    }
}

/// Locates the shared conformance data by walking up from this source file (see COMMON.md).
enum ConformanceData {
    static func simpleDirectory(from filePath: String = #filePath) -> URL? {
        var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        for _ in 0..<12 {
            let candidate = dir.appendingPathComponent("shared/conformance")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return candidate.appendingPathComponent("cel/simple")
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// All `*.textproto` files of the simple suite, sorted by name.
    static func files() throws -> [URL] {
        guard let dir = simpleDirectory() else { return [] }
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "textproto" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Reads one file of the suite.
    static func load(_ url: URL) throws -> ConformanceFile {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try ConformanceReader.read(text: text, fileName: url.deletingPathExtension().lastPathComponent)
    }
}
