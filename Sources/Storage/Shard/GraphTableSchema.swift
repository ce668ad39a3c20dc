/// Dataset and attribute names of the pruned-graph tables: one prompt's in each shard group
/// `graphs/KKKKKK` (`ShardGraph`), and every prompt's concatenated in `aggregate.h5`'s `/graphs`
/// (`GraphTables`). See `docs/shard-schema.md` for types and meaning.
public enum GraphTableSchema {
    /// Node table columns, one entry per kept node (`[m]`).
    public enum Node {
        /// i8: `ShardSchema.NodeType` (feature, error, token, logit).
        public static let type = "node_type"
        /// i32: layer (token nodes −1, logit nodes `n_layers`).
        public static let layer = "node_layer"
        /// i32: token position (logits: the last position).
        public static let pos = "node_pos"
        /// i64: feature index; error −1; token and logit: the token id.
        public static let feature = "node_feature"
        /// f32: feature activation; logit: probability; else 0.
        public static let activation = "node_activation"
        /// f32: influence on the logits.
        public static let influence = "node_influence"
        /// i64: the node's index in the unpruned graph (shards only).
        public static let index = "node_index"
    }

    /// Edge columns, COO, one entry per kept edge (`[e]`); endpoints are rows of the prompt's node table.
    public enum Edge {
        /// i32
        public static let source = "edge_source"
        /// i32
        public static let target = "edge_target"
        /// f32: `A[target, source]`.
        public static let weight = "edge_weight"
    }

    /// Token columns (`[nPos]`): i64 ids and UTF-8 strings.
    public enum Token {
        public static let ids = "input_tokens"
        public static let strings = "token_strings"
    }

    /// Logit-target columns (`[k]`): i64 token ids, f32 probabilities, UTF-8 token strings.
    public enum Logit {
        public static let tokenIDs = "logit_token_ids"
        public static let probabilities = "logit_probabilities"
        public static let tokens = "logit_tokens"
    }

    /// The aggregate's CSR offsets (i64, one entry per prompt plus one): prompt k owns rows
    /// `[offset[k], offset[k+1])` of the node, edge, token and logit columns.
    public enum Offset {
        public static let node = "node_offset"
        public static let edge = "edge_offset"
        public static let token = "token_offset"
        public static let logit = "logit_offset"
    }

    /// Attributes of a shard's graph group.
    public enum Attribute {
        /// str: the prompt id (group names cannot hold every id).
        public static let id = "id"
        /// str: the prompt text.
        public static let prompt = "prompt"
        /// f64
        public static let replacementScore = "replacement_score"
        /// f64
        public static let completenessScore = "completeness_score"
        /// i64: N, nodes of the unpruned graph.
        public static let nNodes = "n_nodes"
        /// i64
        public static let nActiveFeatures = "n_active_features"
        /// i64: non-zero edges before pruning.
        public static let nEdges = "n_edges"
        /// i64
        public static let nLayers = "n_layers"
        /// f64 array: seconds per phase, in the order of `timingsPhases`.
        public static let timings = "timings_s"
        /// str array: the phase names, `phases`.
        public static let timingsPhases = "timings_phases"
    }

    /// The value of `timings_phases`: the traced phases, in the order of `timings_s`.
    public static let phases = ["forward", "transcoders", "logit_rows", "feature_rows", "pruning"]
}
