import SignetPrimitives

// The Kubernetes format library (k8s.io/apiserver pkg/cel/library/format.go): named string formats
// whose `validate` returns `optional.none()` for a valid string and `optional.of([messages])` otherwise.
// Messages follow k8s.io/apimachinery/pkg/util/validation.

/// A named string format (`kubernetes.NamedFormat`).
public struct CELNamedFormat: CELOpaque, Hashable {
    /// The format's name, e.g. `dns1123Label`.
    public let name: String

    /// The CEL type `kubernetes.NamedFormat`.
    public static let type = CELType.opaque("kubernetes.NamedFormat")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }
    /// The canonical text form (used by `string(x)` and JSON output).
    public var description: String { name }

    /// CEL equality with another library value.
    public func isEqual(to other: any CELOpaque) -> Bool { (other as? CELNamedFormat)?.name == name }

    /// The known format names.
    public static let names = ["dns1123Label", "dns1123Subdomain", "dns1035Label", "qualifiedName",
                               "dns1123LabelPrefix", "dns1123SubdomainPrefix", "dns1035LabelPrefix", "labelValue",
                               "uri", "uuid", "byte", "date", "datetime"]

    /// Validation messages for `value`; empty when valid.
    public func validate(_ value: String) -> [String] {
        switch name {
        case "dns1123Label": return K8sValidation.dns1123Label(value)
        case "dns1123Subdomain": return K8sValidation.dns1123Subdomain(value)
        case "dns1035Label": return K8sValidation.dns1035Label(value)
        case "qualifiedName": return K8sValidation.qualifiedName(value)
        case "dns1123LabelPrefix": return K8sValidation.dns1123Label(K8sValidation.maskTrailingDash(value))
        case "dns1123SubdomainPrefix": return K8sValidation.dns1123Subdomain(K8sValidation.maskTrailingDash(value))
        case "dns1035LabelPrefix": return K8sValidation.dns1035Label(K8sValidation.maskTrailingDash(value))
        case "labelValue": return K8sValidation.labelValue(value)
        case "uri":
            do {
                _ = try CELURL(parsing: value)
                return []
            } catch {
                return [error.message]
            }
        case "uuid": return K8sValidation.uuid(value) ? [] : ["does not match the UUID format"]
        case "byte": return Base64Codec.decode(value) != nil && value.utf8.count % 4 == 0 ? [] : ["invalid base64"]
        case "date": return K8sValidation.date(value) ? [] : ["invalid date"]
        case "datetime": return K8sValidation.dateTime(value) ? [] : ["invalid datetime"]
        default: return ["unknown format"]
        }
    }
}

/// Kubernetes name validation rules (k8s.io/apimachinery/pkg/util/validation).
enum K8sValidation {
    static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
        + "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
        + "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
        + "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        + "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
        + "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        + "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
        + "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, "
        + "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
        + "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5A) }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (or `[a-z]...` when `letterFirst`).
    static func isLabel(_ b: ArraySlice<UInt8>, letterFirst: Bool = false) -> Bool {
        guard let first = b.first, let last = b.last else { return false }
        if letterFirst ? !(first >= 0x61 && first <= 0x7A) : !isLowerAlnum(first) { return false }
        guard isLowerAlnum(last) else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func maxLength(_ s: String, _ n: Int) -> [String] {
        s.utf8.count > n ? ["must be no more than \(n) characters"] : []
    }

    static func dns1123Label(_ s: String) -> [String] {
        var errs = maxLength(s, 63)
        if !isLabel(Array(s.utf8)[...]) { errs.append(dns1123LabelMessage) }
        return errs
    }

    static func dns1035Label(_ s: String) -> [String] {
        var errs = maxLength(s, 63)
        if !isLabel(Array(s.utf8)[...], letterFirst: true) { errs.append(dns1035LabelMessage) }
        return errs
    }

    static func dns1123Subdomain(_ s: String) -> [String] {
        var errs = maxLength(s, 253)
        let bytes = Array(s.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if bytes.isEmpty || !parts.allSatisfy({ isLabel($0) }) { errs.append(dns1123SubdomainMessage) }
        return errs
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    static func isQualifiedNamePart(_ b: ArraySlice<UInt8>) -> Bool {
        guard let first = b.first, let last = b.last, isAlnum(first), isAlnum(last) else { return false }
        return b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func qualifiedName(_ s: String) -> [String] {
        var errs: [String] = []
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                errs.append("prefix part must be non-empty")
            } else {
                errs += dns1123Subdomain(String(parts[0])).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                + "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                + "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
                + "and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errs.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errs.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty, !isQualifiedNamePart(Array(name.utf8)[...]) { errs.append(qualifiedNameMessage) }
        return errs
    }

    static func labelValue(_ s: String) -> [String] {
        var errs = maxLength(s, 63)
        if !s.isEmpty, !isQualifiedNamePart(Array(s.utf8)[...]) { errs.append(labelValueMessage) }
        return errs
    }

    /// Generated-name prefixes may end in `-`: validate as if it were a letter.
    static func maskTrailingDash(_ s: String) -> String {
        s.count > 1 && s.hasSuffix("-") ? String(s.dropLast()) + "a" : s
    }

    /// 8-4-4-4-12 hexadecimal digits.
    static func uuid(_ s: String) -> Bool {
        let groups = s.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.utf8.allSatisfy { IPText.hex($0) != nil } }
    }

    static func digits(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(s)
    }

    /// RFC 3339 full-date `YYYY-MM-DD` with a valid day of month.
    static func date(_ s: String) -> Bool {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = digits(p[0]), let m = digits(p[1]), let d = digits(p[2]), (1...12).contains(m), d >= 1
        else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }

    /// RFC 3339 date-time: `date T hh:mm:ss[.frac](Z|±hh:mm)`; `t`/`z` and a space separator accepted.
    static func dateTime(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count >= 20, bytes.count <= 64 else { return false }
        let sep = bytes[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return false }
        guard date(String(decoding: bytes[0..<10], as: UTF8.self)) else { return false }
        var rest = Substring(String(decoding: bytes[11...], as: UTF8.self))
        let time = rest.prefix(8)
        let tp = time.split(separator: ":", omittingEmptySubsequences: false)
        guard tp.count == 3, tp.allSatisfy({ $0.count == 2 }), let h = digits(tp[0]), let mi = digits(tp[1]),
              let se = digits(tp[2]), h < 24, mi < 60, se < 61
        else { return false }
        rest = rest.dropFirst(8)
        if rest.hasPrefix(".") {
            rest = rest.dropFirst()
            let frac = rest.prefix { $0.isASCII && $0.isNumber }
            guard !frac.isEmpty else { return false }
            rest = rest.dropFirst(frac.count)
        }
        if rest == "Z" || rest == "z" { return true }
        guard rest.count == 6, rest.first == "+" || rest.first == "-" else { return false }
        let off = rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard off.count == 2, off.allSatisfy({ $0.count == 2 }), let oh = digits(off[0]), let om = digits(off[1]) else {
            return false
        }
        return oh < 24 && om < 60
    }
}

extension CELExtensions {
    /// Kubernetes format functions: `format.named(name) -> optional(Format)`, `format.dns1123Label()` and the
    /// other named constructors, and `Format.validate(s) -> optional(list(string))` (none when valid).
    public static let kubernetesFormat = CELLibrary(name: "kubernetes.format", functions: [
        CELFunction("format.named",
            .function("format_named", .string, cost: Ext.linear()) { v in
                guard case .string(let n) = v else { return Ext.noOverload("format.named") }
                return .optional(CELNamedFormat.names.contains(n) ? .opaque(CELNamedFormat(name: n)) : nil)
            }),
        CELFunction("validate",
            .method("format_validate", CELNamedFormat.type, .string, cost: Ext.linear()) { f, v in
                guard case .opaque(let o) = f, let format = o as? CELNamedFormat, case .string(let s) = v else {
                    return Ext.noOverload("validate")
                }
                let errors = format.validate(s)
                return .optional(errors.isEmpty ? nil : .list(errors.map { .string($0) }))
            }),
    ] + CELNamedFormat.names.map { name in
        CELFunction("format.\(name)", CELOverload(id: "format_\(name)", style: .global, parameters: [],
                                                  implementation: .variadic { _ in .opaque(CELNamedFormat(name: name)) }))
    }, types: [CELNamedFormat.type])
}

extension CELExtensions {
    /// Kubernetes JSON Patch helper: `jsonpatch.escapeKey(s)` escapes `~` as `~0` and `/` as `~1`
    /// (RFC 6901 §3) for building patch paths.
    public static let kubernetesJSONPatch = CELLibrary(name: "kubernetes.jsonpatch", functions: [
        CELFunction("jsonpatch.escapeKey",
            .function("string_jsonpatch_escapekey_string", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("jsonpatch.escapeKey") }
                var out = ""
                for ch in s.unicodeScalars {
                    switch ch {
                    case "~": out += "~0"
                    case "/": out += "~1"
                    default: out.unicodeScalars.append(ch)
                    }
                }
                return .string(out)
            }),
    ])
}
