import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Transcoder encoding, active features and error vectors against the goldens, case by case.
@Suite struct FeatureActivationsTests {
    @Test(arguments: referenceCases())
    func activationsMatchGoldens(run: ReferenceRun) throws {
        let model = try Transformer(directory: run.modelDir)
        let tc = try TranscoderSet(directory: run.transcoderDir, nLayers: model.config.nLayers, dModel: model.config.dModel)
        let rec = try model.forward(tokens: try run.array("input_tokens").ints)
        let acts = try FeatureActivations(record: rec, transcoders: tc, keepPreactivations: true)

        let golden = try run.array("active_features").ints
        let ours = acts.activeFeatures.flatMap { [$0.layer, $0.pos, $0.index] }
        #expect(ours == golden, "\(run): active features differ (\(acts.count) vs \(golden.count / 3))")
        let values = closeness(acts.values, try run.array("activation_values").floats, absScale: 2e-6, rel: 1e-4)
        #expect(values.ok, "\(run) activation_values: \(values)")
        for (name, ours) in [("feature_input", acts.inputs.flatMap { $0 }), ("feature_preacts", acts.preactivations.flatMap { $0 }),
                             ("error_vectors", acts.errors.flatMap { $0 })] where run.hasArray("debug/" + name) {
            let c = closeness(ours, try run.array("debug/" + name).floats, absScale: 2e-6, rel: 1e-4)
            #expect(c.ok, "\(run) debug/\(name): \(c)")
        }
    }
}
