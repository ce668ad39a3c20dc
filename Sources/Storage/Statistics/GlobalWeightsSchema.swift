/// Dataset and attribute names of `global_weights.h5` (written by the engine's
/// `GlobalWeightsTable`, read by the coordinator's report). Matrices are
/// `[nTargets, nSources]` row-major.
public enum GlobalWeightsSchema {
    /// `[nTargets, 2]` i64: (layer, feature).
    public static let targets = "targets"
    /// `[nSources, 2]` i64: (layer, feature).
    public static let sources = "sources"
    /// f32 matrices.
    public static let virtualWeights = "virtual_weights"
    public static let era = "era"
    public static let twera = "twera"
    /// i64 matrix.
    public static let coactivationCount = "coactivation_count"
    /// f64 matrices: the pair sums ERA and TWERA come from.
    public static let pairSumProduct = "pair_sum_product"
    public static let pairSumSourceWhereTargetActive = "pair_sum_source_where_target_active"
    /// `[nSources]` f64: Σ a_s / tokensSeen.
    public static let sourceMeanActivation = "source_mean_activation"
    /// `[nTargets]` f64: Σ a_t.
    public static let targetSumActivation = "target_sum_activation"

    /// Root attributes: i64 non-BOS positions; str transcoder folder; str the formulas.
    public enum Attribute {
        public static let tokensSeen = "tokens_seen"
        public static let transcoders = "transcoders"
        public static let convention = "convention"
    }
}
