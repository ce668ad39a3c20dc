/// Every prompt's pruned graph, concatenated: the `/graphs` group of `aggregate.h5`. The offset
/// arrays have one entry per prompt plus one (CSR style): prompt k owns rows
/// `[offset[k], offset[k+1])` of the node, edge, token and logit columns; failed prompts own empty
/// ranges; edge endpoints stay local to their prompt's node range. Built and written by the
/// coordinator's merge, read by the report.
public struct GraphTables: Sendable, Equatable {
    /// The concatenated columns.
    public var columns = GraphColumns()
    public var nodeOffset: [Int64] = [0], edgeOffset: [Int64] = [0], tokenOffset: [Int64] = [0], logitOffset: [Int64] = [0]

    public init() {}

    /// Prompts whose ranges are closed.
    public var promptCount: Int { nodeOffset.count - 1 }

    /// Appends one prompt's columns; `endPrompt()` closes its ranges.
    public mutating func append(_ graph: GraphColumns) { columns.append(graph) }

    /// Closes the current prompt's ranges (with nothing appended: an empty graph).
    public mutating func endPrompt() {
        nodeOffset.append(Int64(columns.nodeType.count)); edgeOffset.append(Int64(columns.edgeSource.count))
        tokenOffset.append(Int64(columns.inputTokens.count)); logitOffset.append(Int64(columns.logitTokenIDs.count))
    }

    /// The columns of prompt `k` (edge endpoints are rows of its own node table).
    public func prompt(_ k: Int) -> GraphColumns {
        let n = Int(nodeOffset[k])..<Int(nodeOffset[k + 1]), e = Int(edgeOffset[k])..<Int(edgeOffset[k + 1])
        let t = Int(tokenOffset[k])..<Int(tokenOffset[k + 1]), l = Int(logitOffset[k])..<Int(logitOffset[k + 1])
        var g = GraphColumns()
        let c = columns
        g.nodeType = Array(c.nodeType[n]); g.nodeLayer = Array(c.nodeLayer[n]); g.nodePos = Array(c.nodePos[n])
        g.nodeFeature = Array(c.nodeFeature[n]); g.nodeActivation = Array(c.nodeActivation[n]); g.nodeInfluence = Array(c.nodeInfluence[n])
        g.edgeSource = Array(c.edgeSource[e]); g.edgeTarget = Array(c.edgeTarget[e]); g.edgeWeight = Array(c.edgeWeight[e])
        g.inputTokens = Array(c.inputTokens[t]); g.tokenStrings = Array(c.tokenStrings[t])
        g.logitTokenIDs = Array(c.logitTokenIDs[l]); g.logitProbabilities = Array(c.logitProbabilities[l]); g.logitTokens = Array(c.logitTokens[l])
        return g
    }

    /// Reads `/graphs` of an aggregate.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and dataset) when a dataset is missing;
    ///   `SchemaError` when column lengths disagree, or an offset array is not non-decreasing from
    ///   0 to its columns' length, or the offset arrays differ in length.
    public init(_ f: HDF5File) throws {
        typealias O = GraphTableSchema.Offset
        let g = ShardSchema.graphs
        columns = try GraphColumns(f, at: g)
        nodeOffset = try f.read(Int64.self, at: "\(g)/\(O.node)").values
        edgeOffset = try f.read(Int64.self, at: "\(g)/\(O.edge)").values
        tokenOffset = try f.read(Int64.self, at: "\(g)/\(O.token)").values
        logitOffset = try f.read(Int64.self, at: "\(g)/\(O.logit)").values
        for (name, o, rows) in [(O.node, nodeOffset, columns.nodeType.count), (O.edge, edgeOffset, columns.edgeSource.count),
                                (O.token, tokenOffset, columns.inputTokens.count), (O.logit, logitOffset, columns.logitTokenIDs.count)] {
            guard o.count == nodeOffset.count else {
                throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(o.count) entries, but \(O.node) has \(nodeOffset.count)")
            }
            guard o.first == 0, o.last == Int64(rows), zip(o, o.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "not non-decreasing from 0 to \(rows) (the rows it indexes)")
            }
        }
    }

    /// Writes `/graphs` of an aggregate. Columns beyond 1,024 entries are compressed (logit
    /// columns and strings never).
    public func write(into f: HDF5File) throws {
        typealias O = GraphTableSchema.Offset
        let g = ShardSchema.graphs
        func z(_ n: Int) -> Int? { n > 1024 ? 4 : nil }
        try columns.write(into: f, at: g, compression: .init(nodes: z(columns.nodeType.count), edges: z(columns.edgeSource.count),
                                                             tokens: z(columns.inputTokens.count)))
        for (name, o) in [(O.node, nodeOffset), (O.edge, edgeOffset), (O.token, tokenOffset), (O.logit, logitOffset)] {
            try f.write(o, shape: [o.count], at: "\(g)/\(name)")
        }
    }
}
