/// The node, edge, token and logit columns of pruned graphs (names in `GraphTableSchema`): one
/// prompt's in a shard's graph group, or every prompt's concatenated in `aggregate.h5`'s
/// `/graphs`. The one reader and writer of these columns for both.
public struct GraphColumns: Sendable, Equatable {
    // Node table, [m] each.
    public var nodeType: [Int8] = [], nodeLayer: [Int32] = [], nodePos: [Int32] = [], nodeFeature: [Int64] = []
    public var nodeActivation: [Float] = [], nodeInfluence: [Float] = []
    // Edges (COO), [e] each; endpoints are rows of the node table.
    public var edgeSource: [Int32] = [], edgeTarget: [Int32] = [], edgeWeight: [Float] = []
    // [nPos] each.
    public var inputTokens: [Int64] = [], tokenStrings: [String] = []
    // [k] each.
    public var logitTokenIDs: [Int64] = [], logitProbabilities: [Float] = [], logitTokens: [String] = []

    public init() {}

    /// gzip levels per column family; nil stores a column uncompressed.
    public struct Compression: Sendable {
        public var nodes: Int?, edges: Int?, tokens: Int?
        public init(nodes: Int?, edges: Int?, tokens: Int?) { self.nodes = nodes; self.edges = edges; self.tokens = tokens }
    }

    /// Appends `other`'s rows after these (the aggregate's concatenation).
    public mutating func append(_ other: GraphColumns) {
        nodeType += other.nodeType; nodeLayer += other.nodeLayer; nodePos += other.nodePos; nodeFeature += other.nodeFeature
        nodeActivation += other.nodeActivation; nodeInfluence += other.nodeInfluence
        edgeSource += other.edgeSource; edgeTarget += other.edgeTarget; edgeWeight += other.edgeWeight
        inputTokens += other.inputTokens; tokenStrings += other.tokenStrings
        logitTokenIDs += other.logitTokenIDs; logitProbabilities += other.logitProbabilities; logitTokens += other.logitTokens
    }

    /// Reads the columns in group `g` of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and dataset) when a column is missing;
    ///   `SchemaError` when the columns of one family differ in length.
    public init(_ f: HDF5File, at g: String) throws {
        typealias S = GraphTableSchema
        nodeType = try f.read(Int8.self, at: "\(g)/\(S.Node.type)").values
        nodeLayer = try f.read(Int32.self, at: "\(g)/\(S.Node.layer)").values
        nodePos = try f.read(Int32.self, at: "\(g)/\(S.Node.pos)").values
        nodeFeature = try f.read(Int64.self, at: "\(g)/\(S.Node.feature)").values
        nodeActivation = try f.read(Float.self, at: "\(g)/\(S.Node.activation)").values
        nodeInfluence = try f.read(Float.self, at: "\(g)/\(S.Node.influence)").values
        edgeSource = try f.read(Int32.self, at: "\(g)/\(S.Edge.source)").values
        edgeTarget = try f.read(Int32.self, at: "\(g)/\(S.Edge.target)").values
        edgeWeight = try f.read(Float.self, at: "\(g)/\(S.Edge.weight)").values
        inputTokens = try f.read(Int64.self, at: "\(g)/\(S.Token.ids)").values
        tokenStrings = try f.readStrings(at: "\(g)/\(S.Token.strings)")
        logitTokenIDs = try f.read(Int64.self, at: "\(g)/\(S.Logit.tokenIDs)").values
        logitProbabilities = try f.read(Float.self, at: "\(g)/\(S.Logit.probabilities)").values
        logitTokens = try f.readStrings(at: "\(g)/\(S.Logit.tokens)")
        try check(file: f.path, group: g)
    }

    /// Writes the columns into group `g` of `f` (creating it).
    public func write(into f: HDF5File, at g: String, compression z: Compression) throws {
        typealias S = GraphTableSchema
        let m = nodeType.count, e = edgeSource.count, t = inputTokens.count, k = logitTokenIDs.count
        try f.write(nodeType, shape: [m], at: "\(g)/\(S.Node.type)", compression: z.nodes)
        try f.write(nodeLayer, shape: [m], at: "\(g)/\(S.Node.layer)", compression: z.nodes)
        try f.write(nodePos, shape: [m], at: "\(g)/\(S.Node.pos)", compression: z.nodes)
        try f.write(nodeFeature, shape: [m], at: "\(g)/\(S.Node.feature)", compression: z.nodes)
        try f.write(nodeActivation, shape: [m], at: "\(g)/\(S.Node.activation)", compression: z.nodes)
        try f.write(nodeInfluence, shape: [m], at: "\(g)/\(S.Node.influence)", compression: z.nodes)
        try f.write(edgeSource, shape: [e], at: "\(g)/\(S.Edge.source)", compression: z.edges)
        try f.write(edgeTarget, shape: [e], at: "\(g)/\(S.Edge.target)", compression: z.edges)
        try f.write(edgeWeight, shape: [e], at: "\(g)/\(S.Edge.weight)", compression: z.edges)
        try f.write(inputTokens, shape: [t], at: "\(g)/\(S.Token.ids)", compression: z.tokens)
        try f.writeStrings(tokenStrings, at: "\(g)/\(S.Token.strings)")
        try f.write(logitTokenIDs, shape: [k], at: "\(g)/\(S.Logit.tokenIDs)")
        try f.write(logitProbabilities, shape: [k], at: "\(g)/\(S.Logit.probabilities)")
        try f.writeStrings(logitTokens, at: "\(g)/\(S.Logit.tokens)")
    }

    /// Throws `SchemaError` naming the first column whose length differs from its family's.
    func check(file: String, group g: String) throws {
        typealias S = GraphTableSchema
        let families: [[(String, Int)]] = [
            [(S.Node.type, nodeType.count), (S.Node.layer, nodeLayer.count), (S.Node.pos, nodePos.count),
             (S.Node.feature, nodeFeature.count), (S.Node.activation, nodeActivation.count), (S.Node.influence, nodeInfluence.count)],
            [(S.Edge.source, edgeSource.count), (S.Edge.target, edgeTarget.count), (S.Edge.weight, edgeWeight.count)],
            [(S.Token.ids, inputTokens.count), (S.Token.strings, tokenStrings.count)],
            [(S.Logit.tokenIDs, logitTokenIDs.count), (S.Logit.probabilities, logitProbabilities.count), (S.Logit.tokens, logitTokens.count)],
        ]
        for family in families {
            let (first, n) = family[0]
            if let (name, count) = family.first(where: { $0.1 != n }) {
                throw SchemaError(file: file, object: "\(g)/\(name)", detail: "\(count) entries, but \(first) has \(n)")
            }
        }
    }
}
