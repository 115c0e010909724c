// Runs cel-spec SimpleTests through SignetCEL: converts expected values and bindings to `CELValue`,
// compiles with the declared variables, evaluates and compares.

import Foundation
import SignetCEL

/// The outcome of one conformance test.
enum ConformanceOutcome: Sendable {
    case passed
    case failed(String)
    case skipped(String)
}

/// Why a value cannot be represented without protobuf message support.
struct ConformanceUnsupported: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

enum ConformanceRunner {
    /// Files whose tests are all about protobuf test messages (README of the suite).
    static let protobufFiles: Set<String> = ["proto2", "proto3", "proto2_ext", "wrappers", "enums"]

    /// Evaluation budget per test: generous, but bounds runaway comprehensions.
    static let costLimit: Int64 = 50_000_000

    /// A reason to skip the test, or nil to run it.
    static func skipReason(_ t: ConformanceTest) -> String? {
        if protobufFiles.contains(t.file) { return "needs protobuf test messages (\(t.file))" }
        let protoMarkers = ["TestAllTypes", "cel.expr.conformance.proto", "NestedTestAllTypes", "TestRequired",
                            "GlobalEnum", "NestedEnum", "google.protobuf.Any{", "google.protobuf.Any {"]
        let haystack = t.expr + " " + t.container + " " + describeEnv(t)
        for marker in protoMarkers where haystack.contains(marker) {
            return "needs protobuf test messages (\(marker))"
        }
        if case .value(let v) = t.expected, let reason = unsupportedReason(v) { return reason }
        if case .typed(let v?, _) = t.expected, let reason = unsupportedReason(v) { return reason }
        for (_, b) in t.bindings {
            if case .value(let v) = b, let reason = unsupportedReason(v) { return reason }
        }
        if t.checkOnly, t.disableCheck { return "check_only with disable_check: nothing to run" }
        return nil
    }

    static func describeEnv(_ t: ConformanceTest) -> String {
        t.typeEnv.map { d -> String in
            switch d {
            case .ident(let n, let type): return "\(n):\(type)"
            case .function(let n, _): return n
            }
        }.joined(separator: " ")
    }

    /// Values that need protobuf messages or enums.
    static func unsupportedReason(_ v: ProtoValue) -> String? {
        switch v {
        case .enumValue(let type, _): return "expects a protobuf enum value (\(type))"
        case .object(let name, let body):
            if name.hasPrefix("cel.expr.conformance") { return "needs protobuf test messages (\(name))" }
            if name == "google.protobuf.Any" { return "needs binary protobuf decoding (google.protobuf.Any)" }
            _ = body
            return nil
        case .list(let items): return items.lazy.compactMap(unsupportedReason).first
        case .map(let entries):
            for (k, val) in entries {
                if let r = unsupportedReason(k) ?? unsupportedReason(val) { return r }
            }
            return nil
        default: return nil
        }
    }

    // MARK: conversion

    static func celValue(_ v: ProtoValue) throws -> CELValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return .uint(u)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .type(let name): return .type(celType(named: name))
        case .list(let items): return .list(try items.map(celValue))
        case .map(let entries):
            var pairs: [(CELMapKey, CELValue)] = []
            for (k, val) in entries {
                guard let key = CELMapKey(try celValue(k)) else { throw ConformanceUnsupported(reason: "bad map key") }
                pairs.append((key, try celValue(val)))
            }
            guard let m = CELMap(entries: pairs) else { throw ConformanceUnsupported(reason: "duplicate map key") }
            return .map(m)
        case .enumValue(let type, _): throw ConformanceUnsupported(reason: "enum \(type)")
        case .object(let name, let body): return try wellKnown(name, body)
        }
    }

    /// Well-known protobuf messages as CEL values (langdef "Dynamic Values").
    static func wellKnown(_ name: String, _ m: TextProtoMessage) throws -> CELValue {
        func int(_ f: String) -> Int64 { m.scalar(f)?.int64 ?? 0 }
        switch name {
        case "google.protobuf.Duration":
            guard let d = CELDuration(seconds: int("seconds"), nanos: Int32(clamping: int("nanos"))) else {
                throw ConformanceUnsupported(reason: "duration out of range")
            }
            return .duration(d)
        case "google.protobuf.Timestamp":
            guard let t = CELTimestamp(seconds: int("seconds"), nanos: Int32(clamping: int("nanos"))) else {
                throw ConformanceUnsupported(reason: "timestamp out of range")
            }
            return .timestamp(t)
        case "google.protobuf.BoolValue": return .bool(m.bool("value"))
        case "google.protobuf.Int32Value", "google.protobuf.Int64Value": return .int(int("value"))
        case "google.protobuf.UInt32Value", "google.protobuf.UInt64Value": return .uint(m.scalar("value")?.uint64 ?? 0)
        case "google.protobuf.DoubleValue": return .double(m.scalar("value")?.double ?? 0)
        case "google.protobuf.FloatValue": return .double(Double(Float(m.scalar("value")?.double ?? 0)))
        case "google.protobuf.StringValue": return .string(m.string("value") ?? "")
        case "google.protobuf.BytesValue":
            if case .string(let b)? = m.scalar("value") { return .bytes(b) }
            return .bytes([])
        case "google.protobuf.Struct": return try structValue(m)
        case "google.protobuf.Value": return try jsonValue(m)
        case "google.protobuf.ListValue": return .list(try m.messages("values").map(jsonValue))
        default: throw ConformanceUnsupported(reason: "message \(name)")
        }
    }

    static func structValue(_ m: TextProtoMessage) throws -> CELValue {
        var out = CELMap()
        for entry in m.messages("fields") {
            out.set(try jsonValue(entry.message("value") ?? TextProtoMessage()), for: .string(entry.string("key") ?? ""))
        }
        return .map(out)
    }

    /// `google.protobuf.Value`.
    static func jsonValue(_ m: TextProtoMessage) throws -> CELValue {
        guard let f = m.fields.last else { return .null }
        switch f.name {
        case "null_value": return .null
        case "number_value": return .double(m.scalar("number_value")?.double ?? 0)
        case "string_value": return .string(m.string("string_value") ?? "")
        case "bool_value": return .bool(m.bool("bool_value"))
        case "struct_value": return try structValue(m.message("struct_value") ?? TextProtoMessage())
        case "list_value":
            return .list(try (m.message("list_value") ?? TextProtoMessage()).messages("values").map(jsonValue))
        default: throw ConformanceUnsupported(reason: "google.protobuf.Value field \(f.name)")
        }
    }

    static func celType(named name: String) -> CELType {
        switch name {
        case "null_type": .null
        case "bool": .bool
        case "int": .int
        case "uint": .uint
        case "double": .double
        case "string": .string
        case "bytes": .bytes
        case "list": .anyList
        case "map": .anyMap
        case "type": .type
        case "google.protobuf.Timestamp": .timestamp
        case "google.protobuf.Duration": .duration
        case "optional_type": .optional(.dyn)
        case "dyn": .dyn
        case "net.IP", "net.CIDR", "kubernetes.URL", "kubernetes.Quantity", "kubernetes.Semver": .opaque(name)
        default: .message(name)
        }
    }

    static func celType(_ t: ProtoType) -> CELType {
        switch t {
        case .dyn, .error, .wrapper: return .dyn
        case .null: return .null
        case .primitive(let p):
            switch p {
            case .bool: return .bool
            case .int64: return .int
            case .uint64: return .uint
            case .double: return .double
            case .string: return .string
            case .bytes: return .bytes
            }
        case .wellKnown(let w):
            switch w {
            case .any: return .dyn
            case .timestamp: return .timestamp
            case .duration: return .duration
            }
        case .list(let e): return .list(celType(e))
        case .map(let k, let v): return .map(celType(k), celType(v))
        case .function: return .dyn
        case .message(let name):
            switch name {
            case "google.protobuf.Duration": return .duration
            case "google.protobuf.Timestamp": return .timestamp
            case "google.protobuf.Struct": return .map(.string, .dyn)
            case "google.protobuf.ListValue": return .list(.dyn)
            case let n where n.hasPrefix("google.protobuf."): return .dyn
            default: return .message(name)
            }
        case .typeParam(let n): return .typeParameter(n)
        case .type(let inner): return inner.map { _ in .type } ?? .type
        case .abstract(let name, let params):
            if name == "optional_type", let p = params.first { return .optional(celType(p)) }
            if params.isEmpty { return .opaque(name) }
            return .abstract(name, params.map(celType))
        }
    }

    // MARK: comparison

    /// Strict equality for checking results: same kind of value, CEL equality inside, NaN equal to NaN.
    static func matches(_ a: CELValue, _ b: CELValue, depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.uint(let x), .uint(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.timestamp(let x), .timestamp(let y)): return x == y
        case (.duration(let x), .duration(let y)): return x == y
        case (.type(let x), .type(let y)): return x.name == y.name
        case (.list(let x), .list(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { matches($0, $1, depth: depth + 1) }
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], matches(v, w, depth: depth + 1) else { return false }
            }
            return true
        case (.optional(let x), .optional(let y)):
            switch (x, y) {
            case (nil, nil): return true
            case (let p?, let q?): return matches(p, q, depth: depth + 1)
            default: return false
            }
        case (.opaque(let x), .opaque(let y)): return x.isEqual(to: y)
        default: return false
        }
    }

    static func show(_ v: CELValue) -> String {
        switch v {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return "\(i)"
        case .uint(let u): return "\(u)u"
        case .double(let d): return "\(d)"
        case .error(let e): return "error(\(e.code): \(e.message))"
        case .list(let l): return "[" + l.map(show).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.map { "\($0.key): \(show($0.value))" }.joined(separator: ", ") + "}"
        case .type(let t): return "type(\(t.name))"
        case .bytes(let b): return "b\"\(String(decoding: b, as: UTF8.self))\""
        default: return "\(v)"
        }
    }

    // MARK: running

    /// Libraries enabled for every test (cel-go's conformance server enables its extensions too).
    static let libraries: [CELLibrary] = CELExtensions.all

    /// The environment a test declares (type_env, container), with every extension library.
    static func environment(_ t: ConformanceTest) -> CELEnvironment {
        var options = CELOptions()
        options.checkDeclarations = !t.disableCheck
        options.container = t.container
        options.costLimit = costLimit
        var variables: [CELVariable] = []
        var functions: [CELFunction] = []
        for d in t.typeEnv {
            switch d {
            case .ident(let name, let type): variables.append(CELVariable(name, celType(type)))
            case .function(let name, let overloads):
                // Declarations only (the suite gives no implementations): for the checker.
                functions.append(CELFunction(name, overloads.map { o in
                    CELOverload.declaration(o.id, style: o.isInstance ? .receiver : .global,
                                            parameters: o.params.map(celType), result: celType(o.result))
                }))
            }
        }
        return CELEnvironment(variables: variables, functions: functions, libraries: libraries, options: options)
    }

    /// Type-checks a runnable test that does not disable checking and compares the deduced type with the
    /// evaluated value's runtime type; returns a description of a disagreement, nil when they agree or the
    /// test is not applicable. (cel-spec's suite is written for checked evaluation, so checking must not
    /// reject expressions whose evaluation is expected to succeed.)
    static func checkerDisagreement(_ t: ConformanceTest) -> String? {
        if skipReason(t) != nil || t.disableCheck || t.checkOnly { return nil }
        let env = environment(t)
        let deduced: CELType
        do {
            deduced = try env.check(t.expr)
        } catch {
            if case .error = t.expected { return nil }
            return "check error \(error.code): \(error.message)"
        }
        guard let program = try? env.compile(t.expr) else { return nil }
        var activation: [String: CELValue] = [:]
        for (name, b) in t.bindings {
            if case .value(let v) = b, let value = try? celValue(v) { activation[name] = value }
        }
        let value = program.run(CELActivation(activation)).value
        if value.isErrorOrUnknown || deduced == .dyn { return nil }
        if case .typeParameter = deduced { return nil }
        if deduced.name != value.celType.name {
            return "deduced \(deduced), evaluated to a \(value.celType)"
        }
        return nil
    }

    static func run(_ t: ConformanceTest) -> ConformanceOutcome {
        if let reason = skipReason(t) { return .skipped(reason) }
        var activation: [String: CELValue] = [:]
        do {
            for (name, b) in t.bindings {
                switch b {
                case .value(let v): activation[name] = try celValue(v)
                case .error(let messages): activation[name] = .error(CELError(.invalidArgument, messages.first ?? "error"))
                case .unknown: activation[name] = .unknown(CELUnknown([name]))
                }
            }
        } catch {
            return .skipped("binding not representable: \(error)")
        }
        let env = environment(t)
        // The checker's deduced type (typed_result.deduced_type), unless checking is disabled.
        if case .typed(_, let deduced?) = t.expected, !t.disableCheck {
            let expectedType = celType(deduced)
            do {
                let actual = try env.check(t.expr)
                if actual != expectedType { return .failed("deduced type \(actual), expected \(expectedType)") }
            } catch {
                return .failed("check error: \(error.code): \(error.message)")
            }
        }
        if t.checkOnly { return .passed }
        let program: CELProgram
        do {
            program = try env.compile(t.expr)
        } catch {
            if case .error = t.expected { return .passed }
            return .failed("compile error: \(error.code): \(error.message)")
        }
        let result = program.run(CELActivation(activation)).value
        switch t.expected {
        case .error(let messages):
            if case .error = result { return .passed }
            return .failed("expected error \(messages), got \(show(result))")
        case .unknown:
            if case .unknown = result { return .passed }
            return .failed("expected unknown, got \(show(result))")
        case .value(let pv), .typed(let pv?, _):
            let expected: CELValue
            do { expected = try celValue(pv) } catch { return .skipped("expected value not representable: \(error)") }
            return matches(result, expected) ? .passed : .failed("expected \(show(expected)), got \(show(result))")
        case .none:
            return matches(result, .true) ? .passed : .failed("expected true, got \(show(result))")
        case .typed(nil, _):
            return .skipped("typed_result without a value")
        }
    }
}
