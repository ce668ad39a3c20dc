/// Every intermediate of one forward pass that attribution freezes or reads, per layer.
///
/// Names follow TransformerLens hooks. All buffers are row-major `[nPos, dModel]` unless noted.
public struct ForwardRecord: Sendable {
    public var nPos: Int
    /// Token embeddings as added to the residual (Gemma: scaled), `[nPos, dModel]`.
    public var tokenEmbeddings: [Float]
    /// `blocks.l.hook_resid_pre`, per layer.
    public var residPre: [[Float]]
    /// `blocks.l.ln1.hook_scale`, `[nPos]` per layer.
    public var ln1Scale: [[Float]]
    /// Queries after rotary / q-norm, `[nPos, nHeads·dHead]` per layer: with `keys`, what the
    /// attention patterns are recomputed from (`Transformer.pattern(_:layer:head:rows:into:)`), so
    /// that no `[nHeads, nPos, nPos]` pattern is kept (9.7 GB for GPT-2 small at 4,096 tokens).
    public var queries: [[Float]]
    /// Keys after rotary / k-norm, `[nPos, nKVHeads·dHead]` per layer.
    public var keys: [[Float]]
    /// Values, `[nPos, nKVHeads·dHead]` per layer: what an intervened pass that recomputes only
    /// the later positions of a prompt attends to at the earlier ones (`CleanPrefix`).
    public var values: [[Float]]
    /// Gemma-2 post-attention norm scale, `[nPos]` per layer (empty otherwise).
    public var postAttentionScale: [[Float]]
    /// `blocks.l.hook_resid_mid`, per layer.
    public var residMid: [[Float]]
    /// `blocks.l.ln2.hook_scale`, `[nPos]` per layer.
    public var ln2Scale: [[Float]]
    /// `blocks.l.ln2.hook_normalized` (before the norm weight), per layer.
    public var ln2Normalized: [[Float]]
    /// `blocks.l.mlp.hook_in` (after the norm weight and bias), per layer.
    public var mlpIn: [[Float]]
    /// `blocks.l.hook_mlp_out` (Gemma-2: after the post-feed-forward norm), per layer.
    public var mlpOut: [[Float]]
    /// Gemma-2 post-feed-forward norm scale, `[nPos]` per layer (empty otherwise).
    public var postMLPScale: [[Float]]
    /// The residual after the last block, `[nPos, dModel]`.
    public var residFinal: [Float]
    /// `ln_final.hook_scale`, `[nPos]`.
    public var lnFinalScale: [Float]
    /// Logits of the last position (before any final softcap), `[nVocab]`.
    public var lastLogits: [Float]
    /// Logits of every position when requested, `[nPos, nVocab]` (else empty).
    public var allLogits: [Float]

    /// Drops the activations only the transcoders and interventions read (`residPre`, `values`,
    /// `residMid`, `ln2Normalized`, `mlpIn`, `mlpOut`, `residFinal`), keeping what the linearised backward pass freezes or
    /// recomputes from: norm scales, queries, keys and token embeddings (0.8 GB of the 1.1 GB of
    /// GPT-2 small at 4,096 tokens goes).
    public mutating func dropTranscoderInputs() {
        residPre = []; values = []; residMid = []; ln2Normalized = []; mlpIn = []; mlpOut = []; residFinal = []
    }
}
