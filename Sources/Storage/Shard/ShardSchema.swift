/// The layout of a shard (`shards/task-NNNNNN.h5`, one per task) and of `aggregate.h5`: the
/// group names, with the dataset and attribute names of each table spelled once beside its one
/// reader and writer in `Storage/Shard` and `Storage/Statistics`:
///
/// | group | names | reader and writer |
/// | --- | --- | --- |
/// | `/meta` (shard), root attributes (aggregate) | `ShardMeta.Attribute`, `AggregateMeta.Attribute` | `ShardMeta`, `AggregateMeta` |
/// | `/prompts` | `PromptTable.Column` | `PromptTable` |
/// | `/graphs/KKKKKK` (shard), `/graphs` (aggregate) | `GraphTableSchema` | `ShardGraph`, `GraphTables` (both via `GraphColumns`) |
/// | `/stats/features` | `FeatureStatisticsSchema` | `FeatureStatisticsFile` |
/// | `/stats/pairs` | `PairStatisticsSchema` | `PairStatisticsFile` |
/// | `/stats/labels` | `LabelStatistics` | `LabelStatistics.read` / `write(into:)` |
/// | `/evaluation` (rows of `/prompts`) | `EvaluationTable.Column` | `EvaluationTable` |
/// | `/bridge_swap` (bridge-swap shards, aggregate) | `BridgeSwapTable.Column` | `BridgeSwapTable` |
/// | `/dashboards` | `DashboardSchema` | `FeatureDashboardsFile` |
///
/// The worker's `ShardWriter` and the coordinator (verification, merge, report, export) go
/// through these types only. `docs/shard-schema.md` describes the layout for readers (h5py, h5dump).
public enum ShardSchema {
    public static let formatVersion = 1

    /// Per-shard attributes: job hash, checksums, versions, task and worker.
    public static let meta = "meta"
    /// One row per prompt of the task: `id`, `status` (1 done, 0 failed), `reason`, scores, counts.
    public static let prompts = "prompts"
    /// Shards: one group per traced prompt, named by `graphGroupName(index:)` (`ShardGraph`).
    /// Aggregate: every prompt's graph tables concatenated (`GraphTables`).
    public static let graphs = "graphs"
    /// Corpus statistics; a group so that later statistics can be added beside `features`.
    public static let stats = "stats"
    /// Per-feature statistics (`FeatureStatisticsSchema`).
    public static let featureStats = "stats/features"

    /// The group of the k-th prompt of a shard (`graphs/000003`); the prompt id is its `id` attribute,
    /// because ids may hold any character and HDF5 names may not hold `/`.
    public static func graphGroupName(index: Int) -> String {
        let s = String(index)
        return graphs + "/" + String(repeating: "0", count: max(0, 6 - s.count)) + s
    }

    /// Inside each graph group: the circuit-tracer/Neuronpedia graph JSON, UTF-8 bytes (u8).
    public static let frontendJSON = "frontend_json"

    /// Node types in node tables, as circuit-tracer numbers them.
    public enum NodeType: Int8, Sendable { case feature = 0, error = 1, token = 2, logit = 3 }

    /// The shard file of task `id` inside `shardsFolder`.
    public static func shardFileName(taskID: Int) -> String {
        let s = String(taskID)
        return "task-" + String(repeating: "0", count: max(0, 6 - s.count)) + s + ".h5"
    }
}
