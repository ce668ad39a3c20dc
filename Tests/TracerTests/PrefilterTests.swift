// Forced features (a global-weights prefilter) under max_feature_nodes.
import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

@Suite struct PrefilterTests {
    /// The runs whose feature budget leaves features out (`variant_maxfeat64`).
    static var budgetRuns: [ReferenceRun] { referenceRuns().filter { $0.runName.hasPrefix("variant_maxfeat") } }

    @Test(arguments: budgetRuns)
    func forcedFeaturesAreSelectedFirst(run: ReferenceRun) throws {
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tokens = try run.array("input_tokens").ints
        var timings = PhaseTimings()
        let plain = try replacement.attribute(tokens: tokens, options: run.attributionOptions, timings: &timings)
        let selected = Set(plain.selectedFeatures.map { plain.activeFeatures[$0] })
        // Force two (layer, feature)s the influence ranking left out.
        let left = plain.activeFeatures.filter { !selected.contains($0) }
        let forcedIDs = Set(left.suffix(2).map { FeatureID(layer: $0.layer, feature: $0.index) })
        try #require(forcedIDs.count == 2)
        var options = run.attributionOptions
        options.forcedFeatures = forcedIDs
        let forced = try replacement.attribute(tokens: tokens, options: options, timings: &timings)
        let chosen = forced.selectedFeatures.map { forced.activeFeatures[$0] }
        let instances = plain.activeFeatures.filter { forcedIDs.contains(FeatureID(layer: $0.layer, feature: $0.index)) }
        #expect(chosen.count == options.maxFeatureNodes, "the budget holds")
        #expect(Set(instances).isSubset(of: Set(chosen)), "every active instance of a forced feature is in the graph")
        // The rest is still chosen by influence: most of the unforced selection is kept.
        #expect(Set(chosen).intersection(selected).count >= selected.count - instances.count - 8)
        // Without forcing, the selection is circuit-tracer's.
        #expect(plain.selectedFeatures.map(Int64.init) == (try run.array("selected_features").ints.map(Int64.init)))
    }
}
