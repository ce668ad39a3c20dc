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
        #expect(result.edgeMask.dense() == edgeMask, "\(run): edge mask differs in \(zip(result.edgeMask.dense(), edgeMask).filter { $0 != $1 }.count) edges")
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
        let edgeFlips = zip(result.edgeMask.dense(), try run.array("prune/edge_mask").bools).filter { $0 != $1 }.count
        #expect(nodeFlips <= 2 && edgeFlips <= 10, "\(run): \(nodeFlips) node and \(edgeFlips) edge mask flips")
    }
}

/// The one-pass analysis against the direct transcription (power iteration, full sorts).
@Suite struct FastPruningTests {
    @Test(arguments: referenceRuns(), [0.0, 0.5, 0.8, 1.0])
    func analyzeMatchesNaive(run: ReferenceRun, threshold: Double) throws {
        let graph = try goldenGraph(run).graph
        let fast = try analyze(graph, nodeThreshold: threshold, edgeThreshold: threshold == 0.8 ? 0.98 : threshold)
        let naive = try naivePrune(graph, nodeThreshold: threshold, edgeThreshold: threshold == 0.8 ? 0.98 : threshold)
        #expect(fast.pruning.nodeMask == naive.nodeMask, "\(run) @\(threshold): node masks")
        #expect(fast.pruning.edgeMask == naive.edgeMask, "\(run) @\(threshold): edge masks")
        let infl = closeness(fast.pruning.nodeInfluence, naive.nodeInfluence, absScale: 1e-6, rel: 1e-4)
        #expect(infl.ok, "\(run): influence \(infl)")
        let scores = try naiveScores(graph)
        #expect(abs(fast.scores.replacement - scores.replacement) < 1e-6 && abs(fast.scores.completeness - scores.completeness) < 1e-6)
    }

    /// A graph whose edges go against the layer order falls back to the naive path.
    @Test func nonLayeredGraphFallsBack() throws {
        var graph = try goldenGraph(try firstReferenceRun()).graph
        // feature 0 → feature 1 and feature 1 → feature 0 would be a cycle; one edge from a
        // lower-layer target to a higher-layer source breaks the order without a cycle.
        let last = graph.layout.featureRange.upperBound - 1
        graph.adjacency[0, last] = 0.5
        let fast = try analyze(graph)
        let naive = try naivePrune(graph)
        #expect(fast.pruning.nodeMask == naive.nodeMask && fast.pruning.edgeMask == naive.edgeMask)
    }

    @Test func cumulativeThresholdMatchesSort() {
        var rng = SeededRandom(seed: 3)
        let values = (0..<20000).map { _ in abs(rng.normal()) * (rng.next() % 3 == 0 ? 100 : 1) }
        for t in [0.1, 0.5, 0.8, 0.98, 0.999, 1.0] {
            let fast = cumulativeThreshold(forEach: { body in values.forEach(body) }, zeros: 5, threshold: t)
            #expect(fast == cumulativeThreshold(values + [0, 0, 0, 0, 0], t), "threshold \(t)")
        }
    }
}
