import Storage
import Tracer

extension ShardWriter {
    /// The feature dashboards of a task's prompts (traced or measured; failed ones are skipped).
    /// Prompt k of the task has ordinal `meta.firstPrompt + k`.
    static func dashboards(_ outcomes: [PromptOutcome], meta: Meta, parameters: DashboardParameters) -> FeatureDashboards {
        var d = FeatureDashboards(nLayers: meta.nLayers, dTranscoder: meta.dTranscoder, parameters: parameters)
        for (k, outcome) in outcomes.enumerated() {
            guard let a = outcome.activations else { continue }
            d.add(activations: a, prompt: meta.firstPrompt + Int64(k))
        }
        d.logits = meta.logits
        return d
    }
}

extension FeatureDashboards {
    /// Adds one prompt's transcoder activations (`PromptActivations`, from a trace or a forward pass).
    public mutating func add(activations a: PromptActivations, prompt: Int64) {
        let dT = dTranscoder
        add(prompt: prompt, tokens: a.tokens.map { Int32(truncatingIfNeeded: $0) }, tokenStrings: a.tokenStrings,
            features: a.activeFeatures.map { Int32($0.layer * dT + $0.index) },
            positions: a.activeFeatures.map { Int32($0.pos) }, values: a.values)
    }
}
