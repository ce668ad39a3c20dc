/// The `/dashboards` group of shards and of `aggregate.h5`: per-feature dashboards (maximum,
/// histogram, top-k activating contexts, samples per histogram bin, promoted and suppressed
/// logits; see `docs/shard-schema.md`), read and written by `FeatureDashboardsFile`. Counts, sums
/// and sums of squares are `/stats/features` (`FeatureStatisticsSchema`), not repeated here.
public enum DashboardSchema {
    public static let group = "dashboards"
    // Attributes of the group (the parameters of the accumulation).
    public static let topK = "top_k"
    public static let samplesPerBin = "samples_per_bin"
    public static let windowBefore = "window_before"
    public static let windowAfter = "window_after"
    /// i64 attributes: the transcoders' shape.
    public static let nLayers = "n_layers"
    public static let dTranscoder = "d_transcoder"
    /// i64 `[nSeen]`: the features active at least once (g = layer · dTranscoder + index, ascending).
    public static let seenFeature = "feature"
    /// f32 `[nSeen]`: their largest activation.
    public static let maxActivation = "max_activation"
    /// i64 `[nCells]`: non-zero histogram cells, `g · nBins + bin` ascending (`ActivationHistogram` bins).
    public static let histogramIndex = "histogram_index"
    /// i64 `[nCells]`: active positions in each cell.
    public static let histogramCount = "histogram_count"
    /// f64 `[nBins + 1]`: the bins' edges (first and last bins are open: `(-inf, e0)`, `[e_n, inf)`).
    public static let histogramEdges = "histogram_edges"
    // Examples (one row each; `group` −1: top-k, b ≥ 0: a sample of histogram bin b).
    public static let exampleFeature = "example_feature"        // i64 [n]: layer · dTranscoder + feature
    public static let exampleGroup = "example_group"            // i32 [n]
    public static let exampleActivation = "example_activation"  // f32 [n]
    public static let examplePrompt = "example_prompt"          // i64 [n]: prompt ordinal (row of aggregate /prompts)
    public static let examplePosition = "example_position"      // i32 [n]: token position (BOS = 0)
    public static let exampleKey = "example_key"                // i64 [n]: sample key (bit pattern of a u64)
    public static let windowStart = "window_start"              // i32 [n]: position of the window's first token
    public static let windowOffset = "window_offset"            // i64 [n + 1]: CSR into the window columns
    public static let windowToken = "window_token"              // i32 [Σ width]: token ids
    public static let windowActivation = "window_activation"    // f32 [Σ width]: the feature's activation at each
    // The token strings of every token id the examples and logits name.
    public static let vocabularyIDs = "vocabulary_ids"          // i64 [v]
    public static let vocabularyStrings = "vocabulary_strings"  // str [v]
    // Logits (direct effect of each feature's decoder through the unembedding; `FeatureLogits`).
    public static let logitTopIDs = "logit_top_ids"             // i32 [nLayers, dTranscoder, kLogits]
    public static let logitTopValues = "logit_top_values"       // f32 [nLayers, dTranscoder, kLogits]
    public static let logitBottomIDs = "logit_bottom_ids"       // i32 [nLayers, dTranscoder, kLogits], most negative first
    public static let logitBottomValues = "logit_bottom_values" // f32 [nLayers, dTranscoder, kLogits]
}
