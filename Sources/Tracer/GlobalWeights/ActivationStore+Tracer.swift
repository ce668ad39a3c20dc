import Storage

extension ActivationStore {
    /// Appends one prompt's active features (as the engine lists them: positions ≥ 1) and values;
    /// positions `1 ..< nTokens` each become a row.
    public mutating func appendPrompt(activeFeatures: [ActiveFeature], values: [Float], nTokens: Int) {
        appendPrompt(features: activeFeatures.map { ($0.layer, $0.pos, $0.index) }, values: values, nTokens: nTokens)
    }
}
