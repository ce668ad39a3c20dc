import Foundation
import Testing
import TestSupport
@testable import Tracer

/// The synthetic Llama and Gemma-2 models of `circuits bench attribution`: published shapes,
/// bf16 storage, and attribution on them against the naive float64 oracle.
@Suite struct SyntheticModelTests {
    /// The presets' weight counts equal the published models' (embedding counted once).
    @Test(arguments: [(SyntheticModel.Preset.llama32_1B, 1_235_814_400), (.gemma2_2B, 2_614_341_888), (.gpt2Small, 124_439_808)])
    func presetsHavePublishedParameterCounts(preset: SyntheticModel.Preset, published: Int) {
        #expect(preset.shape.parameterCount == published, "\(preset.rawValue)")
    }

    @Test func presetConfigsCarryTheirArchitecture() throws {
        let llama = try ModelConfig(json: SyntheticModel.configJSON(SyntheticModel.Preset.llama32_1B.shape), file: "llama")
        #expect(llama.family == .llama && llama.nKVHeads == 8 && llama.dHead == 64 && llama.dMLP == 8192 && llama.tiedEmbeddings)
        #expect(llama.positional == .rotary(theta: 500000, scaling: .init(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)))
        let gemma = try ModelConfig(json: SyntheticModel.configJSON(SyntheticModel.Preset.gemma2_2B.shape), file: "gemma")
        #expect(gemma.family == .gemma2 && gemma.nKVHeads == 4 && gemma.dHead == 256 && gemma.hasPostNorms)
        #expect(gemma.attentionSoftcap == 50 && gemma.finalLogitSoftcap == 30 && gemma.attentionScale == 1 / 16)
        #expect(gemma.slidingWindow.prefix(4) == [4096, nil, 4096, nil] && gemma.embeddingScale == Float(2304.0.squareRoot()))
    }

    @Test func normalFillIsSeededRoundedAndNormal() {
        let a = NormalFill.normals(1_000_001, std: 0.5, seed: 9, storage: .bf16)
        #expect(a == NormalFill.normals(1_000_001, std: 0.5, seed: 9, storage: .bf16))
        #expect(a != NormalFill.normals(1_000_001, std: 0.5, seed: 10, storage: .bf16))
        #expect(a.allSatisfy { $0.bitPattern & 0xFFFF == 0 }, "not bf16 values")
        let f = NormalFill.normals(1_000_001, std: 0.5, seed: 9, storage: .f32)
        // bf16 rounding (8 significant bits): relative error ≤ 2⁻⁸ of the f32 draw.
        #expect(zip(a, f).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-8 })
        let mean = f.reduce(0.0) { $0 + Double($1) } / Double(f.count)
        let variance = f.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(f.count)
        #expect(abs(mean) < 3e-3 && abs(variance.squareRoot() - 0.5) < 3e-3, "mean \(mean), std \(variance.squareRoot())")
        #expect(NormalFill.round(1 + 0x1p-9, .bf16) == 1 && NormalFill.round(1 + 0x1.8p-8, .bf16) == 1 + 0x1p-7)
    }

    /// Small Llama and Gemma-2 shapes with bf16 weights (GQA, d_head ≠ d_model/heads, tied
    /// embedding kept once): every weight is a bf16 value, and attribution matches the oracle.
    @Test(arguments: [SyntheticModel.Architecture.llama, .gemma2])
    func gatedSyntheticModelsMatchOracle(arch: SyntheticModel.Architecture) throws {
        var s = SyntheticModel.Shape()
        s.architecture = arch
        (s.nLayers, s.dModel, s.nHeads, s.nKVHeads, s.dHead, s.dMLP, s.nVocab, s.nCtx) = (3, 64, 4, 2, 24, 160, 300, 64)
        (s.dTranscoder, s.activePerSlot, s.weightStorage) = (256, 12, .bf16)
        let model = try SyntheticModel.transformer(s, seed: 21)
        #expect(model.config.family == (arch == .llama ? .llama : .gemma2))
        #expect(model.weights.embedding.isEmpty && model.weights.unembedding.count == 64 * 300)
        var all: [[Float]] = [model.weights.unembedding, model.weights.lnFinal.weight]
        for lw in model.weights.layers {
            let tensors: [[Float]] = [lw.wQ, lw.wK, lw.wV, lw.wO, lw.wIn, lw.wUp ?? [], lw.wOut, lw.ln1.weight, lw.ln2.weight]
            all += tensors
        }
        #expect(all.allSatisfy { t in t.allSatisfy { $0.bitPattern & 0xFFFF == 0 } }, "weights are not bf16 values")
        #expect(model.weights.embeddingRow(7) == (0..<64).map { model.weights.unembedding[$0 * 300 + 7] })
        var rng = SeededRandom(seed: 22)
        func prompt() -> [Int] { [0] + (0..<12).map { _ in 2 + Int(rng.next() % 298) } }
        let tc = try SyntheticModel.transcoders(s, model: model, calibration: (0..<8).map { _ in prompt() }, seed: 23)
        try OracleTests.compare(ReplacementModel(model: model, transcoders: tc), tokens: prompt(), sample: 60, label: "synthetic \(arch)")
    }
}
