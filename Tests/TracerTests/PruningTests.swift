import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Pruning, influence and scores against circuit-tracer, run on the golden adjacency.
@Suite struct PruningTests {
    /// The golden graph: the golden adjacency with its node layout (labels are not needed here).
    static func goldenAdjacencyGraph(_ run: ReferenceRun) throws -> AttributionGraph {
        let af = try run.array("active_features").ints
        let active = stride(from: 0, to: af.count, by: 3).map { ActiveFeature(layer: af[$0], pos: af[$0 + 1], index: af[$0 + 2]) }
        let tokens = try run.array("input_tokens").ints
        let probs = try run.array("logit_probabilities").floats
        let ids = try run.array("logit_token_ids").ints
        let selected = try run.array("selected_features").ints
        // N = nSelected + (nLayers + 1)·nPos + nLogits
        let n = try run.array("adjacency_matrix").shape[0]
        let nLayers = (n - selected.count - ids.count) / tokens.count - 1
        return AttributionGraph(inputTokens: tokens, tokenStrings: tokens.map { "\($0)" }, activeFeatures: active,
                                activationValues: try run.array("activation_values").floats,
                                selectedFeatures: selected,
                                logitTargets: zip(ids, probs).map { LogitTarget(tokenId: $0, token: "\($0)", probability: $1) },
                                nLayers: nLayers, adjacency: try run.array("adjacency_matrix").floats)
    }

    @Test(arguments: referenceRuns().filter { $0.hasArray("prune/node_mask") })
    func pruningOnGoldenAdjacency(run: ReferenceRun) throws {
        let graph = try Self.goldenAdjacencyGraph(run)
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
        let scores = try GraphScores(try Self.goldenAdjacencyGraph(run))
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
