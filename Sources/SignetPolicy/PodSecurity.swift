import SignetPrimitives

// Kubernetes Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
// as Kyverno evaluates them for `validate.podSecurity`: the checks of pod-security-admission's
// `policy/check_*.go` (Kyverno's fork, which adds field errors) with their versions, messages and
// field errors, selected per level and version as Kyverno's `pkg/pss` does.

/// A Pod Security Standards level (`validate.podSecurity.level`).
public enum PodSecurityLevel: String, Sendable, Hashable, CaseIterable {
    case privileged, baseline, restricted
}

/// A Pod Security Standards version: `latest` or `v1.N` (pod-security-admission `api.ParseVersion`).
public struct PodSecurityVersion: Sendable, Hashable, CustomStringConvertible {
    /// The minor version; nil for `latest` (newer than every version).
    public let minor: Int?

    /// `latest`.
    public static let latest = PodSecurityVersion(minor: nil)

    init(minor: Int?) { self.minor = minor }

    /// Parses `latest`, the empty string (Kyverno's default, `latest`) or `v1.N`.
    public init?(parsing s: String) {
        if s.isEmpty || s == "latest" { minor = nil; return }
        let u = Array(s.utf8)
        guard u.count > 3, u.count <= 12, u[0] == UInt8(ascii: "v"), u[1] == UInt8(ascii: "1"), u[2] == UInt8(ascii: ".") else { return nil }
        let digits = u[3...]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits.count == 1 || digits.first != 0x30,
              let n = Int(String(decoding: digits, as: UTF8.self)) else { return nil }
        minor = n
    }

    /// pod-security-admission `Version.Older`: latest is never older; everything is older than latest.
    func isOlder(than other: PodSecurityVersion) -> Bool {
        guard let m = minor else { return false }
        guard let o = other.minor else { return true }
        return m < o
    }

    public var description: String { minor.map { "v1.\($0)" } ?? "latest" }
}

/// One `exclude` entry of `validate.podSecurity` or a PolicyException's `podSecurity`
/// (Kyverno `PodSecurityStandard`).
public struct PodSecurityExclusion: Sendable, Hashable {
    /// A control name of the Pod Security Standards page (`Capabilities`, `HostPath Volumes`...).
    public var controlName: String
    /// Images (wildcards) selecting containers: a container-level exclusion; empty for pod level.
    public var images: [String] = []
    /// The field, with `[*]` for indexes (`spec.containers[*].securityContext.privileged`); empty: every field.
    public var restrictedField: String = ""
    /// Values (wildcards) the violation's values must all match; empty: any value.
    public var values: [String] = []

    public init(controlName: String, images: [String] = [], restrictedField: String = "", values: [String] = []) {
        self.controlName = controlName
        self.images = images
        self.restrictedField = restrictedField
        self.values = values
    }

    /// Kyverno `PSS_control_name_to_ids`: control name → check ids.
    public static let controlChecks: [String: [String]] = [
        "Capabilities": ["capabilities_baseline", "capabilities_restricted"],
        "Seccomp": ["seccompProfile_baseline", "seccompProfile_restricted"],
        "Privileged Containers": ["privileged"],
        "Host Ports": ["hostPorts"],
        "/proc Mount Type": ["procMount"],
        "HostProcess": ["windowsHostProcess"],
        "SELinux": ["seLinuxOptions"],
        "Host Namespaces": ["hostNamespaces"],
        "HostPath Volumes": ["hostPathVolumes"],
        "Sysctls": ["sysctls"],
        "AppArmor": ["appArmorProfile"],
        "Privilege Escalation": ["allowPrivilegeEscalation"],
        "Running as Non-root": ["runAsNonRoot"],
        "Running as Non-root user": ["runAsUser"],
        "Volume Types": ["restrictedVolumes"],
    ]
    /// Controls that are restricted-only (Kyverno `PSS_restricted_control_names`).
    static let restrictedControls: Set<String> = ["Volume Types", "Privilege Escalation", "Running as Non-root", "Running as Non-root user", "Seccomp", "Capabilities"]
    /// Pod-level controls: `images` must be empty.
    static let podLevelControls: Set<String> = ["Host Namespaces", "HostPath Volumes", "Sysctls", "Volume Types"]
    /// Container-level controls: `images` is required.
    static let containerLevelControls: Set<String> = ["Capabilities", "Privileged Containers", "Host Ports", "/proc Mount Type", "Privilege Escalation"]
}

/// `validate.podSecurity`: a level, a version and exclusions.
public struct PodSecurityRule: Sendable, Hashable {
    public var level: PodSecurityLevel
    /// The version as written (messages quote it), and parsed.
    public var versionText: String
    public var version: PodSecurityVersion
    public var exclude: [PodSecurityExclusion]

    public init(level: PodSecurityLevel, versionText: String = "latest", exclude: [PodSecurityExclusion] = []) {
        self.level = level
        self.versionText = versionText
        self.version = PodSecurityVersion(parsing: versionText) ?? .latest
        self.exclude = exclude
    }
}

/// A field error of a failed check (apimachinery `field.Error`, Required or Forbidden).
public struct PodSecurityFieldError: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case required, forbidden }
    /// The offending value (`field.Error.BadValue`); `.none` is Go's empty string.
    public enum BadValue: Sendable, Hashable {
        case none
        case string(String)
        case bool(Bool)
        case int(Int64)
        case strings([String])
    }
    public var kind: Kind
    /// `spec.containers[0].securityContext.privileged`.
    public var field: String
    public var badValue: BadValue

    /// `field.Error.Error()`: `FIELD: Required value` / `FIELD: Forbidden`.
    public var description: String { "\(field): " + (kind == .required ? "Required value" : "Forbidden") }

    /// The values Kyverno's `extractBadValues` compares with an exclusion's `values`.
    var values: [String] {
        switch badValue {
        case .none: return []
        case .string(let s): return s.isEmpty ? [] : [s]
        case .bool(let b): return [b ? "true" : "false"]
        case .int(let i): return [String(i)]
        case .strings(let a): return a
        }
    }

    /// Kyverno `FormatChecksPrint` for one error.
    var formatted: String {
        let v: String
        switch badValue {
        case .none: return description
        case .string(let s): if s.isEmpty { return description }; v = s
        case .bool(let b): v = b ? "true" : "false"
        case .int(let i): v = String(i)
        case .strings(let a): v = "[" + a.joined(separator: " ") + "]"
        }
        return kind == .forbidden ? "\(field) is forbidden, forbidden values found: \(v)" : description
    }
}

/// A failed check: its id (`privileged`, `runAsNonRoot`...), reason, detail and field errors
/// (nil for checks that give none, e.g. `hostProbesAndHostLifecycle`).
public struct PodSecurityCheckFailure: Sendable, Hashable {
    public var id: String
    public var reason: String
    public var detail: String
    public var errors: [PodSecurityFieldError]?
}

/// The pod a check sees: metadata and spec (Pod, or a controller's template).
struct PSSPod: Sendable {
    var metadata: [String: JSONValue]
    var spec: [String: JSONValue]

    var annotations: [(String, String)] {
        guard let a = metadata["annotations"]?.objectValue else { return [] }
        return a.compactMap { k, v in v.stringValue.map { (k, $0) } }.sorted { PSS.less($0.0, $1.0) }
    }
    func annotation(_ k: String) -> String? { metadata["annotations"]?[k]?.stringValue }
    var podSecurityContext: [String: JSONValue]? { spec["securityContext"]?.objectValue }
    var isWindows: Bool { spec["os"]?["name"]?.stringValue == "windows" }

    /// `visitContainers`: init containers, containers, ephemeral containers, with their field paths.
    func visit(_ body: (_ c: [String: JSONValue], _ name: String, _ path: String) -> Void) {
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            guard let list = spec[key]?.arrayValue else { continue }
            for (i, v) in list.enumerated() {
                let c = v.objectValue ?? [:]
                body(c, c["name"]?.stringValue ?? "", "spec.\(key)[\(i)]")
            }
        }
    }
}

/// The checks and helpers.
enum PSS {
    /// Go's byte-wise string order (`sort.Strings`, `sets.String.List`).
    static func less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
    static func sortedSet(_ s: Set<String>) -> [String] { s.sorted(by: less) }
    static func joinQuote(_ items: [String]) -> String { items.isEmpty ? "" : "\"" + items.joined(separator: "\", \"") + "\"" }
    static func plural(_ one: String, _ many: String, _ n: Int) -> String { n == 1 ? one : many }
    /// A JSON integer (Go `*int64`), also an integral float.
    static func int(_ v: JSONValue?) -> Int64? {
        switch v {
        case .integer(let i): return i
        case .number(let d): return Int64(exactly: d)
        default: return nil
        }
    }
    static func object(_ v: JSONValue?) -> [String: JSONValue]? { v?.objectValue }

    typealias CheckFn = @Sendable (PSSPod) -> PodSecurityCheckFailure?

    struct Check: Sendable {
        let id: String
        let level: PodSecurityLevel
        /// (minimum minor version, check) in increasing order.
        let versions: [(Int, CheckFn)]
    }

    /// pod-security-admission's default checks, in registration (file name) order.
    static let checks: [Check] = [
        Check(id: "allowPrivilegeEscalation", level: .restricted, versions: [(8, allowPrivilegeEscalation(windows: false)), (25, allowPrivilegeEscalation(windows: true))]),
        Check(id: "appArmorProfile", level: .baseline, versions: [(0, appArmorProfile)]),
        Check(id: "capabilities_baseline", level: .baseline, versions: [(0, capabilitiesBaseline)]),
        Check(id: "capabilities_restricted", level: .restricted, versions: [(22, capabilitiesRestricted(windows: false)), (25, capabilitiesRestricted(windows: true))]),
        Check(id: "hostNamespaces", level: .baseline, versions: [(0, hostNamespaces)]),
        Check(id: "hostPathVolumes", level: .baseline, versions: [(0, hostPathVolumes)]),
        Check(id: "hostPorts", level: .baseline, versions: [(0, hostPorts)]),
        Check(id: "hostProbesAndHostLifecycle", level: .baseline, versions: [(34, hostProbesAndLifecycle)]),
        Check(id: "privileged", level: .baseline, versions: [(0, privileged)]),
        Check(id: "procMount", level: .baseline, versions: [(0, procMount)]),
        Check(id: "restrictedVolumes", level: .restricted, versions: [(0, restrictedVolumes)]),
        Check(id: "runAsNonRoot", level: .restricted, versions: [(0, runAsNonRoot)]),
        Check(id: "runAsUser", level: .restricted, versions: [(23, runAsUser)]),
        Check(id: "seLinuxOptions", level: .baseline, versions: [(0, seLinuxOptions(seLinuxTypes10)), (31, seLinuxOptions(seLinuxTypes131))]),
        Check(id: "seccompProfile_baseline", level: .baseline, versions: [(0, seccompBaselineAnnotations), (19, seccompBaseline)]),
        Check(id: "seccompProfile_restricted", level: .restricted, versions: [(19, seccompRestricted(windows: false)), (25, seccompRestricted(windows: true))]),
        Check(id: "sysctls", level: .baseline, versions: [(0, sysctls(sysctls10)), (27, sysctls(sysctls127)), (29, sysctls(sysctls129)), (32, sysctls(sysctls132))]),
        Check(id: "windowsHostProcess", level: .baseline, versions: [(0, windowsHostProcess)]),
    ]

    /// Kyverno `evaluatePSS`: every check of the level (baseline: baseline checks only; other
    /// levels: every check), each at the newest version not newer than `version` (the first
    /// version when all are newer).
    static func evaluate(level: PodSecurityLevel, version: PodSecurityVersion, pod: PSSPod) -> [PodSecurityCheckFailure] {
        var out: [PodSecurityCheckFailure] = []
        for check in checks {
            if level == .baseline && check.level != .baseline { continue }
            guard var selected = check.versions.first else { continue }
            for next in check.versions.dropFirst() {
                let nv = PodSecurityVersion(minor: next.0)
                if !version.isOlder(than: nv) && PodSecurityVersion(minor: selected.0).isOlder(than: nv) { selected = next }
            }
            if var f = selected.1(pod) {
                f.id = check.id
                out.append(f)
            }
        }
        return out
    }

    static func failure(_ reason: String, _ detail: String, _ errors: [PodSecurityFieldError]?) -> PodSecurityCheckFailure {
        PodSecurityCheckFailure(id: "", reason: reason, detail: detail, errors: errors)
    }
    static func forbidden(_ field: String, _ v: PodSecurityFieldError.BadValue = .none) -> PodSecurityFieldError {
        PodSecurityFieldError(kind: .forbidden, field: field, badValue: v)
    }
    static func required(_ field: String) -> PodSecurityFieldError { PodSecurityFieldError(kind: .required, field: field, badValue: .none) }

    // MARK: - Checks (policy/check_*.go)

    static func allowPrivilegeEscalation(windows: Bool) -> CheckFn {
        { pod in
            if windows && pod.isWindows { return nil }
            var names: [String] = [], errs: [PodSecurityFieldError] = []
            pod.visit { c, name, path in
                let p = path + ".securityContext.allowPrivilegeEscalation"
                guard let sc = object(c["securityContext"]) else { names.append(name); errs.append(required(p)); return }
                switch sc["allowPrivilegeEscalation"]?.boolValue {
                case nil: names.append(name); errs.append(forbidden(p, .string("nil")))
                case true?: names.append(name); errs.append(forbidden(p, .bool(true)))
                case false?: break
                }
            }
            guard !names.isEmpty else { return nil }
            return failure("allowPrivilegeEscalation != false", "\(plural("container", "containers", names.count)) \(joinQuote(names)) must set securityContext.allowPrivilegeEscalation=false", errs)
        }
    }

    static func appArmorProfile(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        func allowedType(_ t: String) -> Bool { t == "RuntimeDefault" || t == "Localhost" }
        var setters: [String] = [], errs: [PodSecurityFieldError] = []
        var badValues = Set<String>()
        if let ap = object(pod.podSecurityContext?["appArmorProfile"]) {
            let t = ap["type"]?.stringValue ?? ""
            if !allowedType(t) {
                setters.append("pod"); errs.append(forbidden("spec.securityContext.appArmorProfile.type", .string(t))); badValues.insert(t)
            }
        }
        var containers: [String] = [], cerrs: [PodSecurityFieldError] = []
        pod.visit { c, name, path in
            guard let ap = object(object(c["securityContext"])?["appArmorProfile"]) else { return }
            let t = ap["type"]?.stringValue ?? ""
            if !allowedType(t) {
                containers.append(name); cerrs.append(forbidden(path + ".securityContext.appArmorProfile.type", .string(t))); badValues.insert(t)
            }
        }
        if !containers.isEmpty {
            setters.append("\(plural("container", "containers", containers.count)) \(joinQuote(containers))")
            errs += cerrs
        }
        var annotations: [String] = [], aerrs: [PodSecurityFieldError] = []
        for (k, v) in pod.annotations where k.hasPrefix("container.apparmor.security.beta.kubernetes.io/") {
            if v.isEmpty || v == "runtime/default" || v.hasPrefix("localhost/") { continue }
            annotations.append("\(k)=\(goQuote(v))")
            aerrs.append(forbidden("metadata.annotations[\(k)]", .string(v)))
        }
        var badList = sortedSet(badValues)
        if !annotations.isEmpty {
            annotations.sort(by: less)
            badList += annotations
            setters.append(plural("annotation", "annotations", annotations.count))
            errs += aerrs
        }
        guard !setters.isEmpty else { return nil }
        return failure(plural("forbidden AppArmor profile", "forbidden AppArmor profiles", badList.count),
                       "\(setters.joined(separator: " and ")) must not set AppArmor profile type to \(joinQuote(badList))", errs)
    }

    static let capabilitiesAllowed: Set<String> = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]

    static func capabilitiesBaseline(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        var all = Set<String>()
        pod.visit { c, name, path in
            guard let caps = object(object(c["securityContext"])?["capabilities"]) else { return }
            var bad = Set<String>()
            for a in caps["add"]?.arrayValue ?? [] {
                let s = a.stringValue ?? ""
                if !capabilitiesAllowed.contains(s) { bad.insert(s) }
            }
            if !bad.isEmpty {
                all.formUnion(bad)
                names.append(name)
                errs.append(forbidden(path + ".securityContext.capabilities.add", .strings(sortedSet(bad))))
            }
        }
        guard !names.isEmpty else { return nil }
        return failure("non-default capabilities", "\(plural("container", "containers", names.count)) \(joinQuote(names)) must not include \(joinQuote(sortedSet(all))) in securityContext.capabilities.add", errs)
    }

    static func capabilitiesRestricted(windows: Bool) -> CheckFn {
        { pod in
            if windows && pod.isWindows { return nil }
            var missing: [String] = [], missingErrs: [PodSecurityFieldError] = []
            var adding: [String] = [], addingErrs: [PodSecurityFieldError] = []
            var forbiddenCaps = Set<String>()
            pod.visit { c, name, path in
                let dropPath = path + ".securityContext.capabilities.drop"
                guard let caps = object(object(c["securityContext"])?["capabilities"]) else {
                    missing.append(name); missingErrs.append(required(dropPath)); return
                }
                let drop = (caps["drop"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
                if !drop.contains("ALL") {
                    missing.append(name)
                    missingErrs.append(drop.isEmpty ? required(dropPath) : forbidden(dropPath, .strings(sortedSet(Set(drop)))))
                }
                var bad = Set<String>()
                for a in caps["add"]?.arrayValue ?? [] {
                    let s = a.stringValue ?? ""
                    if s != "NET_BIND_SERVICE" { bad.insert(s) }
                }
                if !bad.isEmpty {
                    forbiddenCaps.formUnion(bad)
                    adding.append(name)
                    addingErrs.append(forbidden(path + ".securityContext.capabilities.add", .strings(sortedSet(bad))))
                }
            }
            var details: [String] = []
            if !missing.isEmpty {
                details.append("\(plural("container", "containers", missing.count)) \(joinQuote(missing)) must set securityContext.capabilities.drop=[\"ALL\"]")
            }
            if !adding.isEmpty {
                details.append("\(plural("container", "containers", adding.count)) \(joinQuote(adding)) must not include \(joinQuote(sortedSet(forbiddenCaps))) in securityContext.capabilities.add")
            }
            guard !details.isEmpty else { return nil }
            return failure("unrestricted capabilities", details.joined(separator: "; "), missingErrs + addingErrs)
        }
    }

    static func hostNamespaces(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var data: [String] = [], errs: [PodSecurityFieldError] = []
        for k in ["hostNetwork", "hostPID", "hostIPC"] where pod.spec[k]?.boolValue == true {
            data.append("\(k)=true"); errs.append(forbidden("spec.\(k)", .bool(true)))
        }
        guard !data.isEmpty else { return nil }
        return failure("host namespaces", data.joined(separator: ", "), errs)
    }

    static func hostPathVolumes(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        for (i, v) in (pod.spec["volumes"]?.arrayValue ?? []).enumerated() {
            guard let hp = object(v["hostPath"]) else { continue }
            names.append(v["name"]?.stringValue ?? "")
            errs.append(forbidden("spec.volumes[\(i)].hostPath", .string(hp["path"]?.stringValue ?? "")))
        }
        guard !names.isEmpty else { return nil }
        return failure("hostPath volumes", "\(plural("volume", "volumes", names.count)) \(joinQuote(names))", errs)
    }

    static func hostPorts(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        var ports = Set<String>()
        pod.visit { c, name, path in
            var bad = false
            for (i, p) in (c["ports"]?.arrayValue ?? []).enumerated() {
                guard let hp = int(p["hostPort"]), hp != 0 else { continue }
                bad = true
                ports.insert(String(hp))
                errs.append(forbidden("\(path).ports[\(i)].hostPort", .int(hp)))
            }
            if bad { names.append(name) }
        }
        guard !names.isEmpty else { return nil }
        return failure("hostPort", "\(plural("container", "containers", names.count)) \(joinQuote(names)) \(plural("uses", "use", names.count)) \(plural("hostPort", "hostPorts", ports.count)) \(sortedSet(ports).joined(separator: ", "))", errs)
    }

    static func hostProbesAndLifecycle(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names = Set<String>(), hosts = Set<String>()
        func hostsOf(_ h: JSONValue?) -> [String] {
            guard let h = object(h) else { return [] }
            return ["httpGet", "tcpSocket"].compactMap { object(h[$0])?["host"]?.stringValue }.filter { !$0.isEmpty }
        }
        pod.visit { c, name, _ in
            var bad: [String] = []
            for k in ["livenessProbe", "readinessProbe", "startupProbe"] { bad += hostsOf(c[k]) }
            if let lc = object(c["lifecycle"]) { for k in ["postStart", "preStop"] { bad += hostsOf(lc[k]) } }
            if !bad.isEmpty { names.insert(name); hosts.formUnion(bad) }
        }
        guard !names.isEmpty else { return nil }
        return failure("probe or lifecycle host", "\(plural("container", "containers", names.count)) \(joinQuote(sortedSet(names))) \(plural("uses", "use", names.count)) \(plural("probe or lifecycle host", "probe or lifecycle hosts", hosts.count)) \(joinQuote(sortedSet(hosts)))", nil)
    }

    static func privileged(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        pod.visit { c, name, path in
            if object(c["securityContext"])?["privileged"]?.boolValue == true {
                names.append(name); errs.append(forbidden(path + ".securityContext.privileged", .bool(true)))
            }
        }
        guard !names.isEmpty else { return nil }
        return failure("privileged", "\(plural("container", "containers", names.count)) \(joinQuote(names)) must not set securityContext.privileged=true", errs)
    }

    static func procMount(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        var types = Set<String>()
        pod.visit { c, name, path in
            guard let pm = object(c["securityContext"])?["procMount"]?.stringValue, pm != "Default" else { return }
            names.append(name); types.insert(pm); errs.append(forbidden(path + ".securityContext.procMount", .string(pm)))
        }
        guard !names.isEmpty else { return nil }
        return failure("procMount", "\(plural("container", "containers", names.count)) \(joinQuote(names)) must not set securityContext.procMount to \(joinQuote(sortedSet(types)))", errs)
    }

    static let allowedVolumeSources = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"]
    static let restrictedVolumeSources = ["hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos"]

    static func restrictedVolumes(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], errs: [PodSecurityFieldError] = []
        var types = Set<String>()
        func present(_ v: JSONValue, _ k: String) -> Bool { object(v[k]) != nil }
        for (i, v) in (pod.spec["volumes"]?.arrayValue ?? []).enumerated() {
            if allowedVolumeSources.contains(where: { present(v, $0) }) { continue }
            let t = restrictedVolumeSources.first(where: { present(v, $0) }) ?? "unknown"
            types.insert(t)
            names.append(v["name"]?.stringValue ?? "")
            errs.append(forbidden("spec.volumes[\(i)].\(t)"))
        }
        guard !names.isEmpty else { return nil }
        return failure("restricted volume types", "\(plural("volume", "volumes", names.count)) \(joinQuote(names)) \(plural("uses", "use", names.count)) \(plural("restricted volume type", "restricted volume types", types.count)) \(joinQuote(sortedSet(types)))", errs)
    }

    static func runAsNonRoot(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var setters: [String] = [], setterErrs: [PodSecurityFieldError] = []
        var podNonRoot = false
        if let v = pod.podSecurityContext?["runAsNonRoot"]?.boolValue {
            if v { podNonRoot = true } else { setters.append("pod"); setterErrs.append(forbidden("spec.securityContext.runAsNonRoot", .bool(false))) }
        }
        var explicit: [String] = [], explicitErrs: [PodSecurityFieldError] = []
        var implicit: [String] = [], implicitErrs: [PodSecurityFieldError] = []
        pod.visit { c, name, path in
            if let v = object(c["securityContext"])?["runAsNonRoot"]?.boolValue {
                if !v { explicit.append(name); explicitErrs.append(forbidden(path + ".securityContext.runAsNonRoot", .bool(false))) }
            } else if !podNonRoot {
                implicit.append(name); implicitErrs.append(required(path + ".securityContext.runAsNonRoot"))
            }
        }
        if !explicit.isEmpty {
            setters.append("\(plural("container", "containers", explicit.count)) \(joinQuote(explicit))")
            setterErrs += explicitErrs
        }
        var details: [String] = [], errs: [PodSecurityFieldError] = []
        if !setters.isEmpty {
            details.append("\(setters.joined(separator: " and ")) must not set securityContext.runAsNonRoot=false")
            errs += setterErrs
        }
        if !implicit.isEmpty {
            details.append("pod or \(plural("container", "containers", implicit.count)) \(joinQuote(implicit)) must set securityContext.runAsNonRoot=true")
            errs += implicitErrs
        }
        guard !details.isEmpty else { return nil }
        return failure("runAsNonRoot != true", details.joined(separator: "\n"), errs)
    }

    static func runAsUser(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var setters: [String] = [], errs: [PodSecurityFieldError] = []
        if int(pod.podSecurityContext?["runAsUser"]) == 0 { setters.append("pod"); errs.append(forbidden("spec.securityContext.runAsUser", .int(0))) }
        var names: [String] = []
        pod.visit { c, name, path in
            if int(object(c["securityContext"])?["runAsUser"]) == 0 { names.append(name); errs.append(forbidden(path + ".securityContext.runAsUser", .int(0))) }
        }
        if !names.isEmpty { setters.append("\(plural("container", "containers", names.count)) \(joinQuote(names))") }
        guard !setters.isEmpty else { return nil }
        return failure("runAsUser=0", "\(setters.joined(separator: " and ")) must not set runAsUser=0", errs)
    }

    static let seLinuxTypes10: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t"]
    static let seLinuxTypes131: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]

    static func seLinuxOptions(_ allowed: Set<String>) -> CheckFn {
        { pod in
            var setters: [String] = [], errs: [PodSecurityFieldError] = []
            var badTypes = Set<String>(), setUser = false, setRole = false
            func valid(_ o: [String: JSONValue], _ prefix: String, into list: inout [PodSecurityFieldError]) -> Bool {
                var ok = true
                let t = o["type"]?.stringValue ?? "", u = o["user"]?.stringValue ?? "", r = o["role"]?.stringValue ?? ""
                if !allowed.contains(t) { ok = false; badTypes.insert(t); list.append(forbidden(prefix + ".seLinuxOptions.type", .string(t))) }
                if !u.isEmpty { ok = false; setUser = true; list.append(forbidden(prefix + ".seLinuxOptions.user", .string(u))) }
                if !r.isEmpty { ok = false; setRole = true; list.append(forbidden(prefix + ".seLinuxOptions.role", .string(r))) }
                return ok
            }
            if let o = object(pod.podSecurityContext?["seLinuxOptions"]) {
                var podErrs: [PodSecurityFieldError] = []
                if !valid(o, "spec.securityContext", into: &podErrs) { setters.append("pod"); errs += podErrs }
            }
            var names: [String] = [], cerrs: [PodSecurityFieldError] = []
            pod.visit { c, name, path in
                guard let o = object(object(c["securityContext"])?["seLinuxOptions"]) else { return }
                if !valid(o, path + ".securityContext", into: &cerrs) { names.append(name) }
            }
            if !names.isEmpty { setters.append("\(plural("container", "containers", names.count)) \(joinQuote(names))"); errs += cerrs }
            guard !setters.isEmpty else { return nil }
            var data: [String] = []
            if !badTypes.isEmpty { data.append("\(plural("type", "types", badTypes.count)) \(joinQuote(sortedSet(badTypes)))") }
            if setUser { data.append("user may not be set") }
            if setRole { data.append("role may not be set") }
            return failure("seLinuxOptions", "\(setters.joined(separator: " and ")) set forbidden securityContext.seLinuxOptions: \(data.joined(separator: "; "))", errs)
        }
    }

    static func validSeccomp(_ t: String) -> Bool { t == "Localhost" || t == "RuntimeDefault" }

    /// Before v1.19: the seccomp annotations.
    static func seccompBaselineAnnotations(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        func validAnnotation(_ v: String) -> Bool { v == "runtime/default" || v == "docker/default" || v.hasPrefix("localhost/") }
        var bad: [String: [PodSecurityFieldError]] = [:]
        let podKey = "seccomp.security.alpha.kubernetes.io/pod"
        if let v = pod.annotation(podKey), !validAnnotation(v) {
            bad["\(podKey)=\(goQuote(v))", default: []].append(forbidden("metadata.annotations[\(podKey)]", .string(v)))
        }
        pod.visit { _, name, _ in
            let k = "container.seccomp.security.alpha.kubernetes.io/" + name
            if let v = pod.annotation(k), !validAnnotation(v) {
                bad["\(k)=\(goQuote(v))", default: []].append(forbidden("metadata.annotations[\(k)]", .string(v)))
            }
        }
        guard !bad.isEmpty else { return nil }
        let keys = bad.keys.sorted(by: less)
        return failure("seccompProfile", "forbidden \(plural("annotation", "annotations", keys.count)) \(keys.joined(separator: ", "))", keys.flatMap { bad[$0] ?? [] })
    }

    static func seccompBaseline(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var setters: [String] = [], errs: [PodSecurityFieldError] = []
        var badValues = Set<String>()
        if let sp = object(pod.podSecurityContext?["seccompProfile"]) {
            let t = sp["type"]?.stringValue ?? ""
            if !validSeccomp(t) { setters.append("pod"); errs.append(forbidden("spec.securityContext.seccompProfile.type", .string(t))); badValues.insert(t) }
        }
        var names: [String] = []
        pod.visit { c, name, path in
            guard let sp = object(object(c["securityContext"])?["seccompProfile"]) else { return }
            let t = sp["type"]?.stringValue ?? ""
            if !validSeccomp(t) { names.append(name); errs.append(forbidden(path + ".securityContext.seccompProfile.type", .string(t))); badValues.insert(t) }
        }
        if !names.isEmpty { setters.append("\(plural("container", "containers", names.count)) \(joinQuote(names))") }
        guard !setters.isEmpty else { return nil }
        return failure("seccompProfile", "\(setters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(sortedSet(badValues)))", errs)
    }

    static func seccompRestricted(windows: Bool) -> CheckFn {
        { pod in
            if windows && pod.isWindows { return nil }
            var setters: [String] = [], errs: [PodSecurityFieldError] = []
            var badValues = Set<String>()
            var podSet = false
            if let sp = object(pod.podSecurityContext?["seccompProfile"]) {
                let t = sp["type"]?.stringValue ?? ""
                if !validSeccomp(t) { setters.append("pod"); errs.append(forbidden("spec.securityContext.seccompProfile.type", .string(t))); badValues.insert(t) }
                else { podSet = true }
            }
            var explicit: [String] = [], implicit: [String] = [], implicitErrs: [PodSecurityFieldError] = []
            pod.visit { c, name, path in
                let p = path + ".securityContext.seccompProfile.type"
                if let sp = object(object(c["securityContext"])?["seccompProfile"]) {
                    let t = sp["type"]?.stringValue ?? ""
                    if !validSeccomp(t) { explicit.append(name); errs.append(forbidden(p, .string(t))); badValues.insert(t) }
                } else if !podSet {
                    implicit.append(name); implicitErrs.append(required(p))
                }
            }
            if !explicit.isEmpty { setters.append("\(plural("container", "containers", explicit.count)) \(joinQuote(explicit))") }
            if !setters.isEmpty {
                return failure("seccompProfile", "\(setters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(sortedSet(badValues)))", errs)
            }
            guard !implicit.isEmpty else { return nil }
            return failure("seccompProfile", "pod or \(plural("container", "containers", implicit.count)) \(joinQuote(implicit)) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"", implicitErrs)
        }
    }

    static let sysctls10: Set<String> = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"]
    static let sysctls127 = sysctls10.union(["net.ipv4.ip_local_reserved_ports"])
    static let sysctls129 = sysctls127.union(["net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"])
    static let sysctls132 = sysctls129.union(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"])

    static func sysctls(_ allowed: Set<String>) -> CheckFn {
        { pod in
            var names: [String] = [], errs: [PodSecurityFieldError] = []
            for (i, s) in (pod.podSecurityContext?["sysctls"]?.arrayValue ?? []).enumerated() {
                let n = s["name"]?.stringValue ?? ""
                if !allowed.contains(n) { names.append(n); errs.append(forbidden("spec.securityContext.sysctls[\(i)].name", .string(n))) }
            }
            guard !names.isEmpty else { return nil }
            return failure("forbidden sysctls", names.joined(separator: ", "), errs)
        }
    }

    static func windowsHostProcess(_ pod: PSSPod) -> PodSecurityCheckFailure? {
        var names: [String] = [], cerrs: [PodSecurityFieldError] = []
        pod.visit { c, name, path in
            if object(object(c["securityContext"])?["windowsOptions"])?["hostProcess"]?.boolValue == true {
                names.append(name); cerrs.append(forbidden(path + ".securityContext.windowsOptions.hostProcess", .bool(true)))
            }
        }
        var setters: [String] = [], errs: [PodSecurityFieldError] = []
        if object(pod.podSecurityContext?["windowsOptions"])?["hostProcess"]?.boolValue == true {
            setters.append("pod"); errs.append(forbidden("spec.securityContext.windowsOptions.hostProcess", .bool(true)))
        }
        if !names.isEmpty { setters.append("\(plural("container", "containers", names.count)) \(joinQuote(names))"); errs += cerrs }
        guard !setters.isEmpty else { return nil }
        return failure("hostProcess", "\(setters.joined(separator: " and ")) must not set securityContext.windowsOptions.hostProcess=true", errs)
    }
}
