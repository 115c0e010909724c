/// An image platform (OCI image index `platform`).
public struct Platform: Hashable, Sendable, Codable, OrderedJSONRepresentable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?
    public var features: [String]?

    public init(architecture: String, os: String, osVersion: String? = nil, osFeatures: [String]? = nil,
                variant: String? = nil, features: [String]? = nil) {
        self.architecture = architecture
        self.os = os
        self.osVersion = osVersion
        self.osFeatures = osFeatures
        self.variant = variant
        self.features = features
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant, features
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    /// `os/architecture[/variant]`, e.g. `linux/arm64/v8`.
    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// Key order as go-containerregistry's `v1.Platform`.
    public var orderedJSON: OrderedJSON {
        var m: [(String, OrderedJSON)] = [("architecture", .string(architecture)), ("os", .string(os))]
        if let osVersion { m.append(("os.version", .string(osVersion))) }
        if let osFeatures { m.append(("os.features", .array(osFeatures.map { .string($0) }))) }
        if let variant { m.append(("variant", .string(variant))) }
        if let features { m.append(("features", .array(features.map { .string($0) }))) }
        return .object(m)
    }
}
