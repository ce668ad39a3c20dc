/// What an intervened forward pass holds fixed or replaces in `Transformer.blocks`, the hooks
/// circuit-tracer's `feature_intervention` sets on TransformerLens: attention patterns and norm
/// scales frozen at a clean run, and a hook on every MLP output.
///
/// Batched interventions run as segments that are all the same prompt, each from the first
/// position its interventions touch on (`SuffixBatch`), so the frozen values of one clean run
/// serve every segment.
struct ForwardPatch {
    /// The clean run whose earlier positions the segments attend to; nil: segments are whole prompts.
    var prefix: CleanPrefix?
    /// Per layer, the clean run's queries `[T, nHeads·dHead]` and keys `[T, nKVHeads·dHead]`
    /// that every segment's attention patterns are made of; nil: patterns follow the input.
    var frozenPatterns: (queries: [[Float]], keys: [[Float]])?
    /// The clean run's norm scales, one per row of the batch; nil: recomputed.
    var frozenScales: FrozenScales?
    /// The output of layer `l`'s MLP slot `[nRows, dModel]`, given the sub-block's inputs and
    /// the real MLP (Gemma-2's post-feed-forward norm included) to call when it is needed.
    var mlpOutput: (_ layer: Int, _ inputs: MLPInputs, _ realMLP: () -> [Float]) throws -> [Float]
}

/// The earlier positions of a batch whose segments hold only later positions of one prompt:
/// segment `i`'s rows are positions `starts[i]...` of the prompt `record` ran on, and its
/// attention reads `record`'s queries, keys and values at the positions before `starts[i]`.
struct CleanPrefix {
    var record: ForwardRecord
    var starts: [Int]
}

/// Norm scales held at a clean run, `[nRows]` per layer (every row of a batch of segments).
struct FrozenScales {
    var ln1: [[Float]]
    /// Gemma-2's post-attention norm (empty otherwise).
    var postAttention: [[Float]]
    var ln2: [[Float]]
    /// Gemma-2's post-feed-forward norm (empty otherwise).
    var postMLP: [[Float]]
    var lnFinal: [Float]

    /// The scales of `record` (the batch's one prompt) at every row of `batch`.
    init(_ record: ForwardRecord, _ batch: SuffixBatch) {
        func rows(_ a: [Float]) -> [Float] { batch.gather(a, width: 1) }
        ln1 = record.ln1Scale.map(rows)
        postAttention = record.postAttentionScale.map(rows)
        ln2 = record.ln2Scale.map(rows)
        postMLP = record.postMLPScale.map(rows)
        lnFinal = rows(record.lnFinalScale)
    }
}

/// The three places a transcoder can read the MLP sub-block's input, `[nRows, dModel]` each.
struct MLPInputs {
    /// `hook_resid_mid`.
    var residMid: [Float]
    /// `ln2.hook_normalized` (before the norm's weight).
    var ln2Normalized: [Float]
    /// `mlp.hook_in` (after the norm's weight and bias).
    var mlpIn: [Float]

    subscript(hook: TranscoderConfig.InputHook) -> [Float] {
        switch hook {
        case .residMid: return residMid
        case .ln2Normalized: return ln2Normalized
        case .mlpIn: return mlpIn
        }
    }
}

/// Calls `body` with a pointer to `array`'s elements, or nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}
