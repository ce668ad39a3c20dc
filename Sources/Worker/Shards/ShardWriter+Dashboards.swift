import Storage
import Tracer

extension ShardWriter {
    /// The feature dashboards of a task's prompts (traced or measured; failed ones are skipped).
    /// Prompt k of the task has ordinal `meta.firstPrompt + k`.
    static func dashboards(_ outcomes: [PromptOutcome], meta: Meta, parameters: DashboardParameters) -> DashboardColumns {
        var prompts: [TaskDashboards.Prompt] = []
        for (k, outcome) in outcomes.enumerated() {
            guard let a = outcome.activations else { continue }
            prompts.append(TaskDashboards.Prompt(activations: a, ordinal: meta.firstPrompt + Int64(k), dTranscoder: meta.dTranscoder))
        }
        var d = TaskDashboards.build(prompts, nLayers: meta.nLayers, dTranscoder: meta.dTranscoder, parameters: parameters)
        d.logits = meta.logits
        return d
    }
}

extension TaskDashboards.Prompt {
    /// One prompt's transcoder activations (`PromptActivations`, from a trace or a forward pass).
    public init(activations a: PromptActivations, ordinal: Int64, dTranscoder: Int) {
        self.init(ordinal: ordinal, tokens: a.tokens.map { Int32(truncatingIfNeeded: $0) }, strings: a.tokenStrings,
                  features: a.activeFeatures.map { Int32($0.layer * dTranscoder + $0.index) },
                  positions: a.activeFeatures.map { Int32($0.pos) }, values: a.values)
    }
}
