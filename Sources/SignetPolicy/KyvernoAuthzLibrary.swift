import Foundation
import SignetCEL
import SignetPrimitives

/// Kyverno's authorization ValidatingPolicies (`evaluation.mode: Envoy` / `HTTP`, the policies of
/// kyverno-authz): `object` is an Envoy `CheckRequest` or an HTTP `CheckRequest`, and each
/// validation returns a response (`envoy.Allowed().Response()`, `http.Denied("why").Response()`)
/// or null. The first non-null response decides (kyverno-authz pkg/engine/compiler/policy.go).
public enum KyvernoAuthzLibrary {
    /// The kind of input an authorization policy reads.
    public enum PayloadKind: Sendable, Hashable {
        case envoy, http

        /// The evaluation mode whose policies read this payload kind.
        public var mode: CELEvaluationMode { self == .envoy ? .envoy : .http }
    }

    /// A response value built by the `envoy` / `http` authorization libraries. `fields` has the
    /// shape of the Go/protobuf message in JSON (for `string(x)` and messages).
    struct Message: CELOpaque {
        let typeName: String
        let fields: [String: JSONValue]
        var celType: CELType { .opaque(typeName) }
        func isEqual(to other: any CELOpaque) -> Bool {
            guard let o = other as? Message else { return false }
            return o.typeName == typeName && o.fields == fields
        }
        var description: String { JSONValue.object(fields).jsonString(sortedKeys: true) }
    }

    // Type names, as kyverno-authz declares them (pkg/cel/libs/authz/envoy/lib.go, http/types.go).
    static let envoyOk = "envoy.service.auth.v3.OkHttpResponse"
    static let envoyDenied = "envoy.service.auth.v3.DeniedHttpResponse"
    static let envoyCheckResponse = "envoy.service.auth.v3.CheckResponse"
    static let envoyHeader = "envoy.config.core.v3.HeaderValueOption"
    static let envoyQueryParam = "envoy.config.core.v3.QueryParameter"
    static let httpOk = "http.CheckResponseOk"
    static let httpDenied = "http.CheckResponseDenied"
    static let httpCheckResponse = "http.CheckResponse"

    /// gRPC status codes of the Envoy CheckResponse `status` (google.rpc.Code).
    static let grpcOK: Int64 = 0
    static let grpcPermissionDenied: Int64 = 7

    static func message(_ v: CELValue, _ type: String) -> [String: JSONValue]? {
        guard case .opaque(let o) = v, let m = o as? Message, m.typeName == type else { return nil }
        return m.fields
    }

    static func make(_ type: String, _ fields: [String: JSONValue]) -> CELValue { .opaque(Message(typeName: type, fields: fields)) }

    /// Appends `item` to the list field `key` of a message of type `type`.
    static func appending(_ v: CELValue, _ type: String, _ key: String, _ item: JSONValue, name: String) -> CELValue {
        guard var f = message(v, type) else { return .error(.noMatchingOverload, name) }
        f[key] = .array((f[key]?.arrayValue ?? []) + [item])
        return make(type, f)
    }

    static func header(_ key: CELValue, _ value: CELValue) -> JSONValue? {
        guard let k = key.stringValue, let v = value.stringValue else { return nil }
        return ["header": ["key": .string(k), "value": .string(v)]]
    }

    static func headerOption(_ v: CELValue) -> JSONValue? { message(v, envoyHeader).map(JSONValue.object) }

    /// The `envoy` library (kyverno-authz `kyverno.authz.envoy`).
    static let envoyLibrary = CELLibrary(name: "kyverno.authz.envoy", functions: [
        CELFunction("envoy.Allowed", .function("kyverno_envoy_allowed", parameters: []) { _ in make(envoyOk, [:]) }),
        CELFunction("envoy.Denied", .function("kyverno_envoy_denied", .int) { c in
            // the code is an envoy.type.v3.StatusCode (an int32 enum)
            guard let code = c.intValue, code >= Int64(Int32.min), code <= Int64(Int32.max) else { return .error(.invalidArgument, "invalid status code") }
            return make(envoyDenied, ["status": ["code": .integer(code)]])
        }),
        CELFunction("envoy.Header", .function("kyverno_envoy_header", .string, .string) { k, v in
            header(k, v).flatMap(\.objectValue).map { make(envoyHeader, $0) } ?? .error(.noMatchingOverload, "envoy.Header")
        }),
        CELFunction("envoy.QueryParam", .function("kyverno_envoy_query_param", .string, .string) { k, v in
            guard let k = k.stringValue, let v = v.stringValue else { return .error(.noMatchingOverload, "envoy.QueryParam") }
            return make(envoyQueryParam, ["key": .string(k), "value": .string(v)])
        }),
        CELFunction("WithBody", .method("kyverno_envoy_denied_with_body", .opaque(envoyDenied), .string) { d, b in
            guard var f = message(d, envoyDenied), let b = b.stringValue else { return .error(.noMatchingOverload, "WithBody") }
            f["body"] = .string(b)
            return make(envoyDenied, f)
        }),
        CELFunction("WithHeader",
            .method("kyverno_envoy_ok_with_header", .opaque(envoyOk), .opaque(envoyHeader)) { o, h in
                headerOption(h).map { appending(o, envoyOk, "headers", $0, name: "WithHeader") } ?? .error(.noMatchingOverload, "WithHeader")
            },
            .method("kyverno_envoy_ok_with_header_kv", .opaque(envoyOk), .string, .string) { o, k, v in
                header(k, v).map { appending(o, envoyOk, "headers", $0, name: "WithHeader") } ?? .error(.noMatchingOverload, "WithHeader")
            },
            .method("kyverno_envoy_denied_with_header", .opaque(envoyDenied), .opaque(envoyHeader)) { d, h in
                headerOption(h).map { appending(d, envoyDenied, "headers", $0, name: "WithHeader") } ?? .error(.noMatchingOverload, "WithHeader")
            },
            .method("kyverno_envoy_denied_with_header_kv", .opaque(envoyDenied), .string, .string) { d, k, v in
                header(k, v).map { appending(d, envoyDenied, "headers", $0, name: "WithHeader") } ?? .error(.noMatchingOverload, "WithHeader")
            }),
        CELFunction("WithoutHeader", .method("kyverno_envoy_ok_without_header", .opaque(envoyOk), .string) { o, k in
            k.stringValue.map { appending(o, envoyOk, "headersToRemove", .string($0), name: "WithoutHeader") } ?? .error(.noMatchingOverload, "WithoutHeader")
        }),
        CELFunction("WithResponseHeader",
            .method("kyverno_envoy_ok_with_response_header", .opaque(envoyOk), .opaque(envoyHeader)) { o, h in
                headerOption(h).map { appending(o, envoyOk, "responseHeadersToAdd", $0, name: "WithResponseHeader") } ?? .error(.noMatchingOverload, "WithResponseHeader")
            },
            .method("kyverno_envoy_ok_with_response_header_kv", .opaque(envoyOk), .string, .string) { o, k, v in
                header(k, v).map { appending(o, envoyOk, "responseHeadersToAdd", $0, name: "WithResponseHeader") } ?? .error(.noMatchingOverload, "WithResponseHeader")
            }),
        CELFunction("WithQueryParam",
            .method("kyverno_envoy_ok_with_query_param", .opaque(envoyOk), .opaque(envoyQueryParam)) { o, q in
                message(q, envoyQueryParam).map { appending(o, envoyOk, "queryParametersToSet", .object($0), name: "WithQueryParam") } ?? .error(.noMatchingOverload, "WithQueryParam")
            },
            .method("kyverno_envoy_ok_with_query_param_kv", .opaque(envoyOk), .string, .string) { o, k, v in
                guard let k = k.stringValue, let v = v.stringValue else { return .error(.noMatchingOverload, "WithQueryParam") }
                return appending(o, envoyOk, "queryParametersToSet", ["key": .string(k), "value": .string(v)], name: "WithQueryParam")
            }),
        CELFunction("WithoutQueryParam", .method("kyverno_envoy_ok_without_query_param", .opaque(envoyOk), .string) { o, k in
            k.stringValue.map { appending(o, envoyOk, "queryParametersToRemove", .string($0), name: "WithoutQueryParam") } ?? .error(.noMatchingOverload, "WithoutQueryParam")
        }),
        CELFunction("KeepEmptyValue",
            .method("kyverno_envoy_header_keep_empty", .opaque(envoyHeader)) { h in
                guard var f = message(h, envoyHeader) else { return .error(.noMatchingOverload, "KeepEmptyValue") }
                f["keepEmptyValue"] = true
                return make(envoyHeader, f)
            },
            .method("kyverno_envoy_header_keep_empty_bool", .opaque(envoyHeader), .bool) { h, b in
                guard var f = message(h, envoyHeader), let b = b.boolValue else { return .error(.noMatchingOverload, "KeepEmptyValue") }
                f["keepEmptyValue"] = .bool(b)
                return make(envoyHeader, f)
            }),
        CELFunction("Response",
            .method("kyverno_envoy_ok_response", .opaque(envoyOk)) { o in
                guard let f = message(o, envoyOk) else { return .error(.noMatchingOverload, "Response") }
                return make(envoyCheckResponse, ["status": ["code": .integer(grpcOK)], "okResponse": .object(f)])
            },
            .method("kyverno_envoy_denied_response", .opaque(envoyDenied)) { d in
                guard let f = message(d, envoyDenied) else { return .error(.noMatchingOverload, "Response") }
                return make(envoyCheckResponse, ["status": ["code": .integer(grpcPermissionDenied)], "deniedResponse": .object(f)])
            }),
        CELFunction("WithMessage", .method("kyverno_envoy_response_with_message", .opaque(envoyCheckResponse), .string) { r, m in
            guard var f = message(r, envoyCheckResponse), let m = m.stringValue else { return .error(.noMatchingOverload, "WithMessage") }
            var status = f["status"]?.objectValue ?? [:]
            status["message"] = .string(m)
            f["status"] = .object(status)
            return make(envoyCheckResponse, f)
        }),
        CELFunction("WithMetadata", .method("kyverno_envoy_response_with_metadata", .opaque(envoyCheckResponse), .dyn) { r, m in
            guard var f = message(r, envoyCheckResponse), m.mapValue != nil, let json = try? m.toJSON() else { return .error(.noMatchingOverload, "WithMetadata") }
            f["dynamicMetadata"] = json
            return make(envoyCheckResponse, f)
        }),
    ], types: [.opaque(envoyOk), .opaque(envoyDenied), .opaque(envoyCheckResponse), .opaque(envoyHeader), .opaque(envoyQueryParam)])

    /// The `http` authorization library (kyverno-authz `kyverno.authz.http`). `http` is also the
    /// HTTP-call variable, so `http.Allowed()` / `http.Denied(r)` are methods on that variable.
    static let httpLibrary = CELLibrary(name: "kyverno.authz.http", functions: [
        CELFunction("Allowed", .method("kyverno_http_allowed", .opaque("kyverno.http")) { _ in make(httpOk, [:]) }),
        CELFunction("Denied", .method("kyverno_http_denied", .opaque("kyverno.http"), .string) { _, r in
            r.stringValue.map { make(httpDenied, ["reason": .string($0)]) } ?? .error(.noMatchingOverload, "Denied")
        }),
        CELFunction("Header", .method("kyverno_http_request_header", .dyn, .string) { req, key in
            guard let m = req.mapValue, let k = key.stringValue else { return .error(.noMatchingOverload, "Header") }
            // textproto.MIMEHeader.Values: the canonical form of the key, looked up exactly
            let values = m["header"]?.mapValue?[canonicalMIMEHeaderKey(k)]
            return values?.listValue.map(CELValue.list) ?? .list([])
        }),
        CELFunction("QueryParam", .method("kyverno_http_request_query_param", .dyn, .string) { req, key in
            guard let m = req.mapValue, let k = key.stringValue else { return .error(.noMatchingOverload, "QueryParam") }
            return m["query"]?.mapValue?[k]?.listValue.map(CELValue.list) ?? .list([])
        }),
        CELFunction("Response",
            .method("kyverno_http_ok_response", .opaque(httpOk)) { o in
                message(o, httpOk).map { make(httpCheckResponse, ["ok": .object($0)]) } ?? .error(.noMatchingOverload, "Response")
            },
            .method("kyverno_http_denied_response", .opaque(httpDenied)) { d in
                message(d, httpDenied).map { make(httpCheckResponse, ["denied": .object($0)]) } ?? .error(.noMatchingOverload, "Response")
            }),
    ], types: [.opaque(httpOk), .opaque(httpDenied), .opaque(httpCheckResponse)])

    /// The environment Envoy-mode policies compile in.
    public static let envoyEnvironment = KyvernoCELLibrary.environment.extended(libraries: [envoyLibrary])
    /// The environment HTTP-mode policies compile in.
    public static let httpEnvironment = KyvernoCELLibrary.environment.extended(libraries: [httpLibrary])

    /// The environment for a policy's evaluation mode; nil for the modes that use the default one.
    static func environment(for mode: CELEvaluationMode) -> CELEnvironment? {
        switch mode {
        case .envoy: return envoyEnvironment
        case .http: return httpEnvironment
        case .kubernetes, .json: return nil
        }
    }

    /// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`; a key with a byte
    /// that is not a token character is returned unchanged.
    static func canonicalMIMEHeaderKey(_ key: String) -> String {
        let bytes = Array(key.utf8)
        let token: (UInt8) -> Bool = { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
        guard bytes.allSatisfy(token) else { return key }
        var upper = true
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            var c = b
            if upper, c >= 0x61, c <= 0x7A { c -= 0x20 } else if !upper, c >= 0x41, c <= 0x5A { c += 0x20 }
            out.append(c)
            upper = c == UInt8(ascii: "-")
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Payloads

    /// Maximum nesting of a payload document (hostile input).
    static let maxDepth = 64

    /// An Envoy `CheckRequest` (protojson) as CEL sees the protobuf message: proto field names
    /// (`context_extensions`, not `contextExtensions`), unset scalar fields of the HTTP request at
    /// their defaults, map fields (`headers`, `context_extensions`, ...) with their keys unchanged.
    public static func envoyObject(_ payload: JSONValue) -> CELValue {
        var v = snakeCased(payload, depth: 0)
        if case .object(var root) = v {
            var attributes = root["attributes"]?.objectValue ?? [:]
            var request = attributes["request"]?.objectValue ?? [:]
            var http = request["http"]?.objectValue ?? [:]
            for k in ["id", "method", "path", "host", "scheme", "query", "fragment", "protocol", "body"] where http[k] == nil { http[k] = "" }
            if http["headers"] == nil { http["headers"] = .object([:]) }
            // int64 fields are strings in protojson
            if let s = http["size"]?.stringValue, let n = Int64(s) { http["size"] = .integer(n) } else if http["size"] == nil { http["size"] = 0 }
            request["http"] = .object(http)
            attributes["request"] = .object(request)
            for peer in ["source", "destination"] {
                var p = attributes[peer]?.objectValue ?? [:]
                for k in ["service", "principal", "certificate"] where p[k] == nil { p[k] = "" }
                if p["labels"] == nil { p["labels"] = .object([:]) }
                if p["address"] == nil { p["address"] = .object([:]) }
                attributes[peer] = .object(p)
            }
            if attributes["context_extensions"] == nil { attributes["context_extensions"] = .object([:]) }
            root["attributes"] = .object(attributes)
            v = .object(root)
        }
        var out = CELValue(json: v)
        // raw_body is `bytes` (base64 in protojson)
        if case .map(var root) = out, case .map(var attrs)? = root["attributes"], case .map(var req)? = attrs["request"],
           case .map(var http)? = req["http"] {
            let raw = http["raw_body"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? []
            http.set(.bytes(raw), for: .string("raw_body"))
            req.set(.map(http), for: .string("http"))
            attrs.set(.map(req), for: .string("request"))
            root.set(.map(attrs), for: .string("attributes"))
            out = .map(root)
        }
        return out
    }

    /// Map-valued protobuf fields whose keys are data, not field names.
    static let mapFields: Set<String> = ["headers", "context_extensions", "labels", "filter_metadata", "typed_filter_metadata", "fields"]

    static func snakeCased(_ v: JSONValue, depth: Int) -> JSONValue {
        guard depth < maxDepth else { return .null }
        switch v {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, value) in o {
                let key = snakeCase(k)
                if mapFields.contains(key), case .object = value { out[key] = value } else { out[key] = snakeCased(value, depth: depth + 1) }
            }
            return .object(out)
        case .array(let a): return .array(a.map { snakeCased($0, depth: depth + 1) })
        default: return v
        }
    }

    /// `contextExtensions` → `context_extensions` (protojson's JSON name back to the proto name).
    static func snakeCase(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase, ch.isASCII { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// An HTTP `CheckRequest` as CEL sees the Go struct: `attributes` with every field present
    /// (zero values), `body` as bytes. Go's JSON decoding matches field names case-insensitively.
    public static func httpObject(_ payload: JSONValue) -> CELValue {
        func field(_ o: [String: JSONValue]?, _ name: String) -> JSONValue? {
            guard let o else { return nil }
            if let v = o[name] { return v }
            return o.first { $0.key.lowercased() == name.lowercased() }?.value
        }
        let a = field(payload.objectValue, "attributes")?.objectValue
        var attrs = CELMap()
        for k in ["method", "host", "protocol", "scheme", "path", "fragment"] {
            attrs.set(.string(field(a, k)?.stringValue ?? ""), for: .string(k))
        }
        for k in ["header", "query"] {
            var m = CELMap()
            for (name, values) in field(a, k)?.objectValue ?? [:] {
                m.set(.list((values.arrayValue ?? []).compactMap(\.stringValue).map(CELValue.string)), for: .string(name))
            }
            attrs.set(.map(m), for: .string(k))
        }
        var length: Int64 = 0
        if case .integer(let n)? = field(a, "contentLength") { length = n }
        attrs.set(.int(length), for: .string("contentLength"))
        let body = field(a, "body")?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? []
        attrs.set(.bytes(body), for: .string("body"))
        var root = CELMap()
        root.set(.map(attrs), for: .string("attributes"))
        return .map(root)
    }
}

extension CELPolicyEngine {
    /// Evaluates the authorization policies (`evaluation.mode: Envoy` or `HTTP`) on one request,
    /// as Kyverno's CLI does (cmd/cli/kubectl-kyverno/processor/authz_processor.go): one result per
    /// policy, rule named after the policy — pass "request allowed", fail "request denied ...",
    /// skip "request does not match" when no validation returned a response, error when an
    /// expression failed and the policy's failurePolicy is Fail.
    public func evaluate(authzPayload payload: JSONValue, kind: KyvernoAuthzLibrary.PayloadKind,
                         context: CELRequestContext = .init()) -> [PolicyResult] {
        let object = kind == .envoy ? KyvernoAuthzLibrary.envoyObject(payload) : KyvernoAuthzLibrary.httpObject(payload)
        var out: [PolicyResult] = []
        for plan in plans where plan.policy.mode == kind.mode {
            let p = plan.policy
            if let invalid = plan.invalidReason {
                out.append(PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy, rules: [], invalidReason: invalid))
                continue
            }
            guard let variant = plan.variants.first else { continue }
            var base = KyvernoCELLibrary.handles(context.data)
            base["object"] = object
            let (status, message) = Self.authorize(variant.checks, base: base, kind: kind)
            var rr = RuleResult(rule: p.name, type: .validation, status: status, message: message, failureAction: action(p.validationActions))
            if status == .error, p.failurePolicy == .ignore {
                // an error under failurePolicy Ignore is no response (kyverno-authz Evaluate)
                rr.status = .skip
                rr.message = "request does not match"
            }
            out.append(PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy, rules: [rr]))
        }
        return out
    }

    static func authorize(_ checks: CompiledCELChecks, base: [String: CELValue], kind: KyvernoAuthzLibrary.PayloadKind) -> (RuleStatus, String) {
        var activation = base
        var budget = CompiledCELChecks.costBudget
        func eval(_ p: CELProgram) -> CELValue {
            let r = p.run(CELActivation(activation), costLimit: max(budget, 0))
            budget -= r.cost
            return r.value
        }
        for mc in checks.matchConditions {
            switch eval(mc.program) {
            case .bool(true): continue
            case .bool(false): return (.skip, "request does not match")
            case let other: return (.error, "failed to evaluate match condition \(mc.name): \(CompiledCELChecks.describe(other))")
            }
        }
        var vars = CELMap()
        activation["variables"] = .map(vars)
        for v in checks.variables {
            vars.set(eval(v.program), for: .string(v.name))
            activation["variables"] = .map(vars)
        }
        for val in checks.validations {
            let value = eval(val.program)
            switch value {
            case .null: continue
            case .error, .unknown: return (.error, CompiledCELChecks.describe(value))
            default: break
            }
            switch kind {
            case .envoy:
                guard let f = KyvernoAuthzLibrary.message(value, KyvernoAuthzLibrary.envoyCheckResponse) else {
                    return (.error, "rule result is expected to be \(KyvernoAuthzLibrary.envoyCheckResponse)")
                }
                if f["okResponse"] != nil { return (.pass, "request allowed") }
                let code = f["deniedResponse"]?["status"]?["code"].flatMap { v -> Int64? in if case .integer(let n) = v { return n }; return nil } ?? 0
                return (.fail, "request denied with status code \(code)")
            case .http:
                guard let f = KyvernoAuthzLibrary.message(value, KyvernoAuthzLibrary.httpCheckResponse) else {
                    return (.error, "rule result is expected to be \(KyvernoAuthzLibrary.httpCheckResponse)")
                }
                if f["ok"] != nil { return (.pass, "request allowed") }
                return (.fail, "request denied, reason: \(f["denied"]?["reason"]?.stringValue ?? "")")
            }
        }
        return (.skip, "request does not match")
    }
}
