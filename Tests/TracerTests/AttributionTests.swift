import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Whole attribution graphs against circuit-tracer's goldens: every case and variant.
@Suite struct AttributionTests {
    @Test(arguments: referenceRuns())
    func adjacencyMatchesGoldens(run: ReferenceRun) throws {
        try check(run, options: run.attributionOptions)
    }

    /// The long-prompt paths on the same cases: one target per backward pass, every visited row
    /// spilled to the temporary file, decoder vectors read per slot instead of cached.
    @Test(arguments: referenceRuns())
    func smallBudgetsMatchGoldens(run: ReferenceRun) throws {
        var options = run.attributionOptions
        options.workerMemoryBytes = 0
        options.rowMemoryBytes = 0
        options.decoderCacheBytes = 0
        try check(run, options: options)
    }

    func check(_ run: ReferenceRun, options: AttributionOptions) throws {
        let rm = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tokens = try run.array("input_tokens").ints
        var t = PhaseTimings()
        let g = try rm.attribute(tokens: tokens, options: options, timings: &t)

        #expect(g.inputTokens == tokens)
        #expect(g.activeFeatures.flatMap { [$0.layer, $0.pos, $0.index] } == (try run.array("active_features").ints), "\(run): active features")
        #expect(g.selectedFeatures == (try run.array("selected_features").ints), "\(run): selected features")
        #expect(g.logitTargets.map(\.tokenId) == (try run.array("logit_token_ids").ints), "\(run): logit targets")
        let probs = closeness(g.logitProbabilities, try run.array("logit_probabilities").floats, absScale: 0, rel: 1e-5)
        #expect(probs.ok, "\(run) logit_probabilities: \(probs)")
        let golden = try run.array("adjacency_matrix")
        #expect(golden.shape == [g.layout.count, g.layout.count], "\(run): adjacency shape")
        // README §7: |Δ| ≤ 5e-6·max|A| + 1e-3·|A_ref|
        let c = closeness(g.adjacency.dense(), golden.floats, absScale: 5e-6, rel: 1e-3)
        #expect(c.ok, "\(run) adjacency: \(c)")
    }
}
