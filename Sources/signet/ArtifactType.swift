import ArgumentParser
import SignetSigning

/// `clean --type`: which cosign artifacts of an image to delete.
enum CleanType: String, CaseIterable, Sendable, ExpressibleByArgument {
    case signature, attestation, sbom, all

    /// cosign's words, also its tag suffixes (`sig`, `att`), in any case.
    init?(argument: String) {
        if argument.lowercased() == "all" { self = .all; return }
        guard let kind = SignatureKind(name: argument) else { return nil }
        self.init(kind)
    }

    init(_ kind: SignatureKind) {
        switch kind {
        case .attestation: self = .attestation
        case .sbom: self = .sbom
        default: self = .signature
        }
    }

    /// The artifact kinds this type covers.
    var kinds: [SignatureKind] {
        switch self {
        case .signature: [.signature]
        case .attestation: [.attestation]
        case .sbom: [.sbom]
        case .all: SignatureKind.all
        }
    }
}

/// `triangulate --type`: the artifact whose reference is printed, or the image digest itself.
enum TriangulateType: String, CaseIterable, Sendable, ExpressibleByArgument {
    case signature, attestation, sbom, digest

    /// cosign's words, also its tag suffixes (`sig`, `att`), in any case.
    init?(argument: String) {
        if argument.lowercased() == "digest" { self = .digest; return }
        guard let kind = SignatureKind(name: argument) else { return nil }
        switch kind {
        case .attestation: self = .attestation
        case .sbom: self = .sbom
        default: self = .signature
        }
    }

    /// The artifact kind, nil for `digest`.
    var kind: SignatureKind? {
        switch self {
        case .signature: .signature
        case .attestation: .attestation
        case .sbom: .sbom
        case .digest: nil
        }
    }
}
