import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

/// `graph.h5` round trip, and its datasets under circuit-tracer's array names.
@Suite struct GraphFileTests {
    @Test(arguments: referenceRuns())
    func roundTripKeepsEveryArray(run: ReferenceRun) throws {
        let (graph, pruning) = try goldenGraph(run)
        let scores = try GraphScores(graph)
        let result = TraceResult(graph: graph, pruning: pruning, scores: scores, timings: PhaseTimings(),
                                 nodeThreshold: 0.8, edgeThreshold: 0.98)
        let folder = try ScratchFolder("graphfile")
        defer { folder.remove() }
        let dir = folder.url, url = folder.file("graph.h5")
        try GraphFile.write(result, prompt: run.prompt, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["graph.h5"], "no temporary file left behind")

        let (back, prompt) = try GraphFile.read(url)
        #expect(prompt == run.prompt)
        #expect(back.graph.adjacency == graph.adjacency)
        #expect(back.graph.activeFeatures == graph.activeFeatures)
        #expect(back.graph.selectedFeatures == graph.selectedFeatures)
        #expect(back.graph.logitTargets == graph.logitTargets)
        #expect(back.graph.tokenStrings == graph.tokenStrings)
        #expect(back.pruning.nodeMask == pruning.nodeMask && back.pruning.edgeMask == pruning.edgeMask)
        #expect(back.scores == scores)

        // The names are circuit-tracer's: the golden arrays compare directly.
        let f = try HDF5File.open(url)
        defer { f.close() }
        for name in ["adjacency_matrix", "activation_values", "logit_probabilities", "prune/node_influence", "prune/cumulative_scores"] {
            #expect(try f.read(Float.self, at: name).values == (try run.array(name).floats), "\(run): \(name)")
        }
        for name in ["input_tokens", "active_features", "selected_features", "logit_token_ids"] {
            let stored = try f.read(Int64.self, at: name)
            let golden = try run.array(name)
            #expect(stored.values.map(Int.init) == golden.ints && stored.shape == golden.shape, "\(run): \(name)")
        }
        for name in ["prune/node_mask", "prune/edge_mask"] {
            #expect(try f.readBools(at: name).values == (try run.array(name).bools), "\(run): \(name)")
        }
        #expect(try f.attribute("replacement_score", as: Double.self) == scores.replacement)
    }
}
