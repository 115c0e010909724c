import Foundation
import Logging
import SignetPolicy
import Synchronization
import SignetPrimitives

/// The RBAC roles bound to a user, named as Kyverno names them: `NAMESPACE:ROLE` for a Role bound
/// by a RoleBinding, the bare name for a ClusterRole (bound by either kind of binding).
public struct BoundRoles: Sendable, Hashable {
    public var roles: [String]
    public var clusterRoles: [String]
    public init(roles: [String] = [], clusterRoles: [String] = []) {
        self.roles = roles
        self.clusterRoles = clusterRoles
    }
}

/// What the webhook asks the cluster: namespace labels (for `namespaceSelector`) and the roles
/// bound to the requesting user (for `roles`/`clusterRoles`). Both throw `.cluster` when the API
/// server cannot be asked; the controller then reports the rules that needed the answer as
/// errors, which failurePolicy decides.
public protocol ClusterLookup: Sendable {
    /// The labels of namespace `name`; throws when it does not exist.
    func namespaceLabels(_ name: String) async throws -> [String: String]
    /// The roles and cluster roles bound to `username` or one of `groups`.
    func roles(username: String, groups: [String]) async throws -> BoundRoles
}

/// A `ClusterLookup` over the Kubernetes API, with what it read kept for `ttl`.
///
/// Kyverno keeps informers (list + watch) of namespaces, RoleBindings and ClusterRoleBindings;
/// this keeps the same objects, read on demand and refreshed after `ttl`: a label or binding
/// change is seen within `ttl` (default 30 s), and concurrent admissions share one GET.
/// - Namespaces: `GET /api/v1/namespaces/NAME`, one entry per namespace.
/// - Bindings: `GET` of every RoleBinding and every ClusterRoleBinding of the cluster (Kyverno
///   lists RoleBindings cluster-wide too), indexed by subject once per refresh.
///
/// RBAC needed: `get` on namespaces, `list` on rolebindings and clusterrolebindings.
public final class KubernetesClusterLookup: ClusterLookup {
    public let client: KubernetesClient
    public let ttl: Duration
    let namespaces: ExpiringCache<String, [String: String]>
    let bindings: ExpiringCache<String, BindingIndex>

    public init(client: KubernetesClient, ttl: Duration = .seconds(30), maxNamespaces: Int = 10_000) {
        self.client = client
        self.ttl = ttl
        self.namespaces = ExpiringCache(ttl: ttl, capacity: maxNamespaces)
        self.bindings = ExpiringCache(ttl: ttl, capacity: 1)
    }

    public func namespaceLabels(_ name: String) async throws -> [String: String] {
        guard Self.isValidName(name) else {
            throw SignetAdmissionError(.cluster, "invalid namespace name '\(name)'")
        }
        return try await namespaces.value(for: name) { [client] in
            guard let object = try await client.get("/api/v1/namespaces/\(name)") else {
                throw SignetAdmissionError(.cluster, "namespace \(name) not found")
            }
            return object["metadata"]?["labels"]?.stringMap ?? [:]
        }.0
    }

    public func roles(username: String, groups: [String]) async throws -> BoundRoles {
        let index = try await bindings.value(for: "") { [client] in
            async let roleBindings = client.get("/apis/rbac.authorization.k8s.io/v1/rolebindings")
            async let clusterRoleBindings = client.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
            return BindingIndex(roleBindings: try await roleBindings?["items"]?.arrayValue ?? [],
                                clusterRoleBindings: try await clusterRoleBindings?["items"]?.arrayValue ?? [])
        }.0
        return index.roles(username: username, groups: groups)
    }

    /// RFC 1123 label: what a namespace name may be (and nothing that changes the URL path).
    static func isValidName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard !u.isEmpty, u.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        return alnum(u.first!) && alnum(u.last!) && u.allSatisfy { alnum($0) || $0 == 0x2d }
    }
}

/// RoleBindings and ClusterRoleBindings indexed by subject (Kyverno pkg/userinfo semantics).
struct BindingIndex: Sendable {
    /// Role names granted to a user name (`User` subjects, and `ServiceAccount` subjects as
    /// `system:serviceaccount:NS:NAME`).
    var byUser: [String: BoundRoles] = [:]
    /// Role names granted to a group.
    var byGroup: [String: BoundRoles] = [:]

    init(roleBindings: [JSONValue], clusterRoleBindings: [JSONValue]) {
        for binding in roleBindings {
            let namespace = binding["metadata"]?["namespace"]?.stringValue ?? ""
            guard let ref = binding["roleRef"], let roleName = ref["name"]?.stringValue else { continue }
            let isRole = ref["kind"]?.stringValue == "Role"
            for subject in binding["subjects"]?.arrayValue ?? [] {
                add(subject, defaultNamespace: namespace) { r in
                    if isRole { r.roles.append("\(namespace):\(roleName)") } else { r.clusterRoles.append(roleName) }
                }
            }
        }
        for binding in clusterRoleBindings {
            guard let roleName = binding["roleRef"]?["name"]?.stringValue else { continue }
            for subject in binding["subjects"]?.arrayValue ?? [] {
                // A ServiceAccount subject of a ClusterRoleBinding must name its namespace.
                add(subject, defaultNamespace: nil) { $0.clusterRoles.append(roleName) }
            }
        }
    }

    private mutating func add(_ subject: JSONValue, defaultNamespace: String?, _ grant: (inout BoundRoles) -> Void) {
        guard let name = subject["name"]?.stringValue, !name.isEmpty else { return }
        switch subject["kind"]?.stringValue {
        case "User":
            grant(&byUser[name, default: BoundRoles()])
        case "Group":
            grant(&byGroup[name, default: BoundRoles()])
        case "ServiceAccount":
            let given = subject["namespace"]?.stringValue ?? ""
            guard let namespace = given.isEmpty ? defaultNamespace : given, !namespace.isEmpty else { return }
            grant(&byUser["system:serviceaccount:\(namespace):\(name)", default: BoundRoles()])
        default:
            return
        }
    }

    /// The roles of `username` and `groups`, de-duplicated and sorted.
    func roles(username: String, groups: [String]) -> BoundRoles {
        var roles = Set<String>()
        var clusterRoles = Set<String>()
        for r in [byUser[username]] + groups.map({ byGroup[$0] }) {
            guard let r else { continue }
            roles.formUnion(r.roles)
            clusterRoles.formUnion(r.clusterRoles)
        }
        return BoundRoles(roles: roles.sorted(), clusterRoles: clusterRoles.sorted())
    }
}
