import Crypto
import Foundation
import Logging
import SignetPolicy
import Synchronization

/// A policy with the version its cache entries are keyed by.
public struct LoadedPolicy: Sendable {
    public let policy: ClusterPolicy
    /// SHA-256 of the file it came from: any edit gives new cache keys.
    public let version: String
    public init(policy: ClusterPolicy, version: String) {
        self.policy = policy
        self.version = version
    }
}

/// The set of policies in force.
public struct PolicySet: Sendable {
    public let policies: [LoadedPolicy]
    /// PolicyExceptions found beside the policies.
    public let exceptions: [PolicyException]
    /// Warnings found while loading (errors make the whole set rejected).
    public let diagnostics: [Diagnostic]
    /// One engine per policy, prepared once when the set is loaded (rules, autogen and patterns
    /// compiled); requests only swap in their verifier (`PolicyEngine.with(verifier:)`).
    public let engines: [PolicyEngine]
    /// What the set's policies read from the cluster (namespace labels, roles).
    public let clusterContextNeeds: ClusterContextNeeds
    /// ValidatingPolicies / ValidatingAdmissionPolicies of the set (compiled once), evaluated after the ClusterPolicies.
    public let celEngine: CELPolicyEngine?
    /// Whether some policy reads image data from registries (`imageRegistry`, `image.GetMetadata`).
    public let needsImageData: Bool
    /// What the policies read from the API server besides the cluster context (`ClusterDataNeeds`):
    /// each ClusterPolicy engine's (by index) and the CEL policies', scanned once here rather
    /// than on every admission.
    public let clusterDataNeedsByEngine: [ClusterDataNeeds]
    public let celClusterDataNeeds: ClusterDataNeeds
    /// Everything the set reads from the API server (the union of the above).
    public let clusterDataNeeds: ClusterDataNeeds
    /// Whether every image the set verifies is one of the object's standard container images
    /// (no `imageExtractors`, no ImageValidatingPolicy): then their count bounds the plan's, and
    /// the warm path can read the cache while evaluating, without planning first.
    public let verifiesStandardImagesOnly: Bool
    /// Whether some ClusterPolicy of the set has a verifyImages rule.
    public let clusterPoliciesVerifyImages: Bool
    /// The Fail and Ignore subsets, made once here: the `/validate/fail` and `/validate/ignore`
    /// paths ask for them on every admission.
    private let subsets: [PolicyGroup: PolicySet]

    public init(policies: [LoadedPolicy], exceptions: [PolicyException] = [], diagnostics: [Diagnostic] = [],
                validatingPolicies: [ValidatingPolicy] = [], bindings: [ValidatingAdmissionPolicyBinding] = [], celExceptions: [CELPolicyException] = [],
                imagePolicies: [ImageValidatingPolicy] = []) {
        // `evaluation.admission.enabled: false` keeps a CEL policy out of admission (background only).
        let validatingPolicies = validatingPolicies.filter(\.admission)
        let imagePolicies = imagePolicies.filter(\.base.admission)
        let engines = policies.map { PolicyEngine(policies: [$0.policy], exceptions: exceptions) }
        func celEngine(_ group: PolicyGroup?) -> CELPolicyEngine? {
            let keep = validatingPolicies.filter { group?.contains(failurePolicy: $0.failurePolicy) ?? true }
            let ivKeep = imagePolicies.filter { group?.contains(failurePolicy: $0.failurePolicy) ?? true }
            return keep.isEmpty && ivKeep.isEmpty ? nil : CELPolicyEngine(policies: keep, bindings: bindings, exceptions: celExceptions, imagePolicies: ivKeep)
        }
        var subsets: [PolicyGroup: PolicySet] = [:]
        for group in [PolicyGroup.fail, .ignore] {
            let keep = policies.indices.filter { group.contains(failurePolicy: policies[$0].policy.failurePolicy) }
            let celKeep = validatingPolicies.filter { group.contains(failurePolicy: $0.failurePolicy) }
            let ivKeep = imagePolicies.filter { group.contains(failurePolicy: $0.failurePolicy) }
            guard keep.count != policies.count || celKeep.count != validatingPolicies.count || ivKeep.count != imagePolicies.count else { continue }
            subsets[group] = PolicySet(policies: keep.map { policies[$0] }, exceptions: exceptions, diagnostics: diagnostics,
                                       engines: keep.map { engines[$0] }, subsets: [:], celEngine: celEngine(group))
        }
        self.init(policies: policies, exceptions: exceptions, diagnostics: diagnostics, engines: engines, subsets: subsets, celEngine: celEngine(nil))
    }

    private init(policies: [LoadedPolicy], exceptions: [PolicyException], diagnostics: [Diagnostic],
                 engines: [PolicyEngine], subsets: [PolicyGroup: PolicySet], celEngine: CELPolicyEngine?) {
        self.celEngine = celEngine
        self.needsImageData = engines.contains(where: \.needsImageData)
            || (celEngine.map { PolicyEngine(policies: [], celEngine: $0).needsImageData } ?? false)
        self.policies = policies
        self.exceptions = exceptions
        self.diagnostics = diagnostics
        self.engines = engines
        self.subsets = subsets
        self.clusterContextNeeds = engines.reduce(into: []) { $0.formUnion($1.clusterContextNeeds) }
        self.clusterDataNeedsByEngine = engines.map(\.clusterPolicyDataNeeds)
        self.clusterPoliciesVerifyImages = engines.contains(where: \.hasVerifyImages)
        self.verifiesStandardImagesOnly = !engines.contains(where: \.hasImageExtractors) && !(celEngine?.hasImagePolicies ?? false)
        self.celClusterDataNeeds = celEngine?.clusterDataNeeds ?? []
        self.clusterDataNeeds = clusterDataNeedsByEngine.reduce(into: celClusterDataNeeds) { $0.formUnion($1) }
    }

    /// The policies of `group` (their prepared engines kept).
    public func filtered(_ group: PolicyGroup) -> PolicySet {
        subsets[group] ?? self
    }
}

/// Loads every policy file of a directory and reloads it when the files change. A set with an
/// unreadable file or an invalid policy is rejected as a whole, reported, and the last good set
/// keeps serving.
public final class PolicyStore: Sendable {
    public let directory: String
    public let loader: PolicyLoader
    let logger: Logger
    let metrics: AdmissionMetrics?
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    struct State {
        var current: PolicySet?
        var fingerprint: FileFingerprint?
        var lastError: String?
    }
    private let state = Mutex(State())

    public init(directory: String, loader: PolicyLoader = PolicyLoader(), logger: Logger, metrics: AdmissionMetrics? = nil) {
        self.directory = directory
        self.loader = loader
        self.logger = logger
        self.metrics = metrics
    }

    /// An in-memory store (tests): the set never changes.
    public init(fixed set: PolicySet, logger: Logger = Logger(label: "signet.policies")) {
        self.directory = ""
        self.loader = PolicyLoader()
        self.logger = logger
        self.metrics = nil
        state.withLock { $0.current = set }
    }

    /// The set in force, nil before the first good load.
    public var current: PolicySet? { state.withLock { $0.current } }
    /// Why the last reload was rejected, nil when it succeeded.
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Loads the directory now; throws `.policy` (keeping the previous set) when it is bad.
    @discardableResult
    public func load() throws -> PolicySet {
        let fingerprint = FileFingerprint.ofDirectory(directory, extensions: Self.extensions)
        do {
            let set = try Self.load(directory: directory, loader: loader)
            state.withLock { $0.current = set; $0.fingerprint = fingerprint; $0.lastError = nil }
            metrics?.policiesLoaded(set.policies.count)
            for d in set.diagnostics { logger.warning("policy diagnostic", metadata: ["diagnostic": "\(d)"]) }
            logger.info("policies loaded", metadata: [
                "directory": "\(directory)", "count": "\(set.policies.count)",
                "policies": "\(set.policies.map(\.policy.name).joined(separator: ","))",
            ])
            return set
        } catch {
            state.withLock { $0.fingerprint = fingerprint; $0.lastError = "\(error)" }
            metrics?.policyReloadFailed()
            logger.error("policy load rejected; the last good set keeps serving", metadata: ["directory": "\(directory)", "error": "\(error)"])
            throw error
        }
    }

    /// Reloads when the directory's files changed since the last attempt.
    public func reloadIfChanged() {
        let now = FileFingerprint.ofDirectory(directory, extensions: Self.extensions)
        guard now != state.withLock({ $0.fingerprint }) else { return }
        _ = try? load()
    }

    /// True when `text` has a line that is neither blank, a comment nor a document marker.
    static func hasContent(_ text: String) -> Bool {
        text.split(whereSeparator: \.isNewline).contains { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !(t.isEmpty || t.hasPrefix("#") || t == "---" || t == "...")
        }
    }

    /// Reads the top-level policy files of `directory` (hidden entries, such as the `..data`
    /// folders of a mounted ConfigMap, are skipped; symlinks to files are followed).
    static func load(directory: String, loader: PolicyLoader) throws -> PolicySet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SignetAdmissionError(.policy, "policy directory \(directory) does not exist")
        }
        var policies: [LoadedPolicy] = []
        var exceptions: [PolicyException] = []
        var diagnostics: [Diagnostic] = []
        var errors: [String] = []
        var validatingPolicies: [ValidatingPolicy] = []
        var bindings: [ValidatingAdmissionPolicyBinding] = []
        var celExceptions: [CELPolicyException] = []
        var imagePolicies: [ImageValidatingPolicy] = []
        for file in FileFingerprint.files(in: directory, extensions: extensions) {
            guard let data = FileManager.default.contents(atPath: file) else {
                errors.append("\(file): cannot read")
                continue
            }
            let version = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined().prefix(16)
            do {
                let text = String(decoding: data, as: UTF8.self)
                let result = try loader.load(yaml: text, sourcePath: file)
                // Yams' document sequence ends quietly at a syntax error: text that yields nothing
                // is malformed, not empty.
                if result.policies.isEmpty && result.otherDocuments.isEmpty && result.validatingPolicies.isEmpty
                    && result.admissionPolicyBindings.isEmpty && result.celExceptions.isEmpty && result.imageValidatingPolicies.isEmpty
                    && result.diagnostics.isEmpty && Self.hasContent(text) {
                    errors.append("\(file): not valid YAML (no document could be read)")
                    continue
                }
                diagnostics += result.diagnostics
                bindings += result.admissionPolicyBindings
                celExceptions += result.celExceptions
                for p in result.validatingPolicies {
                    let compileErrors = CELPolicyEngine(policies: [p]).diagnostics.filter { $0.severity == .error }
                    let errs = p.diagnostics.filter { $0.severity == .error } + compileErrors
                    if errs.isEmpty { validatingPolicies.append(p); diagnostics += p.diagnostics }
                    else { errors.append("\(file): policy \(p.name) is invalid: " + errs.map(\.description).joined(separator: "; ")) }
                    if errs.isEmpty, p.mode != .kubernetes {
                        // JSON / Envoy / HTTP policies validate payloads, not admission requests: said, not dropped silently
                        diagnostics.append(Diagnostic(.warning, path: "\(p.displayName): spec.evaluation.mode",
                                                      "evaluation mode \(p.mode.rawValue) is not applied to admission requests (signet apply/test payloads only)"))
                    }
                }
                for p in result.imageValidatingPolicies {
                    let compileErrors = CELPolicyEngine(policies: [], imagePolicies: [p]).diagnostics.filter { $0.severity == .error }
                    let errs = p.diagnostics.filter { $0.severity == .error } + compileErrors
                    if errs.isEmpty { imagePolicies.append(p); diagnostics += p.diagnostics }
                    else { errors.append("\(file): policy \(p.name) is invalid: " + errs.map(\.description).joined(separator: "; ")) }
                }
                // Anything else in the policy directory is a mistake (or a YAML parse that went
                // wrong): reject it rather than silently serve fewer policies.
                for doc in result.otherDocuments where doc != .null {
                    let kind = doc["kind"]?.stringValue ?? ""
                    if let exception = PolicyException(document: doc) {
                        exceptions.append(exception)
                        diagnostics += exception.diagnostics
                    } else {
                        errors.append("\(file): a document of kind '\(kind.isEmpty ? "(none)" : kind)' is not a kyverno.io ClusterPolicy or Policy")
                    }
                }
                for p in result.policies {
                    if p.isInvalid {
                        let why = p.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "; ")
                        errors.append("\(file): policy \(p.name) is invalid: \(why)")
                    } else {
                        diagnostics += p.diagnostics
                        policies.append(LoadedPolicy(policy: p, version: String(version)))
                    }
                }
            } catch {
                errors.append("\(file): \(error)")
            }
        }
        var seen = Set<String>()
        for p in policies where !seen.insert("\(p.policy.namespace ?? "")/\(p.policy.name)").inserted {
            errors.append("policy \(p.policy.name) is defined twice")
        }
        if !errors.isEmpty {
            throw SignetAdmissionError(.policy, "rejected policy set: " + errors.joined(separator: "; "))
        }
        return PolicySet(policies: policies, exceptions: exceptions, diagnostics: diagnostics,
                         validatingPolicies: validatingPolicies, bindings: bindings, celExceptions: celExceptions, imagePolicies: imagePolicies)
    }
}
