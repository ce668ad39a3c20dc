extension ReplacementModel {
    /// Greedy continuation of `prompt` (BOS included) by up to `steps` tokens, stopping at the
    /// model's context: the argmax of the last position's logits, appended, run again.
    ///
    /// With `interventions` every step is an intervened pass in `mode` on the clean run of the
    /// tokens so far: explicit positions stay where they resolved in the prompt (negative ones
    /// count from the prompt's end), values scaled by `*k` keep the prompt's clean activations,
    /// and `all` takes every position of the growing sequence where the feature is active
    /// (generated ones included, each scaled against its own clean activation). Without it the
    /// unpatched model continues.
    ///
    /// - Returns: the generated tokens (not the prompt).
    /// - Complexity: `steps` clean runs and intervened passes over the growing sequence.
    public func greedyContinuation(prompt: [Int], steps: Int, interventions: [InterventionSpec]? = nil,
                                   mode: InterventionMode = .iterative) throws -> [Int] {
        var tokens = prompt
        let n = min(steps, model.config.nCtx - prompt.count)
        let V = model.config.nVocab
        for _ in 0..<max(n, 0) {
            let last: [Float]
            if let interventions {
                let clean = try cleanRun(tokens: tokens)
                let set = try interventions.flatMap {
                    try $0.resolve(against: clean, promptLength: prompt.count, nLayers: transcoders.nLayers, dTranscoder: transcoders.dTranscoder)
                }
                last = Array(try intervene(clean, [set], mode: mode)[0].logits.suffix(V))
            } else {
                last = try model.forward(tokens: tokens).lastLogits
            }
            tokens.append(argmax(last))
        }
        return Array(tokens.dropFirst(prompt.count))
    }
}

/// The index of the largest value (the first of equals).
func argmax(_ xs: [Float]) -> Int {
    var best = 0
    for i in xs.indices where xs[i] > xs[best] { best = i }
    return best
}
