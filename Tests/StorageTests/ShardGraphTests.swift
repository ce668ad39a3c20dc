// ShardGraph (and the GraphColumns it shares with the aggregate): one prompt's pruned graph
// written as `graphs/KKKKKK` and read back; missing columns and attributes name file and object.
import Foundation
import Storage
import Testing

/// A small pruned graph: 3 nodes (token, feature, logit), 2 edges, 2 tokens, 1 logit.
func sampleColumns(offset: Int = 0) -> GraphColumns {
    var c = GraphColumns()
    c.nodeType = [ShardSchema.NodeType.token.rawValue, ShardSchema.NodeType.feature.rawValue, ShardSchema.NodeType.logit.rawValue]
    c.nodeLayer = [-1, 0, 2]; c.nodePos = [0, 1, 1]; c.nodeFeature = [Int64(17 + offset), 4, 9]
    c.nodeActivation = [0, 1.5, 0.25]; c.nodeInfluence = [0.5, 0.75, 1]
    c.edgeSource = [0, 1]; c.edgeTarget = [1, 2]; c.edgeWeight = [0.125, -2]
    c.inputTokens = [1, Int64(17 + offset)]; c.tokenStrings = ["<bos>", "cat\(offset)"]
    c.logitTokenIDs = [9]; c.logitProbabilities = [0.25]; c.logitTokens = [" sat"]
    return c
}

@Suite struct ShardGraphTests {
    static func sample() -> ShardGraph {
        ShardGraph(id: "a/odd id", prompt: "the cat", columns: sampleColumns(), nodeIndex: [0, 5, 11],
                   replacementScore: 0.9, completenessScore: 0.95, nNodes: 12, nActiveFeatures: 4, nEdges: 30, nLayers: 2,
                   timings: [0.1, 0.2, 0.3, 0.4, 0.5], timingsPhases: GraphTableSchema.phases)
    }

    @Test func roundTrip() throws {
        let g = Self.sample()
        let json = [UInt8](#"{"nodes": []}"#.utf8)
        let (read, readJSON) = try writeThenRead("shard-graph", write: { f in
            try g.write(into: f, index: 3)
            try ShardGraph.writeFrontendJSON(json, into: f, index: 3)
        }, read: { f in
            #expect(ShardGraph.exists(in: f, index: 3) && !ShardGraph.exists(in: f, index: 2))
            #expect(try f.read(Int32.self, at: "graphs/000003/edge_target").values == [1, 2], "the documented name")
            #expect(try f.stringAttribute("id", at: "graphs/000003") == "a/odd id")
            return (try ShardGraph(f, index: 3), try ShardGraph.readFrontendJSON(f, index: 3))
        })
        #expect(read == g)
        #expect(readJSON == json)
    }

    /// Every column of the node, edge, token and logit tables, and `node_index`.
    static let datasets = [GraphTableSchema.Node.type, GraphTableSchema.Node.layer, GraphTableSchema.Node.pos,
                           GraphTableSchema.Node.feature, GraphTableSchema.Node.activation, GraphTableSchema.Node.influence,
                           GraphTableSchema.Edge.source, GraphTableSchema.Edge.target, GraphTableSchema.Edge.weight,
                           GraphTableSchema.Token.ids, GraphTableSchema.Token.strings, GraphTableSchema.Logit.tokenIDs,
                           GraphTableSchema.Logit.probabilities, GraphTableSchema.Logit.tokens, GraphTableSchema.Node.index]

    @Test func theWriterWritesExactlyTheSchemaDatasets() throws {
        let names = try writeThenRead("shard-graph-names", write: { try Self.sample().write(into: $0, index: 0) },
                                  read: { try $0.children(of: "graphs/000000") })
        #expect(Set(names) == Set(Self.datasets))
    }

    /// A group whose datasets are all there but `missing`.
    @Test(arguments: datasets)
    func aMissingColumnNamesTheFileAndDataset(missing: String) throws {
        try withPartialCopy("shard-graph-missing", write: { try Self.sample().write(into: $0, index: 0) },
                            group: ShardSchema.graphGroupName(index: 0), missing: missing) { f in
            expectNotFound("/graphs/000000/\(missing)", in: f) { _ = try ShardGraph(f, index: 0) }
        }
    }

    @Test func aMissingAttributeNamesTheFileAndAttribute() throws {
        try writeThenRead("shard-graph-attribute", write: { f in
            let grp = ShardSchema.graphGroupName(index: 0)
            try Self.sample().columns.write(into: f, at: grp, compression: .init(nodes: nil, edges: nil, tokens: nil))
            try f.write(Self.sample().nodeIndex, shape: [3], at: "\(grp)/\(GraphTableSchema.Node.index)")
        }, read: { f in
            expectNotFound("/graphs/000000@id", in: f) { _ = try ShardGraph(f, index: 0) }
        })
    }

    @Test func columnsOfDifferentLengthsAreASchemaError() throws {
        let g = ShardSchema.graphGroupName(index: 0), weight = GraphTableSchema.Edge.weight
        try withPartialCopy("shard-graph-lengths", write: { try Self.sample().write(into: $0, index: 0) }, group: g, missing: weight,
                            amend: { try $0.write([Float](repeating: 1, count: 3), shape: [3], at: "\(g)/\(weight)") }) { f in
            expectSchemaError("\(g)/\(weight)", in: f) { _ = try ShardGraph(f, index: 0) }
        }
    }
}
