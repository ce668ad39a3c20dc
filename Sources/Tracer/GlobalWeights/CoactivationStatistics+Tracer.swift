import Storage

extension CoactivationStatistics {
    /// Adds one prompt's active features (as the engine lists them: positions ≥ 1) and values.
    public mutating func add(activeFeatures: [ActiveFeature], values: [Float]) {
        add(features: activeFeatures.map { ($0.layer, $0.pos, $0.index) }, values: values)
    }
}
