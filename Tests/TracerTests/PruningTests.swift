import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Pruning, influence and scores against circuit-tracer, run on the golden adjacency.
@Suite struct PruningTests {
    @Test(arguments: referenceRuns().filter { $0.hasArray("prune/node_mask") })
    func pruningOnGoldenAdjacency(run: ReferenceRun) throws {
        let graph = try goldenGraph(run).graph
        let result = try prune(graph)
        let influence = closeness(result.nodeInfluence, try run.array("prune/node_influence").floats, absScale: 1e-6, rel: 1e-4)
        #expect(influence.ok, "\(run) node influence: \(influence)")
        let nodeMask = try run.array("prune/node_mask").bools
        let edgeMask = try run.array("prune/edge_mask").bools
        #expect(result.nodeMask == nodeMask, "\(run): node mask differs in \(zip(result.nodeMask, nodeMask).filter { $0 != $1 }.count) nodes")
        #expect(result.edgeMask == edgeMask, "\(run): edge mask differs in \(zip(result.edgeMask, edgeMask).filter { $0 != $1 }.count) edges")
        let cumulative = closeness(result.cumulativeScores, try run.array("prune/cumulative_scores").floats, absScale: 1e-6, rel: 1e-5)
        #expect(cumulative.ok, "\(run) cumulative scores: \(cumulative)")
    }

    @Test(arguments: referenceRuns())
    func scoresOnGoldenAdjacency(run: ReferenceRun) throws {
        let scores = try GraphScores(try goldenGraph(run).graph)
        let r = try #require(run.results["replacement_score"] as? Double)
        let c = try #require(run.results["completeness_score"] as? Double)
        #expect(abs(scores.replacement - r) <= 1e-5, "\(run): replacement \(scores.replacement) vs \(r)")
        #expect(abs(scores.completeness - c) <= 1e-5, "\(run): completeness \(scores.completeness) vs \(c)")
    }

    /// End to end: our own adjacency, pruned, against the golden masks (a few threshold flips allowed)
    /// and scores within 1e-5.
    @Test(arguments: referenceRuns())
    func endToEndScoresAndMasks(run: ReferenceRun) throws {
        let rm = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        var t = PhaseTimings()
        let g = try rm.attribute(tokens: try run.array("input_tokens").ints, options: run.attributionOptions, timings: &t)
        let scores = try GraphScores(g)
        let r = try #require(run.results["replacement_score"] as? Double)
        let c = try #require(run.results["completeness_score"] as? Double)
        #expect(abs(scores.replacement - r) <= 1e-5, "\(run): replacement \(scores.replacement) vs \(r)")
        #expect(abs(scores.completeness - c) <= 1e-5, "\(run): completeness \(scores.completeness) vs \(c)")
        guard run.hasArray("prune/node_mask") else { return }
        let result = try prune(g)
        let nodeFlips = zip(result.nodeMask, try run.array("prune/node_mask").bools).filter { $0 != $1 }.count
        let edgeFlips = zip(result.edgeMask, try run.array("prune/edge_mask").bools).filter { $0 != $1 }.count
        #expect(nodeFlips <= 2 && edgeFlips <= 10, "\(run): \(nodeFlips) node and \(edgeFlips) edge mask flips")
    }
}
