import Foundation
import NIOCore
import SignetPolicy
import SignetPrimitives

/// An `admission.k8s.io/v1` AdmissionReview: the body of a webhook call and of its reply
/// (kubernetes.io, extensible-admission-controllers; FORMATS.md section 5).
///
/// Requests are read in one pass as a `JSONEnvelope`: the review's own objects member by member,
/// `object` as the engine's `JSONValue` without a second parse. Replies are written directly.
public struct AdmissionReview: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var request: AdmissionRequest?
    public var response: AdmissionResponse?

    public static let apiVersionV1 = "admission.k8s.io/v1"

    public init(request: AdmissionRequest? = nil, response: AdmissionResponse? = nil) {
        self.apiVersion = Self.apiVersionV1
        self.kind = "AdmissionReview"
        self.request = request
        self.response = response
    }

    /// Parses and checks a review sent by the API server: `admission.k8s.io/v1`, kind
    /// `AdmissionReview`, a request with a non-empty uid. Every problem is a `.badRequest` error
    /// whose message says what is wrong.
    public init(parsing data: Data) throws {
        try self.init(parsing: data.withUnsafeBytes { try Self.parseBody($0) })
    }

    /// Parses an AdmissionReview from a request body as the server received it, in place (the
    /// network buffer: no copy).
    public init(parsing buffer: ByteBuffer) throws {
        try self.init(parsing: try buffer.withUnsafeReadableBytes { try Self.parseBody($0) })
    }

    /// The envelope's objects read member by member (no dictionary for them); `object`,
    /// `oldObject` and `options` are values, as the engine takes them.
    static let envelopeKeys = ["request", "kind", "resource", "requestKind", "requestResource", "userInfo"]

    static func parseBody(_ bytes: UnsafeRawBufferPointer) throws -> JSONEnvelope {
        do {
            return try JSONEnvelope(jsonBytes: bytes, expanding: envelopeKeys)
        } catch {
            throw SignetAdmissionError(.badRequest, "body is not valid JSON", underlying: error)
        }
    }

    init(parsing root: JSONEnvelope) throws {
        guard root.isObject else {
            throw SignetAdmissionError(.badRequest, "body is not a JSON object")
        }
        let apiVersion = root["apiVersion"]?.stringValue ?? ""
        guard apiVersion == Self.apiVersionV1 else {
            throw SignetAdmissionError(.badRequest, "unsupported apiVersion '\(apiVersion)' (want \(Self.apiVersionV1))")
        }
        let kind = root["kind"]?.stringValue ?? ""
        guard kind == "AdmissionReview" else {
            throw SignetAdmissionError(.badRequest, "unsupported kind '\(kind)' (want AdmissionReview)")
        }
        guard let req = root["request"], req.isObject else {
            throw SignetAdmissionError(.badRequest, "AdmissionReview has no request")
        }
        self.init(request: try AdmissionRequest(envelope: req))
    }

    /// A reply carrying `response` (same apiVersion and kind, no request).
    public static func reply(_ response: AdmissionResponse) -> AdmissionReview {
        AdmissionReview(request: nil, response: response)
    }

    /// The reply as JSON bytes: `{"apiVersion","kind","response"}` (written directly, no encoder:
    /// this is the hot path).
    public func replyData() throws -> Data {
        Data(replyBytes())
    }

    /// `replyData`'s bytes (the event-loop handler copies them straight into its network buffer).
    func replyBytes() -> [UInt8] {
        // The members in sorted order, as `jsonString` writes them: apiVersion, kind, response.
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValue.string(apiVersion).appendJSON(to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        JSONValue.string(kind).appendJSON(to: &out)
        if let response {
            out.append(contentsOf: #","response":"#.utf8)
            response.appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// `request` of an AdmissionReview.
public struct AdmissionRequest: Sendable, Hashable {
    public var uid: String
    public var kind: GroupVersionKind
    public var resource: GroupVersionResource
    public var subResource: String?
    public var requestKind: GroupVersionKind?
    public var requestResource: GroupVersionResource?
    public var name: String?
    public var namespace: String?
    public var operation: AdmissionOperation
    public var userInfo: UserInfo
    /// The resource as sent, raw JSON (absent for DELETE).
    public var object: JSONValue?
    public var oldObject: JSONValue?
    public var dryRun: Bool?
    public var options: JSONValue?

    /// Reads `request` from its JSON; `uid` is required and non-empty.
    init(envelope json: JSONEnvelope) throws {
        func string(_ key: String) throws -> String? {
            switch json[key] {
            case nil, .value(.null)?: return nil
            case .value(.string(let s))?: return s
            case let other?: throw SignetAdmissionError(.badRequest, "request.\(key) must be a string, not \(other.value.typeName)")
            }
        }
        guard let uid = try string("uid"), !uid.isEmpty else {
            throw SignetAdmissionError(.badRequest, "AdmissionReview request has no uid")
        }
        self.uid = uid
        func gvk(_ key: String) -> GroupVersionKind? {
            guard let v = json[key], v.isObject else { return nil }
            return GroupVersionKind(group: v["group"]?.stringValue ?? "", version: v["version"]?.stringValue ?? "",
                                    kind: v["kind"]?.stringValue ?? "")
        }
        func gvr(_ key: String) -> GroupVersionResource? {
            guard let v = json[key], v.isObject else { return nil }
            return GroupVersionResource(group: v["group"]?.stringValue ?? "", version: v["version"]?.stringValue ?? "",
                                        resource: v["resource"]?.stringValue ?? "")
        }
        let object = json["object"].map(\.value).flatMap { $0 == .null ? nil : $0 }
        // `kind` is required by the API; fall back to the object's own apiVersion/kind when absent.
        if let k = gvk("kind") {
            kind = k
        } else if let o = object, let k = o["kind"]?.stringValue {
            let av = o["apiVersion"]?.stringValue ?? "v1"
            let parts = av.split(separator: "/", maxSplits: 1).map(String.init)
            kind = GroupVersionKind(group: parts.count == 2 ? parts[0] : "", version: parts.last ?? "v1", kind: k)
        } else {
            throw SignetAdmissionError(.badRequest, "AdmissionReview request has no kind")
        }
        resource = gvr("resource") ?? GroupVersionResource(group: kind.group, version: kind.version, resource: kind.kind.lowercased() + "s")
        subResource = try string("subResource")
        requestKind = gvk("requestKind")
        requestResource = gvr("requestResource")
        name = try string("name")
        namespace = try string("namespace")
        let op = try string("operation") ?? "CREATE"
        guard let parsed = AdmissionOperation(rawValue: op) else {
            throw SignetAdmissionError(.badRequest, "unknown operation '\(op.prefix(32))' (want CREATE, UPDATE, DELETE or CONNECT)")
        }
        operation = parsed
        let u = json["userInfo"]
        var extra: [String: [String]]? = nil
        if let e = u?["extra"]?.value.objectValue {
            extra = e.mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        }
        userInfo = UserInfo(username: u?["username"]?.stringValue, uid: u?["uid"]?.stringValue,
                            groups: u?["groups"]?.value.arrayValue?.compactMap(\.stringValue), extra: extra)
        self.object = object
        oldObject = json["oldObject"].map(\.value).flatMap { $0 == .null ? nil : $0 }
        dryRun = json["dryRun"]?.value.boolValue
        options = json["options"]?.value
    }

    public init(uid: String, kind: GroupVersionKind, resource: GroupVersionResource, name: String? = nil,
                namespace: String? = nil, operation: AdmissionOperation = .create, userInfo: UserInfo = UserInfo(),
                object: JSONValue? = nil, oldObject: JSONValue? = nil, dryRun: Bool? = nil) {
        self.uid = uid
        self.kind = kind
        self.resource = resource
        self.name = name
        self.namespace = namespace
        self.operation = operation
        self.userInfo = userInfo
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
    }

    /// The name to report: `request.name`, else `metadata.name`, else `metadata.generateName`.
    public var resourceName: String {
        if let name, !name.isEmpty { return name }
        let meta = (object ?? oldObject)?["metadata"]
        return meta?["name"]?.stringValue ?? meta?["generateName"]?.stringValue ?? ""
    }
}

/// `group`/`version`/`kind`; the core group is the empty string.
public struct GroupVersionKind: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public init(group: String = "", version: String = "v1", kind: String) {
        self.group = group; self.version = version; self.kind = kind
    }
    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
}

/// `group`/`version`/`resource`.
public struct GroupVersionResource: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var resource: String
    public init(group: String = "", version: String = "v1", resource: String) {
        self.group = group; self.version = version; self.resource = resource
    }
}

/// The requesting user (`authentication.k8s.io/v1` UserInfo).
public struct UserInfo: Codable, Sendable, Hashable {
    public var username: String?
    public var uid: String?
    public var groups: [String]?
    public var extra: [String: [String]]?
    public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil, extra: [String: [String]]? = nil) {
        self.username = username; self.uid = uid; self.groups = groups; self.extra = extra
    }
}

/// `response` of an AdmissionReview.
public struct AdmissionResponse: Codable, Sendable, Hashable {
    public var uid: String
    public var allowed: Bool
    public var status: Status?
    public var warnings: [String]?
    /// `JSONPatch` when `patch` is set.
    public var patchType: String?
    /// Base64 of the JSON patch bytes (Foundation's `Data` Codable is base64).
    public var patch: Data?
    public var auditAnnotations: [String: String]?

    public init(uid: String, allowed: Bool, status: Status? = nil, warnings: [String]? = nil,
                patch: Data? = nil, auditAnnotations: [String: String]? = nil) {
        self.uid = uid
        self.allowed = allowed
        self.status = status
        self.warnings = warnings
        self.patch = patch
        self.patchType = patch == nil ? nil : "JSONPatch"
        self.auditAnnotations = auditAnnotations
    }

    /// A `metav1.Status` as admission replies carry it.
    public struct Status: Codable, Sendable, Hashable {
        public var code: Int?
        public var message: String?
        public var reason: String?
        public var status: String?
        public init(code: Int? = nil, message: String? = nil, reason: String? = nil, status: String? = nil) {
            self.code = code; self.message = message; self.reason = reason; self.status = status
        }
    }

    /// Appends `json`'s text (keys sorted) to `out`. A bare allowed/denied answer, the warm
    /// path's, is written without building the JSON value.
    func appendJSON(to out: inout [UInt8]) {
        guard status == nil, warnings == nil, patchType == nil, patch == nil, auditAnnotations == nil else {
            json.appendJSON(to: &out)
            return
        }
        out.append(contentsOf: (allowed ? #"{"allowed":true,"uid":"# : #"{"allowed":false,"uid":"#).utf8)
        JSONValue.string(uid).appendJSON(to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The response as JSON (`patch` base64).
    public var json: JSONValue {
        var o: [String: JSONValue] = ["uid": .string(uid), "allowed": .bool(allowed)]
        if let status {
            var st: [String: JSONValue] = [:]
            if let c = status.code { st["code"] = .integer(Int64(c)) }
            if let m = status.message { st["message"] = .string(m) }
            if let r = status.reason { st["reason"] = .string(r) }
            if let s = status.status { st["status"] = .string(s) }
            o["status"] = .object(st)
        }
        if let warnings { o["warnings"] = .array(warnings.map { .string($0) }) }
        if let patchType { o["patchType"] = .string(patchType) }
        if let patch { o["patch"] = .string(patch.base64EncodedString()) }
        if let auditAnnotations { o["auditAnnotations"] = .object(auditAnnotations.mapValues { .string($0) }) }
        return .object(o)
    }

    /// The patch operations decoded back (tests and logs).
    public var patchOperations: [JSONPatchOperation]? {
        guard let patch, let ops = (try? JSONValue(json: patch))?.arrayValue else { return nil }
        return ops.compactMap { op in
            guard let o = op["op"]?.stringValue, let p = op["path"]?.stringValue else { return nil }
            return JSONPatchOperation(op: o, path: p, value: op["value"] ?? .null)
        }
    }
}

extension JSONPatchOperation {
    /// `replace` at `path`.
    public static func replace(_ path: String, _ value: JSONValue) -> Self { .init(op: "replace", path: path, value: value) }

    /// Escapes one JSON pointer token (RFC 6901: `~` -> `~0`, `/` -> `~1`).
    public static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
