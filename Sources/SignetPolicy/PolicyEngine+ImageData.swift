import SignetPrimitives

extension PolicyEngine {
    /// True when some policy reads image data from registries: a ClusterPolicy rule with an
    /// `imageRegistry` context entry, or a CEL policy (ImageValidatingPolicies included) calling
    /// `image.GetMetadata`/`getMetadata`.
    public var needsImageData: Bool {
        func reads(_ entries: [ContextEntry]) -> Bool { entries.contains { if case .imageRegistry = $0.source { true } else { false } } }
        func reads(_ loops: [ForEachValidation]?, depth: Int) -> Bool {
            guard depth < 16, let loops else { return false }
            return loops.contains { reads($0.context) || reads($0.foreach, depth: depth + 1) }
        }
        let jmesPath = policies.contains { p in
            p.effectiveRules.contains { r in reads(r.context) || reads(r.validate?.foreach, depth: 0) }
        }
        if jmesPath { return true }
        let celPolicies = (celEngine?.policies ?? []) + (celEngine?.imagePolicies.map(\.base) ?? [])
        let cel = celPolicies.contains { p in
            (p.variables.map(\.expression) + p.validations.map(\.expression) + p.matchConditions.map(\.expression)
                + p.validations.compactMap(\.messageExpression)).contains { $0.contains("etMetadata(") }
        }
        return cel
    }

    /// This engine with the image data `resource` needs, fetched through `provider` before the
    /// (pure) evaluation: the container images of `resource` (`PrefetchedImageData`) become the
    /// answers of `imageRegistry` context entries and of `image.GetMetadata`. Data already present
    /// (a test file's `context` images) is kept. Nothing is fetched when no policy reads image
    /// data or `provider` is nil.
    public func withImageData(for resource: JSONValue, provider: (any ImageDataProvider)?) async -> PolicyEngine {
        guard let provider, needsImageData else { return self }
        var c = configuration
        let missing = PrefetchedImageData.containerImages(of: resource).filter { c.variables.images[$0] == nil || c.cel.data.images[$0] == nil }
        guard !missing.isEmpty else { return self }
        c.add(await PrefetchedImageData.fetch(references: missing, provider: provider))
        return with(verifier: verifier, configuration: c)
    }
}

extension PolicyEngine.Configuration {
    /// Makes `fetched` the answer of `imageRegistry` context entries and `image.GetMetadata`;
    /// data already present (a test file's `context` images) wins.
    public mutating func add(_ fetched: PrefetchedImageData) {
        variables.images.merge(fetched.contextImages) { old, _ in old }
        cel.data.images.merge(fetched.celImages) { old, _ in old }
    }
}
