import Foundation
import Storage
import Testing
import TestSupport
import Tracer
@testable import Training

/// Trained transcoders written in circuit-tracer's native layout and read back by the engine
/// (`TranscoderSet(directory:)` → `FeatureActivations`) give the activations and
/// reconstructions of the trained parameters, for every kind × activation.
@Suite struct TranscoderExportTests {
    struct Case: CustomStringConvertible, Sendable {
        var kind: TrainingOptions.Kind
        var activation: TrainingOptions.ActivationKind
        var k: Int? = nil
        var skip = false
        var hook = TranscoderConfig.InputHook.residMid
        var description: String { "\(kind.rawValue) \(activation.rawValue)\(k.map { " k=\($0)" } ?? "")\(skip ? " skip" : "") \(hook.rawValue)" }
    }

    static let cases: [Case] = [
        Case(kind: .plt, activation: .relu),
        Case(kind: .plt, activation: .relu, skip: true, hook: .ln2Normalized),
        Case(kind: .plt, activation: .jumprelu, hook: .mlpIn),
        Case(kind: .plt, activation: .topk, k: 8),
        Case(kind: .clt, activation: .relu),
        Case(kind: .clt, activation: .jumprelu),
        Case(kind: .clt, activation: .topk, k: 8),
    ]

    @Test(arguments: cases)
    func exportedTranscodersReproduceTrainedActivations(_ c: Case) throws {
        let (model, tokenizer, prompts) = try TrainingFixture.load()
        var options = TrainingFixture.options(c.kind, c.activation, width: 48, k: c.k, steps: 20)
        options.skip = c.skip
        options.inputHook = c.hook.rawValue
        let training = try TranscoderTraining(options: options, model: model, prompts: prompts)
        try training.train()
        let report = try training.evaluate()
        #expect(report.meanFVU.isFinite && report.meanFVU < 1, "\(c): FVU \(report.meanFVU)")

        let scratch = try ScratchFolder("train-export")
        defer { scratch.remove() }
        try training.export(to: scratch.url, modelName: "interim")
        let loaded = try TranscoderSet(directory: scratch.url, nLayers: model.config.nLayers, dModel: model.config.dModel)
        #expect(loaded.kind == (c.kind == .plt ? .perLayer : .crossLayer))
        #expect(loaded.inputHook == c.hook)
        #expect(loaded.dTranscoder == 48)
        #expect(loaded.hasSkip == c.skip)
        switch c.activation {
        case .relu: #expect(loaded.activation == .relu)
        case .jumprelu: #expect(loaded.activation == .jumpReLU)
        case .topk: #expect(loaded.activation == .topK(c.k!))
        }

        // One prompt through the engine and through the trainer.
        let tokens = try tokenizer.attributedIds(for: "the tired cat sat on the red rug because it was very happy")
        let record = try model.forward(tokens: tokens)
        let engine = try FeatureActivations(record: record, transcoders: loaded)
        var (x, _) = try training.stream.activations(of: tokens)
        let n = tokens.count - 1, L = model.config.nLayers, d = model.config.dModel, dT = 48
        x.withUnsafeMutableBufferPointer { training.normalization.apply(x: $0.baseAddress!, y: nil, count: n, dModel: d) }
        x.withUnsafeBufferPointer { training.trainer.forward(x: $0.baseAddress!, batch: n) }

        var ours = [Float](), theirs = [Float](repeating: 0, count: L * n * dT)
        for l in 0..<L { ours += training.trainer.activations(layer: l, batch: n) }
        for (f, v) in zip(engine.activeFeatures, engine.values) { theirs[(f.layer * n + f.pos - 1) * dT + f.index] = v }
        let oursActive = ours.indices.filter { ours[$0] != 0 }, theirsActive = theirs.indices.filter { theirs[$0] != 0 }
        #expect(oursActive == theirsActive, "\(c): active features differ (\(oursActive.count) trained vs \(theirsActive.count) loaded)")
        #expect(!oursActive.isEmpty)
        let acts = closeness(theirs, ours, absScale: 1e-6, rel: 1e-5)
        #expect(acts.ok, "\(c): activations \(acts)")

        // Reconstruction: engine mlp_out − error vs trainer ŷ · s_m, positions ≥ 1.
        let recon = Array(training.trainer.reconstruction(batch: n))
        var oursRecon = [Float](), theirsRecon = [Float]()
        for m in 0..<L {
            let s = training.normalization.outputScale[m]
            for t in 0..<n {
                for i in 0..<d {
                    oursRecon.append(recon[(t * L + m) * d + i] * s)
                    theirsRecon.append(record.mlpOut[m][(t + 1) * d + i] - engine.errors[m][(t + 1) * d + i])
                }
            }
        }
        let r = closeness(theirsRecon, oursRecon, absScale: 1e-5, rel: 1e-4)
        #expect(r.ok, "\(c): reconstruction \(r)")
    }

    @Test func configYAMLHasCircuitTracersKeys() throws {
        let shape = TranscoderShape(kind: .plt, activation: .topk, k: 16, nLayers: 2, dModel: 4, dTranscoder: 8)
        let yaml = TranscoderExport.config(shape: shape, inputHook: .ln2Normalized, modelName: "m")
        for line in ["model_kind: transcoder_set", "feature_input_hook: ln2.hook_normalized", "feature_output_hook: hook_mlp_out",
                     "activation: topk", "k: 16"] {
            #expect(yaml.contains(line + "\n"), "config.yaml lacks '\(line)':\n\(yaml)")
        }
        #expect(yaml.contains("scan: "))
    }
}
