/// The `/stats/features` group of shards and of `aggregate.h5`: per-feature statistics (see
/// `docs/shard-schema.md`), read and written by `FeatureStatisticsFile`.
public enum FeatureStatisticsSchema {
    public static let group = ShardSchema.featureStats
    /// i64 attribute of the group: non-BOS positions seen.
    public static let tokensSeen = "tokens_seen"
    /// `[nLayers, dTranscoder]` i64: positions where the feature is active.
    public static let activeCount = "active_count"
    /// `[nLayers, dTranscoder]` f64: Σ activation.
    public static let sumActivation = "sum_activation"
    /// `[nLayers, dTranscoder]` f64: Σ activation².
    public static let sumSqActivation = "sum_sq_activation"
}
