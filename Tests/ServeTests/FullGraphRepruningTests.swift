// A corpus run that keeps full graphs (`pruning.keep_full_graphs`) re-prunes a prompt's graph
// both ways from its shard, exactly as the same graph re-prunes from a graph.h5 of
// `circuits trace`; without a full graph the stored graph only tightens, as before.
import Foundation
import Storage
import Testing
import TestSupport
import Tracer
@testable import Serve

@Suite struct FullGraphRepruningTests {
    static let prompt = "the cat sat on the mat because it was very tired"

    /// A shard as a worker writes it for one traced prompt (`/meta`, `/prompts`, the graph
    /// group's token and logit columns and its `full` group).
    static func writeShard(_ r: TraceResult, id: String, jobHash: String, to url: URL) throws {
        let f = try HDF5File.create(url)
        defer { f.close() }
        try ShardMeta(jobHash: jobHash, taskID: 0, workerID: "w", modelChecksum: "m", transcoderChecksum: "t").write(into: f)
        var table = PromptTable()
        table.append(PromptTable.Row(id: id, prompt: prompt, status: 1))
        try table.write(into: f, withTask: false)
        var columns = GraphColumns()
        columns.inputTokens = r.graph.inputTokens.map(Int64.init); columns.tokenStrings = r.graph.tokenStrings
        columns.logitTokenIDs = r.graph.logitTargets.map { Int64($0.tokenId) }; columns.logitProbabilities = r.graph.logitProbabilities
        columns.logitTokens = r.graph.logitTargets.map(\.token)
        let g = ShardSchema.graphGroupName(index: 0)
        try f.createGroup(g)
        try columns.write(into: f, at: g, compression: .init(nodes: nil, edges: nil, tokens: nil))
        try FullGraph(r.graph).write(into: f, index: 0)
    }

    @Test func keptFullGraphRePrunesBothWaysLikeItsGraphFile() throws {
        let session = try TraceSession(modelDirectory: InterimModel.model, transcoderDirectory: InterimModel.transcoders)
        let r = try session.trace(prompt: Self.prompt, nodeThreshold: 0.8, edgeThreshold: 0.98)
        let folder = try ScratchFolder("serve-full")
        defer { folder.remove() }
        // The independent path: a graph.h5 (dense adjacency) served as `circuits serve` loads it.
        let h5 = folder.file("cat.h5")
        try GraphFile.write(r, prompt: Self.prompt, to: h5)
        let traced = try Catalog(path: h5).graph("cat")
        // The corpus path: the stored pruned graph, its full graph in the shard (sparse rows).
        let shard = folder.file("task-000000.h5")
        try Self.writeShard(r, id: "cat", jobHash: "job", to: shard)
        var stored = traced
        stored.full = nil
        stored.fullSource = FullGraphSource(shard: shard, promptID: "cat", jobHash: "job")
        #expect(GraphAnswer(stored, window: GraphWindow(stored, maxNodes: 100, maxEdges: 100)).repruning == "both")
        #expect(stored.unprunedSource == "shard" && traced.unprunedSource == "graph.h5")

        var last = 0
        for (node, edge) in [(0.5, 0.8), (0.8, 0.98), (0.95, 0.995), (1.0, 1.0)] {
            let fromShard = try stored.repruned(nodeThreshold: node, edgeThreshold: edge)
            let fromFile = try traced.repruned(nodeThreshold: node, edgeThreshold: edge)
            #expect(fromShard.nodes == fromFile.nodes && fromShard.edges == fromFile.edges, "thresholds \(node), \(edge)")
            #expect(fromShard.nodes.count >= last)
            last = fromShard.nodes.count
        }
        // At the stored thresholds: the stored graph; looser: more nodes and edges than stored.
        let same = try stored.repruned(nodeThreshold: 0.8, edgeThreshold: 0.98)
        #expect(same.nodes == stored.nodes && same.edges == stored.edges)
        let loose = try stored.repruned(nodeThreshold: 0.95, edgeThreshold: 0.995)
        #expect(loose.nodes.count > stored.nodes.count && loose.edges.count > stored.edges.count,
                "\(loose.nodes.count) nodes > \(stored.nodes.count) stored")
        let everything = try stored.repruned(nodeThreshold: 1, edgeThreshold: 1)
        #expect(everything.nodes.count >= loose.nodes.count && everything.nodes.count <= r.graph.layout.count)
        #expect(everything.edges.count >= loose.edges.count && everything.edges.count <= r.edgeCount)

        // Without a full graph: tightening only, never more than stored.
        stored.fullSource = nil
        #expect(try stored.repruned(nodeThreshold: 1, edgeThreshold: 1).nodes.count <= stored.nodes.count)
        #expect(GraphAnswer(stored, window: GraphWindow(stored, maxNodes: 100, maxEdges: 100)).repruning == "tighten")

        // A shard of another job, or without the prompt, is refused with the reason.
        stored.fullSource = FullGraphSource(shard: shard, promptID: "cat", jobHash: "other")
        #expect { try stored.repruned(nodeThreshold: 1, edgeThreshold: 1) } throws: {
            ($0 as? ServeError).map { $0.status == 500 && $0.description.contains("belongs to job job") } ?? false
        }
        stored.fullSource = FullGraphSource(shard: shard, promptID: "dog", jobHash: "job")
        #expect(throws: ServeError.notFound("\(shard.path) holds no full graph of prompt 'dog'")) {
            try stored.repruned(nodeThreshold: 1, edgeThreshold: 1)
        }
    }

    /// Bad `full` groups are schema errors naming the dataset.
    @Test func malformedFullGraphsAreNamed() throws {
        let folder = try ScratchFolder("serve-full-bad")
        defer { folder.remove() }
        var full = FullGraph()
        full.featureLayer = [0]; full.featurePos = [1]; full.featureIndex = [5]; full.featureActivation = [2]
        full.nLayers = 1; full.nPos = 2; full.nLogits = 1
        full.rowOffset = [0, 1, 2]; full.edgeSource = [3, 0]; full.edgeWeight = [0.5, -1]
        for (broken, dataset): (FullGraph, String) in [
            ({ var g = full; g.rowOffset = [0, 2, 1]; return g }(), FullGraph.Name.rowOffset),
            ({ var g = full; g.rowOffset = [0, 2]; return g }(), FullGraph.Name.rowOffset),
            ({ var g = full; g.edgeSource = [3, 6]; return g }(), FullGraph.Name.edgeSource),      // N = 1 + 2·2 + 1 = 6
            ({ var g = full; g.featurePos = []; return g }(), FullGraph.Name.featurePos),
        ] {
            let url = folder.file("bad.h5")
            try? FileManager.default.removeItem(at: url)
            let f = try HDF5File.create(url)
            try f.createGroup(ShardSchema.graphGroupName(index: 0))
            try broken.write(into: f, index: 0)
            #expect { _ = try FullGraph(f, index: 0) } throws: { ($0 as? SchemaError)?.object.hasSuffix("full/\(dataset)") ?? false }
            f.close()
        }
        let url = folder.file("good.h5")
        let f = try HDF5File.create(url)
        defer { f.close() }
        try f.createGroup(ShardSchema.graphGroupName(index: 0))
        try full.write(into: f, index: 0)
        #expect(try FullGraph(f, index: 0) == full)
    }
}
