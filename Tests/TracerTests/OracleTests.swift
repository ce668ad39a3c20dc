import Foundation
import Testing
import TestSupport
@testable import Tracer

/// The optimised backward passes (batched, layer-sorted, position-truncated, multi-threaded,
/// all-head GEMMs) against the naive float64 oracle, within 1e-4 relative.
@Suite struct OracleTests {
    static func compare(_ rm: ReplacementModel, tokens: [Int], sample: Int, label: String) throws {
        let record = try rm.model.forward(tokens: tokens)
        let features = try FeatureActivations(record: record, transcoders: rm.transcoders)
        let c = rm.model.config
        let logits = LogitTargets(logits: record.lastLogits, unembedding: rm.model.weights.unembedding, dModel: c.dModel,
                                  softcap: c.finalLogitSoftcap, maxLogits: 3, desiredProbability: 0.95, tokenText: { "\($0)" })
        // Every logit and an even spread of features, run together as one mixed batch.
        let step = max(1, features.count / sample)
        let targets: [AttributionTarget] = (0..<logits.targets.count).map { .logit(rank: $0) }
            + stride(from: 0, to: features.count, by: step).map { .feature(features.activeFeatures[$0]) }
        let fast = LinearisedBackward(model: rm.model, transcoders: rm.transcoders, record: record, features: features,
                                      logitDirections: logits.directions)
        var rows = [Float](repeating: 0, count: targets.count * fast.nColumns)
        rows.withUnsafeMutableBufferPointer { fast.computeRows(targets, into: $0.baseAddress!) }
        let naive = naiveRows(model: rm.model, transcoders: rm.transcoders, record: record, features: features,
                              logitDirections: logits.directions, targets: targets)
        let expected = naive.flatMap { $0.map(Float.init) }
        let cmp = closeness(rows, expected, absScale: 1e-6, rel: 1e-4)
        #expect(cmp.ok, "\(label): \(cmp)")
    }

    @Test(arguments: referenceCases())
    func referenceCasesMatchOracle(run: ReferenceRun) throws {
        let rm = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        try Self.compare(rm, tokens: try run.array("input_tokens").ints, sample: 40, label: "\(run)")
    }

    @Test(arguments: [(3, 64, 4, 10), (2, 96, 6, 17)])
    func syntheticModelsMatchOracle(shape: (Int, Int, Int, Int)) throws {
        var s = SyntheticModel.Shape()
        (s.nLayers, s.dModel, s.nHeads, s.nVocab, s.dTranscoder, s.activePerSlot, s.nCtx) = (shape.0, shape.1, shape.2, 300, 256, 12, 64)
        let model = try SyntheticModel.transformer(s, seed: 11)
        var rng = SeededRandom(seed: 12)
        func prompt() -> [Int] { [299] + (0..<shape.3).map { _ in Int(rng.next() % 299) } }
        let tc = try SyntheticModel.transcoders(s, model: model, calibration: (0..<8).map { _ in prompt() }, seed: 13)
        try Self.compare(ReplacementModel(model: model, transcoders: tc), tokens: prompt(), sample: 60, label: "synthetic \(shape)")
    }
}
