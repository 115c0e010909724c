import Foundation
import SignetJMESPath
import SignetPrimitives

// ClusterPolicy `imageExtractors` (Kyverno `ImageExtractorConfigs`, pkg/utils/api/image.go): per
// kind, where images sit in a resource, for verifyImages (and Kyverno's `images` variable).

/// One custom image extractor of a rule (`imageExtractors.KIND[i]`).
public struct ImageExtractorConfig: Sendable {
    /// Slash-separated path to the object holding the image (`/spec/containers/*`); `*` expands
    /// arrays and maps.
    public var path: String
    /// Field of that object holding the image; empty: the path's last component.
    public var value: String
    /// Group under `images.NAME` (default `custom`).
    public var name: String
    /// Field of that object naming the image (default: the image's JSON pointer).
    public var key: String
    /// JMESPath applied to the image string (e.g. `trim_prefix(@, 'docker://')`).
    public var jmesPath: String
    let expression: JMESPathExpression?

    public init(path: String, value: String = "", name: String = "", key: String = "", jmesPath: String = "") throws {
        self.path = path
        self.value = value
        self.name = name
        self.key = key
        self.jmesPath = jmesPath
        expression = jmesPath.isEmpty ? nil : try JMESPathExpression(compiling: jmesPath, options: Variables.options)
    }

    /// Kyverno `lookupImageExtractor`: the trimmed non-empty path components; without `value`
    /// the last one is the value field.
    var fieldsAndValue: ([String], String) {
        var fields = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var v = value
        if v.isEmpty, let last = fields.popLast() { v = last }
        return (fields, v)
    }
}

/// An image found by an extractor: its group (`containers`, `custom`...), key and image.
public struct ExtractedImage: Sendable, Hashable {
    public var group: String
    public var key: String
    public var image: KyvernoImage
}

extension KyvernoImage {
    /// Upper bound on images extracted from one resource (hostile input).
    static let maxExtractedImages = 10_000
    /// Upper bound on path components of an extractor.
    static let maxExtractorDepth = 64

    /// Kyverno `ExtractImagesFromResource`: the kind's custom extractors when `extractors` names
    /// the kind, else the standard ones (Pods and Pod controllers). Throws on malformed data as
    /// Kyverno does (`invalid image config`, `invalid key`, a JMESPath that is not a string).
    public static func extract(from resource: JSONValue, kind: String, extractors: [String: [ImageExtractorConfig]]?) throws(SignetPolicyError) -> [ExtractedImage] {
        guard let configs = extractors?[kind] else {
            return extract(from: resource, kind: kind).map { img in
                let group = img.pointer.split(separator: "/").dropLast(2).last.map(String.init) ?? "containers"
                return ExtractedImage(group: group, key: img.pointer, image: img)
            }
        }
        if configs.isEmpty { throw SignetPolicyError(.invalidInput, "no extractors found for \(kind)") }
        var out: [ExtractedImage] = []
        for c in configs {
            let (fields, valueField) = c.fieldsAndValue
            guard fields.count <= maxExtractorDepth else { throw SignetPolicyError(.invalidInput, "image extractor path is too deep") }
            var found: [String: ExtractedImage] = [:]
            var order: [String] = []
            try walk(resource, path: [], fields: fields[...], config: c, valueField: valueField, group: c.name.isEmpty ? "custom" : c.name,
                     found: &found, order: &order)
            out += order.compactMap { found[$0] }
        }
        return out
    }

    /// Kyverno `extract`: follows `fields` (expanding `*`), then reads the key and value fields.
    static func walk(_ obj: JSONValue?, path: [String], fields: ArraySlice<String>, config c: ImageExtractorConfig, valueField: String,
                     group: String, found: inout [String: ExtractedImage], order: inout [String]) throws(SignetPolicyError) {
        guard let obj else { return }
        if case .null = obj { return }
        if fields.first == "*" {
            switch obj {
            case .array(let a):
                for (i, v) in a.enumerated() {
                    try walk(v, path: path + [String(i)], fields: fields.dropFirst(), config: c, valueField: valueField, group: group, found: &found, order: &order)
                }
            case .object(let o):
                for k in o.keys.sorted() {
                    try walk(o[k], path: path + [k], fields: fields.dropFirst(), config: c, valueField: valueField, group: group, found: &found, order: &order)
                }
            default:
                throw SignetPolicyError(.invalidInput, "invalid type")
            }
            return
        }
        guard case .object(let o) = obj else { throw SignetPolicyError(.invalidInput, "invalid image config") }
        guard let next = fields.first else {
            let pointer = "/" + path.joined(separator: "/") + "/" + valueField
            var key = pointer
            if !c.key.isEmpty {
                guard let k = o[c.key]?.stringValue else { throw SignetPolicyError(.invalidInput, "invalid key") }
                key = k
            }
            guard var value = o[valueField]?.stringValue, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            if let e = c.expression {
                let result: JSONValue
                do { result = try e.evaluate(.string(value)) } catch {
                    throw SignetPolicyError(.invalidInput, "failed to apply jmespath \(c.jmesPath): \(error)")
                }
                guard case .string(let s) = result else {
                    throw SignetPolicyError(.invalidInput, "jmespath \(c.jmesPath) must produce a string, but produced \(GoFormat.v(result))")
                }
                value = s
            }
            if found[key] == nil {
                guard order.count < maxExtractedImages else { throw SignetPolicyError(.invalidInput, "too many images in the resource") }
                order.append(key)
            }
            found[key] = ExtractedImage(group: group, key: key, image: KyvernoImage(parsing: value, pointer: pointer))
            return
        }
        try walk(o[next], path: path + [next], fields: fields.dropFirst(), config: c, valueField: valueField, group: group, found: &found, order: &order)
    }
}

extension KyvernoImage {
    /// The `images` variable for extracted images: `images.GROUP.KEY` = image info
    /// (registry, path, name, tag, digest, reference, referenceWithTag).
    public static func imagesVariable(_ extracted: [ExtractedImage]) -> JSONValue {
        var out: [String: [String: JSONValue]] = [:]
        for e in extracted { out[e.group, default: [:]][e.key] = VariableContext.imageInfo(e.image.string) }
        return .object(out.mapValues { .object($0) })
    }
}

extension PolicyEngine {
    /// True when some verifyImages rule has `imageExtractors` (custom kinds may carry images).
    public var hasImageExtractors: Bool { plans.contains { $0.imageRules.contains { $0.rule.imageExtractors != nil } } }
}

extension Rule {
    /// The images verifyImages looks at for this rule: its `imageExtractors` for the kind, else
    /// the standard extractors.
    func images(in resource: JSONValue, kind: String) throws(SignetPolicyError) -> [KyvernoImage] {
        guard imageExtractors != nil else { return KyvernoImage.extract(from: resource, kind: kind) }
        return try KyvernoImage.extract(from: resource, kind: kind, extractors: imageExtractors).map(\.image)
    }
}

extension SignetPolicyError.Code {
    /// A resource the engine cannot read as a rule needs (image extraction...).
    public static let invalidInput = SignetPolicyError.Code("invalid-input")
}

extension FieldReader {
    /// `imageExtractors`: a map from kind to a list of extractors.
    mutating func imageExtractorConfigs(_ v: JSONValue, path: String) -> [String: [ImageExtractorConfig]]? {
        if case .null = v { return nil }
        guard case .object(let kinds) = v else { error(path, "must be a map of kinds to lists of extractors"); return nil }
        var out: [String: [ImageExtractorConfig]] = [:]
        for kind in kinds.keys.sorted() {
            let kp = FieldReader.join(path, kind)
            guard case .array(let list)? = kinds[kind] else { error(kp, "must be a list"); continue }
            var configs: [ImageExtractorConfig] = []
            for (i, e) in list.enumerated() {
                let p = "\(kp)[\(i)]"
                guard case .object(let o) = e else { error(p, "must be a map"); continue }
                checkKeys(o, path: p, known: ["path", "value", "name", "key", "jmesPath"])
                guard let path = o["path"]?.stringValue else { error(p + ".path", "a path is required"); continue }
                func s(_ k: String) -> String { o[k]?.stringValue ?? "" }
                do {
                    let c = try ImageExtractorConfig(path: path, value: s("value"), name: s("name"), key: s("key"), jmesPath: s("jmesPath"))
                    let (fields, value) = c.fieldsAndValue
                    if value.isEmpty { error(p + ".path", "the path names no field holding the image") }
                    if fields.count > KyvernoImage.maxExtractorDepth { error(p + ".path", "the path has more than \(KyvernoImage.maxExtractorDepth) components") }
                    configs.append(c)
                } catch let failure {
                    self.error(p + ".jmesPath", "invalid jmespath \(s("jmesPath")): \(failure)")
                }
            }
            out[kind] = configs
        }
        return out
    }
}
