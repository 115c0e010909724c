import Foundation
import SignetCEL
import SignetOCI
import SignetPrimitives

/// Cluster data the Kyverno CEL libraries read (`resource.Get/List`, `globalContext.Get`, `http`).
/// Fetched before evaluation (CLI: the test file's `context`/`clusterResources`; webhook: the API
/// server), so that evaluation stays pure and synchronous.
public struct KyvernoCELData: Sendable {
    /// Objects `resource.Get`/`resource.List` can return.
    public var resources: [JSONValue]
    /// Global context entries by name: the data and named projections (simple dotted paths).
    public var globalContext: [String: GlobalContextEntry]
    /// Canned HTTP responses by URL (test mocks); nil turns `http` calls into errors.
    public var httpResponses: [String: JSONValue]?
    /// Image data by reference, as `image.GetMetadata(ref)` returns it (test file `context`
    /// `spec.images`, or fetched from registries before evaluation: `PrefetchedImageData`).
    public var images: [String: JSONValue] = [:]
    /// Answers the `authorizer` variable's checks; nil binds `authorizer` to null.
    public var authorizer: (any KubernetesAuthorizer)?
    /// Answers `resource.Get/List` and `globalContext.Get` from the API server's objects (the
    /// webhook: read before evaluation, see `KyvernoClusterReader`); asked before `resources`
    /// and `globalContext`, which answer when it returns nil.
    public var clusterReader: (any KyvernoClusterReader)?
    /// Answers `http.Get/Post` in the webhook (hosts allowed by `serve --allow-http-host`, read
    /// before evaluation); asked when `httpResponses` (test mocks) is nil.
    public var httpReader: (any KyvernoHTTPReader)?

    /// A global context entry.
    public struct GlobalContextEntry: Sendable {
        public var data: JSONValue
        /// Projection name → path into `data` (`a.b`).
        public var projections: [String: String]
        public init(data: JSONValue, projections: [String: String] = [:]) {
            self.data = data
            self.projections = projections
        }
    }

    public init(resources: [JSONValue] = [], globalContext: [String: GlobalContextEntry] = [:], httpResponses: [String: JSONValue]? = nil) {
        self.resources = resources
        self.globalContext = globalContext
        self.httpResponses = httpResponses
    }

    /// No cluster data: every lookup reports "not found".
    public static let empty = KyvernoCELData()
}

/// What a `KyvernoClusterReader` knows about one cluster read.
public enum KyvernoClusterRead: Sendable, Hashable {
    /// The object (`resource.Get`), the list object (`resource.List`) or the entry's data.
    case found(JSONValue)
    /// The API server answered 404 (Kyverno: `resource "name" not found`).
    case notFound
    /// The read failed (transport, refusal, a limit): an error value, never "not found".
    case failed(String)
}

/// Answers the cluster reads of CEL policies synchronously, from data read before evaluation
/// (evaluation stays pure: the webhook records what was asked and not known, reads it from the
/// API server, and evaluates again; see SignetAdmission's `ClusterDataSource`).
public protocol KyvernoClusterReader: Sendable {
    /// `resource.Get(apiVersion, resource, namespace, name)`; nil: not answered here.
    func get(apiVersion: String, resource: String, namespace: String, name: String) -> KyvernoClusterRead?
    /// `resource.List(apiVersion, resource, namespace)`: the list object; nil: not answered here.
    func list(apiVersion: String, resource: String, namespace: String) -> KyvernoClusterRead?
    /// `globalContext.Get(name, projection)`; nil: not answered here.
    func globalContext(name: String, projection: String) -> KyvernoClusterRead?
}

/// The `resource` variable: a handle on the cluster data (CEL methods `Get`, `List`).
struct KyvernoResourceHandle: CELOpaque {
    let data: KyvernoCELData
    var celType: CELType { .opaque("kyverno.resource") }
    func isEqual(to other: any CELOpaque) -> Bool { false }
    var description: String { "resource" }

    func get(_ apiVersion: String, _ resource: String, _ namespace: String, _ name: String) -> CELValue {
        if let read = data.clusterReader?.get(apiVersion: apiVersion, resource: resource, namespace: namespace, name: name) {
            switch read {
            case .found(let o): return CELValue(json: o)
            case .notFound: return .error(.invalidArgument, "failed to get resource: \(resource) \"\(name)\" not found")
            case .failed(let m): return .error(.invalidArgument, "failed to get resource: \(m)")
            }
        }
        for o in list(apiVersion, resource, namespace) where o["metadata"]?["name"]?.stringValue == name {
            return CELValue(json: o)
        }
        return .error(.invalidArgument, "\(resource) \"\(name)\" not found")
    }

    func list(_ apiVersion: String, _ resource: String, _ namespace: String) -> [JSONValue] {
        data.resources.filter { o in
            (o["apiVersion"]?.stringValue ?? "") == apiVersion
                && KubernetesResourceNames.plural(of: o["kind"]?.stringValue ?? "") == resource.lowercased()
                && (namespace.isEmpty || (o["metadata"]?["namespace"]?.stringValue ?? "") == namespace)
        }
    }
}

/// The `globalContext` variable (CEL method `Get(name, projection)`).
struct KyvernoGlobalContextHandle: CELOpaque {
    let data: KyvernoCELData
    var celType: CELType { .opaque("kyverno.globalcontext") }
    func isEqual(to other: any CELOpaque) -> Bool { false }
    var description: String { "globalContext" }

    func get(_ name: String, _ projection: String) -> CELValue {
        if let read = data.clusterReader?.globalContext(name: name, projection: projection) {
            switch read {
            case .found(let v): return CELValue(json: v)
            case .notFound: return .error(.invalidArgument, "failed to get global reference: global context entry not found")
            case .failed(let m): return .error(.invalidArgument, "failed to get global reference: \(m)")
            }
        }
        guard let entry = data.globalContext[name] else { return .error(.invalidArgument, "global context entry \(name) not found") }
        guard !projection.isEmpty else { return CELValue(json: entry.data) }
        guard let path = entry.projections[projection] else { return .error(.invalidArgument, "projection \(projection) not found in global context entry \(name)") }
        var v: JSONValue? = entry.data
        for part in path.split(separator: ".") { v = v?[String(part)] }
        return CELValue(json: v ?? .null)
    }
}

/// The `http` variable (CEL methods `Get(url[, headers])`, `Post(url, body[, headers])`).
struct KyvernoHTTPHandle: CELOpaque {
    let data: KyvernoCELData
    var celType: CELType { .opaque("kyverno.http") }
    func isEqual(to other: any CELOpaque) -> Bool { false }
    var description: String { "http" }

}

/// A parsed image reference (`image(s)` / `parseImageReference(s)`).
struct KyvernoImageReference: CELOpaque {
    let reference: Reference
    var celType: CELType { .opaque("kyverno.image") }
    func isEqual(to other: any CELOpaque) -> Bool { (other as? KyvernoImageReference)?.reference == reference }
    var description: String { reference.description }
}

/// Plural resource names for kinds (what `resourceRules.resources` and `resource.Get` name).
public enum KubernetesResourceNames {
    static let irregular: [String: String] = [
        "Endpoints": "endpoints", "PodSecurityPolicy": "podsecuritypolicies", "NetworkPolicy": "networkpolicies",
        "Ingress": "ingresses", "IngressClass": "ingressclasses", "StorageClass": "storageclasses",
        "PriorityClass": "priorityclasses", "RuntimeClass": "runtimeclasses", "ResourceQuota": "resourcequotas",
    ]

    /// `Pod` → `pods`, `Ingress` → `ingresses`, `NetworkPolicy` → `networkpolicies`.
    public static func plural(of kind: String) -> String {
        if let p = irregular[kind] { return p }
        let l = kind.lowercased()
        if l.hasSuffix("s") || l.hasSuffix("x") || l.hasSuffix("ch") || l.hasSuffix("sh") { return l + "es" }
        if l.hasSuffix("y"), let before = l.dropLast().last, !"aeiou".contains(before) { return l.dropLast() + "ies" }
        return l + "s"
    }
}

/// Kyverno's CEL libraries and the variables of its CEL policies.
public enum KyvernoCELLibrary {
    /// Variables every Kyverno CEL expression can use.
    public static let variableNames = ["object", "oldObject", "request", "namespaceObject", "params", "variables",
                                       "authorizer", "resource", "globalContext", "http", "image", "exceptions"]

    /// The environment policies compile in: Kubernetes CEL libraries plus Kyverno's.
    public static let environment: CELEnvironment = {
        var options = CELOptions()
        options.costLimit = 10_000_000
        return CELEnvironment(variables: variableNames.map { CELVariable($0) },
                              libraries: CELExtensions.all + [library, KyvernoCELExtras.library, authorizerLibrary], options: options)
    }()

    /// The activation variables for the data handles.
    static func handles(_ data: KyvernoCELData) -> [String: CELValue] {
        ["resource": .opaque(KyvernoResourceHandle(data: data)),
         "globalContext": .opaque(KyvernoGlobalContextHandle(data: data)),
         "http": .opaque(KyvernoHTTPHandle(data: data)),
         "image": .opaque(KyvernoImageFunctions(images: data.images))]
    }

    /// The `image` variable: `image.GetMetadata(ref)` answers from data fetched before evaluation.
    struct KyvernoImageFunctions: CELOpaque {
        let images: [String: JSONValue]
        var celType: CELType { .opaque("kyverno.imagedata") }
        func isEqual(to other: any CELOpaque) -> Bool { false }
        var description: String { "image" }
    }

    /// `image.GetMetadata(ref)`: the prefetched data for exactly `ref` (Kyverno's CLI looks its
    /// context images up by the same string); a miss is an error value, as in Kyverno.
    static func imageMetadata(_ handle: CELValue, _ ref: CELValue) -> CELValue {
        guard case .opaque(let o) = handle, let h = o as? KyvernoImageFunctions, let r = ref.stringValue else { return .error(.noMatchingOverload, "GetMetadata") }
        guard let data = h.images[r] else { return .error(.invalidArgument, "failed to get image data: image data for \(r) not found in the context") }
        return CELValue(json: data)
    }

    static func imageValue(_ s: String) -> CELValue {
        guard let r = try? Reference(parsing: s) else { return .error(.invalidArgument, "invalid image reference: \(s)") }
        return .opaque(KyvernoImageReference(reference: r))
    }

    static func imageMethod(_ name: String, _ body: @escaping @Sendable (Reference) -> CELValue) -> CELFunction {
        CELFunction(name, .method("kyverno_image_\(name)", .opaque("kyverno.image")) { v in
            guard case .opaque(let o) = v, let img = o as? KyvernoImageReference else { return .error(.noMatchingOverload, name) }
            return body(img.reference)
        })
    }

    static func resourceGet(_ args: [CELValue]) -> CELValue {
        guard args.count == 5, case .opaque(let o) = args[0], let res = o as? KyvernoResourceHandle, let a = args[1].stringValue,
              let r = args[2].stringValue, let n = args[3].stringValue, let name = args[4].stringValue else { return .error(.noMatchingOverload, "Get") }
        return res.get(a, r, n, name)
    }

    static func resourceList(_ args: [CELValue]) -> CELValue {
        guard args.count == 4, case .opaque(let o) = args[0], let res = o as? KyvernoResourceHandle, let a = args[1].stringValue,
              let r = args[2].stringValue, let n = args[3].stringValue else { return .error(.noMatchingOverload, "List") }
        if let read = res.data.clusterReader?.list(apiVersion: a, resource: r, namespace: n) {
            switch read {
            case .found(let list): return CELValue(json: list)
            case .notFound: return .error(.invalidArgument, "failed to list resource: the server could not find the requested resource (\(r))")
            case .failed(let m): return .error(.invalidArgument, "failed to list resource: \(m)")
            }
        }
        return CELValue(json: ["items": .array(res.list(a, r, n))])
    }

    /// Kyverno's functions (`resource`, `globalContext`, `http`, `image` libraries and helpers).
    public static let library = CELLibrary(name: "kyverno", functions: [
        CELFunction("Get",
            .method("kyverno_resource_get", parameters: [.opaque("kyverno.resource"), .string, .string, .string, .string]) { args in resourceGet(args) },
            .method("kyverno_globalcontext_get", .opaque("kyverno.globalcontext"), .string, .string) { h, n, p in
                guard case .opaque(let o) = h, let g = o as? KyvernoGlobalContextHandle, let n = n.stringValue, let p = p.stringValue else { return .error(.noMatchingOverload, "Get") }
                return g.get(n, p)
            },
            .method("kyverno_http_get", .opaque("kyverno.http"), .string) { h, u in
                guard case .opaque(let o) = h, let http = o as? KyvernoHTTPHandle, let u = u.stringValue else { return .error(.noMatchingOverload, "Get") }
                return http.call(.get, u, body: nil, headers: nil)
            },
            .method("kyverno_http_get_headers", .opaque("kyverno.http"), .string, .dyn) { h, u, headers in
                guard case .opaque(let o) = h, let http = o as? KyvernoHTTPHandle, let u = u.stringValue else { return .error(.noMatchingOverload, "Get") }
                return http.call(.get, u, body: nil, headers: headers)
            }),
        CELFunction("get",
            .method("kyverno_resource_get_lower", parameters: [.opaque("kyverno.resource"), .string, .string, .string, .string]) { args in resourceGet(args) }),
        CELFunction("List",
            .method("kyverno_resource_list", parameters: [.opaque("kyverno.resource"), .string, .string, .string]) { args in resourceList(args) }),
        CELFunction("list",
            .method("kyverno_resource_list_lower", parameters: [.opaque("kyverno.resource"), .string, .string, .string]) { args in resourceList(args) }),
        CELFunction("Post",
            .method("kyverno_http_post", .opaque("kyverno.http"), .string, .dyn) { h, u, body in
                guard case .opaque(let o) = h, let http = o as? KyvernoHTTPHandle, let u = u.stringValue else { return .error(.noMatchingOverload, "Post") }
                return http.call(.post, u, body: body, headers: nil)
            },
            .method("kyverno_http_post_headers", parameters: [.opaque("kyverno.http"), .string, .dyn, .dyn]) { args in
                guard args.count == 4, case .opaque(let o) = args[0], let http = o as? KyvernoHTTPHandle, let u = args[1].stringValue else { return .error(.noMatchingOverload, "Post") }
                return http.call(.post, u, body: args[2], headers: args[3])
            }),
        CELFunction("GetMetadata", .method("kyverno_image_get_metadata", .opaque("kyverno.imagedata"), .string) { h, ref in imageMetadata(h, ref) }),
        CELFunction("getMetadata", .method("kyverno_image_get_metadata_camel", .opaque("kyverno.imagedata"), .string) { h, ref in imageMetadata(h, ref) }),
        CELFunction("image", .function("kyverno_image", .string) { s in s.stringValue.map(imageValue) ?? .error(.noMatchingOverload, "image") }),
        CELFunction("parseImageReference", .function("kyverno_parse_image_reference", .string) { s in s.stringValue.map(imageValue) ?? .error(.noMatchingOverload, "parseImageReference") }),
        CELFunction("isImage", .function("kyverno_is_image", .string) { s in .bool((try? Reference(parsing: s.stringValue ?? "")) != nil) }),
        imageMethod("registry") { .string($0.registry) },
        imageMethod("repository") { .string($0.repository) },
        imageMethod("identifier") { .string($0.identifier) },
        imageMethod("tag") { .string($0.tag ?? "") },
        imageMethod("digest") { .string($0.digest?.description ?? "") },
        imageMethod("containsDigest") { .bool($0.digest != nil) },
        CELFunction("parseServiceAccount", .function("kyverno_parse_service_account", .string) { s in
            // system:serviceaccount:NAMESPACE:NAME
            let parts = (s.stringValue ?? "").split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else {
                return CELValue(json: ["Namespace": "", "Name": ""])
            }
            return CELValue(json: ["Namespace": .string(parts[2]), "Name": .string(parts[3])])
        }),
        CELFunction("listObjToMap", .function("kyverno_list_obj_to_map", parameters: [.dyn, .dyn, .string, .string]) { args in
            guard args.count == 4, let a = args[0].listValue, let b = args[1].listValue, let k = args[2].stringValue, let vk = args[3].stringValue else { return .error(.noMatchingOverload, "listObjToMap") }
            var m = CELMap()
            for item in a + b {
                guard let im = item.mapValue, let key = im[k]?.stringValue else { continue }
                m.set(im[vk] ?? .null, for: .string(key))
            }
            return .map(m)
        }),
        // cel-go evaluates `x.orValue(y)` / `x.or(y)` on a non-optional `x` to `x` (its optional
        // decorators return a non-optional left side unchanged); policies rely on it
        CELFunction("orValue", .method("kyverno_non_optional_or_value", .dyn, .dyn) { lhs, _ in lhs }),
        CELFunction("or", .method("kyverno_non_optional_or", .dyn, .dyn) { lhs, _ in lhs }),
        CELFunction("json.unmarshal", .function("kyverno_json_unmarshal", .string) { s in
            guard let v = try? JSONValue(json: s.stringValue ?? "") else { return .error(.invalidArgument, "invalid JSON") }
            return CELValue(json: v)
        }),
        CELFunction("yaml.unmarshal", .function("kyverno_yaml_unmarshal", .string) { s in
            guard let v = try? YAMLDocuments.parse(s.stringValue ?? "").first else { return .error(.invalidArgument, "invalid YAML") }
            return CELValue(json: v)
        }),
    ], types: [.opaque("kyverno.image")])
}
