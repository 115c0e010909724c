import Foundation
import SignetPolicy
import Synchronization
import SignetPrimitives

/// A policy violation seen at admission (Audit results, and Enforce denials), kept for `/reports`.
public struct Violation: Sendable, Hashable {
    public var policy: String
    public var rule: String
    /// `fail` (a rule failed), `error` (could not be evaluated), or `warn`.
    public var result: String
    public var message: String
    /// `Audit` or `Enforce`.
    public var action: String
    public var resource: ResourceRef
    public var timestamp: Date
    /// Extra report properties: a CEL policy's audit annotations (key → value).
    public var properties: [String: String] = [:]

    public struct ResourceRef: Sendable, Hashable {
        public var apiVersion: String
        public var kind: String
        public var namespace: String?
        public var name: String
        public var uid: String?
        public init(apiVersion: String, kind: String, namespace: String?, name: String, uid: String?) {
            self.apiVersion = apiVersion; self.kind = kind; self.namespace = namespace; self.name = name; self.uid = uid
        }
    }

    public init(policy: String, rule: String, result: String, message: String, action: String,
                resource: ResourceRef, timestamp: Date = Date()) {
        self.policy = policy; self.rule = rule; self.result = result; self.message = message
        self.action = action; self.resource = resource; self.timestamp = timestamp
    }
}

/// The most recent violations (a bounded ring), rendered as `wgpolicyk8s.io/v1alpha2` reports:
/// one `PolicyReport` per namespace and one `ClusterPolicyReport` for cluster-scoped resources.
public final class ViolationStore: Sendable {
    public let capacity: Int
    private let state: Mutex<[Violation]>

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
        self.state = Mutex([])
    }

    public func record(_ violations: [Violation]) {
        guard !violations.isEmpty else { return }
        state.withLock { list in
            list.append(contentsOf: violations)
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
    }

    public var all: [Violation] { state.withLock { $0 } }

    /// A `v1` `List` of reports, optionally only those of `namespace`.
    public func reports(namespace: String? = nil) -> JSONValue {
        let violations = all
        var byNamespace: [String: [Violation]] = [:]
        for v in violations { byNamespace[v.resource.namespace ?? "", default: []].append(v) }
        var items: [JSONValue] = []
        for ns in byNamespace.keys.sorted() {
            if let namespace, namespace != ns { continue }
            items.append(Self.report(namespace: ns, violations: byNamespace[ns]!))
        }
        return ["apiVersion": "v1", "kind": "List", "items": .array(items)]
    }

    static func report(namespace: String, violations: [Violation]) -> JSONValue {
        var summary: [String: Int64] = ["pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0]
        var results: [JSONValue] = []
        for v in violations {
            summary[v.result, default: 0] += 1
            let seconds = Int64(v.timestamp.timeIntervalSince1970)
            var resource: [String: JSONValue] = [
                "apiVersion": .string(v.resource.apiVersion), "kind": .string(v.resource.kind), "name": .string(v.resource.name),
            ]
            if let ns = v.resource.namespace, !ns.isEmpty { resource["namespace"] = .string(ns) }
            if let uid = v.resource.uid, !uid.isEmpty { resource["uid"] = .string(uid) }
            results.append([
                "source": "signet",
                "policy": .string(v.policy),
                "rule": .string(v.rule),
                "result": .string(v.result),
                "message": .string(v.message),
                "scored": true,
                "category": "admission",
                "properties": .object(v.properties.mapValues(JSONValue.string).merging(["action": .string(v.action)]) { _, action in action }),
                "timestamp": ["seconds": .integer(seconds), "nanos": 0],
                "resources": [.object(resource)],
            ])
        }
        var metadata: [String: JSONValue] = [
            "name": .string(namespace.isEmpty ? "signet-admission" : "signet-admission-\(namespace)"),
            "labels": ["app.kubernetes.io/managed-by": "signet"],
        ]
        if !namespace.isEmpty { metadata["namespace"] = .string(namespace) }
        return [
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "kind": .string(namespace.isEmpty ? "ClusterPolicyReport" : "PolicyReport"),
            "metadata": .object(metadata),
            "summary": .object(summary.mapValues { .integer($0) }),
            "results": .array(results),
        ]
    }
}
