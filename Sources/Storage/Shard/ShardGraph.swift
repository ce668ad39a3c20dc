/// One traced prompt's pruned graph in a shard: the group `graphs/KKKKKK` (`KKKKKK` the prompt's
/// row in `/prompts`) with its node and edge tables, tokens, logits and attributes (names in
/// `GraphTableSchema`). Written by the worker's `ShardWriter`, read by the coordinator's merge;
/// the group's `frontend_json` has its own reader and writer here (`circuits export`).
public struct ShardGraph: Sendable, Equatable {
    public var id: String
    public var prompt: String
    /// The pruned graph's columns.
    public var columns: GraphColumns
    /// `[m]`: each kept node's index in the unpruned graph (circuit-tracer's node order).
    public var nodeIndex: [Int64]
    public var replacementScore: Double, completenessScore: Double
    /// Nodes of the unpruned graph (N).
    public var nNodes: Int
    public var nActiveFeatures: Int
    /// Non-zero edges before pruning.
    public var nEdges: Int
    public var nLayers: Int
    /// Seconds per phase, named by `timingsPhases`.
    public var timings: [Double]
    public var timingsPhases: [String]

    public init(id: String, prompt: String, columns: GraphColumns, nodeIndex: [Int64], replacementScore: Double,
                completenessScore: Double, nNodes: Int, nActiveFeatures: Int, nEdges: Int, nLayers: Int,
                timings: [Double], timingsPhases: [String]) {
        self.id = id; self.prompt = prompt; self.columns = columns; self.nodeIndex = nodeIndex
        self.replacementScore = replacementScore; self.completenessScore = completenessScore
        self.nNodes = nNodes; self.nActiveFeatures = nActiveFeatures; self.nEdges = nEdges; self.nLayers = nLayers
        self.timings = timings; self.timingsPhases = timingsPhases
    }

    /// Whether `f` holds a graph for prompt row `index` (failed prompts, and every prompt of a
    /// statistics-only job, have none).
    public static func exists(in f: HDF5File, index: Int) -> Bool {
        f.exists(ShardSchema.graphGroupName(index: index))
    }

    /// Reads the graph of prompt row `index` of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and object) when the group, a column or
    ///   an attribute is missing; `SchemaError` when column lengths disagree.
    public init(_ f: HDF5File, index: Int) throws {
        typealias A = GraphTableSchema.Attribute
        let g = ShardSchema.graphGroupName(index: index)
        columns = try GraphColumns(f, at: g)
        nodeIndex = try f.read(Int64.self, at: "\(g)/\(GraphTableSchema.Node.index)").values
        guard nodeIndex.count == columns.nodeType.count else {
            throw SchemaError(file: f.path, object: "\(g)/\(GraphTableSchema.Node.index)",
                              detail: "\(nodeIndex.count) entries, but \(GraphTableSchema.Node.type) has \(columns.nodeType.count)")
        }
        id = try f.stringAttribute(A.id, at: g)
        prompt = try f.stringAttribute(A.prompt, at: g)
        replacementScore = try f.attribute(A.replacementScore, as: Double.self, at: g)
        completenessScore = try f.attribute(A.completenessScore, as: Double.self, at: g)
        nNodes = Int(try f.attribute(A.nNodes, as: Int64.self, at: g))
        nActiveFeatures = Int(try f.attribute(A.nActiveFeatures, as: Int64.self, at: g))
        nEdges = Int(try f.attribute(A.nEdges, as: Int64.self, at: g))
        nLayers = Int(try f.attribute(A.nLayers, as: Int64.self, at: g))
        timings = try f.attributeArray(A.timings, as: Double.self, at: g)
        timingsPhases = try f.stringArrayAttribute(A.timingsPhases, at: g)
    }

    /// Writes this graph as the group of prompt row `index` of `f`. Node columns are compressed
    /// beyond 4 KiB of i64s, edge columns beyond 4 KiB of i32s.
    public func write(into f: HDF5File, index: Int) throws {
        typealias A = GraphTableSchema.Attribute
        let g = ShardSchema.graphGroupName(index: index)
        let m = columns.nodeType.count, e = columns.edgeSource.count
        let z = m * 8 > 4096 ? 4 : nil, ze = e * 4 > 4096 ? 4 : nil
        try f.createGroup(g)
        try f.setAttribute(A.id, id, at: g)
        try f.setAttribute(A.prompt, prompt, at: g)
        try columns.write(into: f, at: g, compression: .init(nodes: z, edges: ze, tokens: nil))
        try f.write(nodeIndex, shape: [m], at: "\(g)/\(GraphTableSchema.Node.index)", compression: z)
        try f.setAttribute(A.replacementScore, replacementScore, at: g)
        try f.setAttribute(A.completenessScore, completenessScore, at: g)
        try f.setAttribute(A.nNodes, Int64(nNodes), at: g)
        try f.setAttribute(A.nActiveFeatures, Int64(nActiveFeatures), at: g)
        try f.setAttribute(A.nEdges, Int64(nEdges), at: g)
        try f.setAttribute(A.nLayers, Int64(nLayers), at: g)
        try f.setAttribute(A.timings, timings, at: g)
        try f.setAttribute(A.timingsPhases, timingsPhases, at: g)
    }

    /// Writes the circuit-tracer/Neuronpedia graph JSON (UTF-8 bytes) of prompt row `index`;
    /// its graph group must exist. Compressed beyond 4 KiB.
    public static func writeFrontendJSON(_ json: [UInt8], into f: HDF5File, index: Int) throws {
        try f.write(json, shape: [json.count], at: path(frontendJSONOf: index), compression: json.count > 4096 ? 4 : nil)
    }

    /// The graph JSON of prompt row `index` of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and dataset) when there is none.
    public static func readFrontendJSON(_ f: HDF5File, index: Int) throws -> [UInt8] {
        try f.read(UInt8.self, at: path(frontendJSONOf: index)).values
    }

    private static func path(frontendJSONOf index: Int) -> String {
        "\(ShardSchema.graphGroupName(index: index))/\(ShardSchema.frontendJSON)"
    }
}
