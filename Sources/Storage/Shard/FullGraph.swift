/// One traced prompt's unpruned graph in a shard, kept when the job asks for it
/// (`pruning.keep_full_graphs: true`): the group `graphs/KKKKKK/full`, beside the pruned tables
/// of the same prompt (`ShardGraph`), so that a viewer can re-prune it at any thresholds. The
/// aggregate never carries it (`circuits serve` reads it from the prompt's shard).
///
/// Node order is circuit-tracer's (`NodeLayout`): the F feature nodes, then `nLayers × nPos`
/// error nodes, `nPos` token nodes and the `nLogits` logit nodes, N in all. Only the feature
/// nodes are listed here (the rest follow from `n_layers`, the prompt's tokens and its logit
/// columns, which the pruned tables hold in full). The adjacency `A[target, source]` is stored
/// sparse, by rows (CSR): only feature and logit rows can be non-zero, and row r (feature r for
/// r < F, logit r − F after) owns entries `[row_offset[r], row_offset[r+1])` of `edge_source`
/// (the source's node index, ascending) and `edge_weight` (`A[target, source]`, never 0).
/// Every non-zero entry is kept, so the graph is exactly the traced one.
public struct FullGraph: Sendable, Equatable {
    /// Dataset and attribute names inside `graphs/KKKKKK/full`.
    public enum Name {
        /// The group, inside a graph group.
        public static let group = "full"
        /// i32 `[F]`: each feature node's layer.
        public static let featureLayer = "feature_layer"
        /// i32 `[F]`: its token position.
        public static let featurePos = "feature_pos"
        /// i64 `[F]`: its transcoder feature index.
        public static let featureIndex = "feature_index"
        /// f32 `[F]`: its activation.
        public static let featureActivation = "feature_activation"
        /// i64 `[F + nLogits + 1]`: CSR row offsets into the edge columns.
        public static let rowOffset = "row_offset"
        /// i32 `[E]`: source node index (circuit-tracer's order).
        public static let edgeSource = "edge_source"
        /// f32 `[E]`: `A[target, source]`.
        public static let edgeWeight = "edge_weight"
        /// i64 attributes: the layout's sizes.
        public static let nLayers = "n_layers", nPos = "n_pos", nLogits = "n_logits"
    }

    // Feature nodes, [F] each, in node order.
    public var featureLayer: [Int32] = [], featurePos: [Int32] = [], featureIndex: [Int64] = []
    public var featureActivation: [Float] = []
    /// `[F + nLogits + 1]`, from 0 to E, non-decreasing.
    public var rowOffset: [Int64] = [0]
    /// `[E]` each.
    public var edgeSource: [Int32] = [], edgeWeight: [Float] = []
    public var nLayers: Int = 0, nPos: Int = 0, nLogits: Int = 0

    public init() {}

    /// F, feature nodes.
    public var nFeatures: Int { featureLayer.count }
    /// N, every node of the graph.
    public var nNodes: Int { nFeatures + (nLayers + 1) * nPos + nLogits }
    /// E, non-zero edges.
    public var nEdges: Int { edgeSource.count }

    /// Whether the graph group of prompt row `index` of `f` keeps its full graph.
    public static func exists(in f: HDF5File, index: Int) -> Bool {
        f.exists(path(index: index))
    }

    static func path(index: Int) -> String { ShardSchema.graphGroupName(index: index) + "/" + Name.group }

    /// Reads the full graph of prompt row `index` of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and object) when a dataset or an
    ///   attribute is missing; `SchemaError` naming the dataset when lengths disagree, the row
    ///   offsets do not run from 0 to E, or a source is outside `0..<N`.
    public init(_ f: HDF5File, index: Int) throws {
        typealias N = Name
        let g = Self.path(index: index)
        featureLayer = try f.read(Int32.self, at: "\(g)/\(N.featureLayer)").values
        featurePos = try f.read(Int32.self, at: "\(g)/\(N.featurePos)").values
        featureIndex = try f.read(Int64.self, at: "\(g)/\(N.featureIndex)").values
        featureActivation = try f.read(Float.self, at: "\(g)/\(N.featureActivation)").values
        rowOffset = try f.read(Int64.self, at: "\(g)/\(N.rowOffset)").values
        edgeSource = try f.read(Int32.self, at: "\(g)/\(N.edgeSource)").values
        edgeWeight = try f.read(Float.self, at: "\(g)/\(N.edgeWeight)").values
        nLayers = Int(try f.attribute(N.nLayers, as: Int64.self, at: g))
        nPos = Int(try f.attribute(N.nPos, as: Int64.self, at: g))
        nLogits = Int(try f.attribute(N.nLogits, as: Int64.self, at: g))
        try check(file: f.path, group: g)
    }

    /// Writes the group `graphs/KKKKKK/full` of prompt row `index` (its graph group must exist).
    /// Columns beyond 4 KiB are compressed.
    public func write(into f: HDF5File, index: Int) throws {
        typealias N = Name
        let g = Self.path(index: index)
        let m = nFeatures, e = nEdges
        let zn = m * 8 > 4096 ? 4 : nil, ze = e * 4 > 4096 ? 4 : nil, zr = rowOffset.count * 8 > 4096 ? 4 : nil
        try f.createGroup(g)
        // Each column as long as it is (the reader checks that they agree).
        try f.write(featureLayer, shape: [m], at: "\(g)/\(N.featureLayer)", compression: zn)
        try f.write(featurePos, shape: [featurePos.count], at: "\(g)/\(N.featurePos)", compression: zn)
        try f.write(featureIndex, shape: [featureIndex.count], at: "\(g)/\(N.featureIndex)", compression: zn)
        try f.write(featureActivation, shape: [featureActivation.count], at: "\(g)/\(N.featureActivation)", compression: zn)
        try f.write(rowOffset, shape: [rowOffset.count], at: "\(g)/\(N.rowOffset)", compression: zr)
        try f.write(edgeSource, shape: [e], at: "\(g)/\(N.edgeSource)", compression: ze)
        try f.write(edgeWeight, shape: [edgeWeight.count], at: "\(g)/\(N.edgeWeight)", compression: ze)
        try f.setAttribute(N.nLayers, Int64(nLayers), at: g)
        try f.setAttribute(N.nPos, Int64(nPos), at: g)
        try f.setAttribute(N.nLogits, Int64(nLogits), at: g)
    }

    /// Throws `SchemaError` naming the first dataset that does not fit the layout.
    func check(file: String, group g: String) throws {
        typealias N = Name
        let m = nFeatures
        for (name, count) in [(N.featurePos, featurePos.count), (N.featureIndex, featureIndex.count), (N.featureActivation, featureActivation.count)]
        where count != m {
            throw SchemaError(file: file, object: "\(g)/\(name)", detail: "\(count) entries, but \(N.featureLayer) has \(m)")
        }
        guard nLayers >= 0, nPos >= 1, nLogits >= 0 else {
            throw SchemaError(file: file, object: g, detail: "sizes n_layers \(nLayers), n_pos \(nPos), n_logits \(nLogits) do not describe a graph")
        }
        guard edgeWeight.count == edgeSource.count else {
            throw SchemaError(file: file, object: "\(g)/\(N.edgeWeight)", detail: "\(edgeWeight.count) entries, but \(N.edgeSource) has \(edgeSource.count)")
        }
        guard rowOffset.count == m + nLogits + 1 else {
            throw SchemaError(file: file, object: "\(g)/\(N.rowOffset)", detail: "\(rowOffset.count) entries, expected F + n_logits + 1 = \(m + nLogits + 1)")
        }
        guard rowOffset.first == 0, rowOffset.last == Int64(edgeSource.count), zip(rowOffset, rowOffset.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw SchemaError(file: file, object: "\(g)/\(N.rowOffset)", detail: "not non-decreasing from 0 to \(edgeSource.count) (the edges it indexes)")
        }
        let n = nNodes
        if let bad = edgeSource.first(where: { $0 < 0 || Int($0) >= n }) {
            throw SchemaError(file: file, object: "\(g)/\(N.edgeSource)", detail: "source \(bad) is outside 0..<\(n) (the graph's nodes)")
        }
    }
}
