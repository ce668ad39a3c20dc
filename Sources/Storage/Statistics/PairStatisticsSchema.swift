/// The `/stats/pairs` group of shards and of `aggregate.h5`: co-activation statistics of
/// (source, target) feature pairs (see `docs/shard-schema.md`).
public enum PairStatisticsSchema {
    public static let group = "stats/pairs"
    /// `[nTargets, 2]` i64: (layer, feature) of each target.
    public static let targets = "targets"
    /// `[nPairs]` i32: row of `targets`.
    public static let targetIndex = "target_index"
    /// `[nPairs, 2]` i64: (layer, feature) of the source.
    public static let source = "source"
    /// `[nPairs]` i64, f64, f64.
    public static let count = "coactivation_count"
    public static let sumProduct = "sum_product"
    public static let sumSource = "sum_source_where_target_active"
}
