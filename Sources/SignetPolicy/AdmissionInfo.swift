import SignetPrimitives

/// The operation of an admission request (admission.k8s.io/v1 `request.operation`).
public enum AdmissionOperation: String, Sendable, Hashable, CaseIterable {
    case create = "CREATE"
    case update = "UPDATE"
    case delete = "DELETE"
    case connect = "CONNECT"
}

/// Who is making a request and in what context: what Kyverno calls the request info plus the
/// admission operation and the namespace's labels.
public struct AdmissionInfo: Sendable, Hashable {
    public var operation: AdmissionOperation
    public var username: String
    public var uid: String
    public var groups: [String]
    /// Roles (`namespace:name`) and cluster roles bound to the user (from RBAC, or a test's userinfo).
    public var roles: [String]
    public var clusterRoles: [String]
    /// Labels of the resource's namespace, for `namespaceSelector`.
    public var namespaceLabels: [String: String]
    /// The subresource of the request (`scale`, `status`, `ephemeralcontainers`), or "".
    public var subresource: String
    /// The kind the request is for when it differs from the object's (subresource requests):
    /// group, version, kind of the parent resource.
    public var requestKind: (group: String, version: String, kind: String)? {
        get { requestKindStorage.map { ($0[0], $0[1], $0[2]) } }
        set { requestKindStorage = newValue.map { [$0.group, $0.version, $0.kind] } }
    }
    var requestKindStorage: [String]?
    /// The previous object on UPDATE (for `allowExistingViolations`).
    public var oldObject: JSONValue?

    public init(operation: AdmissionOperation = .create, username: String = "", uid: String = "", groups: [String] = [],
                roles: [String] = [], clusterRoles: [String] = [], namespaceLabels: [String: String] = [:],
                subresource: String = "", oldObject: JSONValue? = nil) {
        self.operation = operation
        self.username = username
        self.uid = uid
        self.groups = groups
        self.roles = roles
        self.clusterRoles = clusterRoles
        self.namespaceLabels = namespaceLabels
        self.subresource = subresource
        self.oldObject = oldObject
    }

    /// Kyverno treats a request info with no user, groups or roles as "no user info" and then
    /// ignores user filters in `match` (CLI use without a userinfo file).
    var hasUserInfo: Bool { !(username.isEmpty && uid.isEmpty && groups.isEmpty && roles.isEmpty && clusterRoles.isEmpty) }

    public static func == (a: AdmissionInfo, b: AdmissionInfo) -> Bool {
        a.operation == b.operation && a.username == b.username && a.groups == b.groups && a.roles == b.roles && a.clusterRoles == b.clusterRoles
            && a.namespaceLabels == b.namespaceLabels && a.subresource == b.subresource && a.requestKindStorage == b.requestKindStorage && a.oldObject == b.oldObject && a.uid == b.uid
    }
    public func hash(into h: inout Hasher) { h.combine(operation); h.combine(username); h.combine(namespaceLabels) }
}

/// The identifying fields of a Kubernetes object, read once per evaluation.
public struct ResourceInfo: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(_ resource: JSONValue) {
        let apiVersion = resource["apiVersion"]?.stringValue ?? ""
        if let slash = apiVersion.utf8.lastIndex(of: UInt8(ascii: "/")) {  // bytes, not Characters
            group = String(apiVersion[..<slash])
            version = String(apiVersion[apiVersion.utf8.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        kind = resource["kind"]?.stringValue ?? ""
        let md = resource["metadata"]
        let n = md?["name"]?.stringValue ?? ""
        name = n.isEmpty ? (md?["generateName"]?.stringValue ?? "") : n
        namespace = md?["namespace"]?.stringValue ?? ""
        labels = md?["labels"]?.stringMap ?? [:]
        annotations = md?["annotations"]?.stringMap ?? [:]
    }

    /// `Kind/namespace/name` as in Kyverno's block message.
    public var blockName: String { "\(kind)/\(namespace)/\(name)" }
}
