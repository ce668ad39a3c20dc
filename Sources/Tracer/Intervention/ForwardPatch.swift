/// What an intervened forward pass holds fixed or replaces in `Transformer.blocks`, the hooks
/// circuit-tracer's `feature_intervention` sets on TransformerLens: attention patterns and norm
/// scales frozen at a clean run, and a hook on every MLP output.
///
/// Batched interventions run as segments of equal length `T`, every one the same prompt, so
/// the frozen values of one clean run serve every segment.
struct ForwardPatch {
    /// Per layer, the clean run's queries `[T, nHeads·dHead]` and keys `[T, nKVHeads·dHead]`
    /// that every segment's attention patterns are made of; nil: patterns follow the input.
    var frozenPatterns: (queries: [[Float]], keys: [[Float]])?
    /// The clean run's norm scales, one per row of the batch; nil: recomputed.
    var frozenScales: FrozenScales?
    /// The output of layer `l`'s MLP slot `[nRows, dModel]`, given the sub-block's inputs and
    /// the real MLP (Gemma-2's post-feed-forward norm included) to call when it is needed.
    var mlpOutput: (_ layer: Int, _ inputs: MLPInputs, _ realMLP: () -> [Float]) throws -> [Float]
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

    /// The scales of `record` (one prompt of `T` rows), repeated for `copies` segments.
    init(_ record: ForwardRecord, copies: Int) {
        func tile(_ a: [Float]) -> [Float] { repeated(a, copies: copies) }
        ln1 = record.ln1Scale.map(tile)
        postAttention = record.postAttentionScale.map(tile)
        ln2 = record.ln2Scale.map(tile)
        postMLP = record.postMLPScale.map(tile)
        lnFinal = tile(record.lnFinalScale)
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

/// `a` `copies` times back to back: one prompt's rows for every segment of a batch.
func repeated<T>(_ a: [T], copies: Int) -> [T] { Array([[T]](repeating: a, count: copies).joined()) }

/// Calls `body` with a pointer to `array`'s elements, or nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}
