import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Architectures no reference case covers, against Hugging Face `transformers` itself:
/// `Tests/Fixtures/models/make_models.py` saved tiny seeded Qwen3 (per-head q/k RMSNorm, GQA,
/// head_dim ≠ d_model/heads, tied embeddings) and Llama with Llama-3 `rope_scaling` models with
/// the logits of HF's forward pass in float64. Ours (float32) must agree to 1e-4.
@Suite struct ModelFixtureTests {
    static let root = repositoryRoot.appendingPathComponent("Tests/Fixtures/models")
    static let fixtures = ["qwen3_tiny", "llama_rope_scaled"]

    static func logits(_ dir: URL, tokens: [Int]) throws -> [Float] {
        try Transformer(directory: dir).forward(tokens: tokens, allLogits: true).allLogits
    }

    @Test(arguments: fixtures)
    func logitsMatchTransformers(name: String) throws {
        let dir = Self.root.appendingPathComponent(name)
        let tokens = try NumPyArray(contentsOf: dir.appendingPathComponent("tokens.npy")).ints
        let expected = try NumPyArray(contentsOf: dir.appendingPathComponent("logits.npy")).floats
        let ours = try Self.logits(dir, tokens: tokens)
        let c = closeness(ours, expected, absScale: 0, rel: 0)
        #expect(ours.count == expected.count && c.maxAbsDiff <= 1e-4, "\(name): \(c)")
    }

    /// The fixtures exercise what they are for: without q/k norms, or without the rope scaling,
    /// the logits move far beyond the tolerance.
    @Test func fixturesExerciseQKNormAndRopeScaling() throws {
        let qwen = Self.root.appendingPathComponent("qwen3_tiny")
        var qc = try ModelConfig(directory: qwen)
        #expect(qc.hasQKNorm && qc.tiedEmbeddings && qc.dHead == 16 && qc.nKVHeads == 2)
        qc.hasQKNorm = false
        let qTokens = try NumPyArray(contentsOf: qwen.appendingPathComponent("tokens.npy")).ints
        let qExpected = try NumPyArray(contentsOf: qwen.appendingPathComponent("logits.npy")).floats
        let noNorm = try Transformer(weights: TransformerWeights(directory: qwen, config: qc)).forward(tokens: qTokens, allLogits: true)
        #expect(closeness(noNorm.allLogits, qExpected, absScale: 0, rel: 0).maxAbsDiff > 1e-2)

        let llama = Self.root.appendingPathComponent("llama_rope_scaled")
        var lc = try ModelConfig(directory: llama)
        guard case let .rotary(theta, scaling?) = lc.positional else {
            Issue.record("llama_rope_scaled has no rope scaling in its config"); return
        }
        #expect(theta == 500000 && scaling.factor == 8 && scaling.originalMaxPositions == 64)
        // All three regimes of the Llama-3 rule occur among the 8 frequencies.
        let plain = rotaryInverseFrequencies(dHead: lc.dHead, theta: theta, scaling: nil)
        let scaled = rotaryInverseFrequencies(dHead: lc.dHead, theta: theta, scaling: scaling)
        let ratios = zip(scaled, plain).map { $0 / $1 }
        #expect(ratios.contains { abs($0 - 1) < 1e-12 } && ratios.contains { abs($0 - 1 / 8) < 1e-12 }
                && ratios.contains { $0 > 1 / 8 + 1e-6 && $0 < 1 - 1e-6 }, "ratios \(ratios)")
        lc.positional = .rotary(theta: theta, scaling: nil)
        let lTokens = try NumPyArray(contentsOf: llama.appendingPathComponent("tokens.npy")).ints
        let lExpected = try NumPyArray(contentsOf: llama.appendingPathComponent("logits.npy")).floats
        let unscaled = try Transformer(weights: TransformerWeights(directory: llama, config: lc)).forward(tokens: lTokens, allLogits: true)
        #expect(closeness(unscaled.allLogits, lExpected, absScale: 0, rel: 0).maxAbsDiff > 1e-2)
    }

    /// Published Llama-3 configs spell `rope_theta` + `rope_scaling`; transformers ≥ 5 writes one
    /// `rope_parameters` object. Both give the same model.
    @Test func ropeScalingSpellingsAgree() throws {
        let src = Self.root.appendingPathComponent("llama_rope_scaled")
        let scratch = try ScratchFolder("rope"), dir = scratch.url
        defer { scratch.remove() }
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as? [String: Any])
        var params = try #require(json.removeValue(forKey: "rope_parameters") as? [String: Any])
        json["rope_theta"] = params.removeValue(forKey: "rope_theta")
        json["rope_scaling"] = params
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: src.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("model.safetensors"))
        #expect(try ModelConfig(directory: dir).positional == ModelConfig(directory: src).positional)
        let tokens = try NumPyArray(contentsOf: src.appendingPathComponent("tokens.npy")).ints
        #expect(try Self.logits(dir, tokens: tokens) == Self.logits(src, tokens: tokens))
        // An unsupported scaling type names the field and the file.
        json["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0]
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        #expect { try ModelConfig(directory: dir) } throws: { e in "\(e)".contains("yarn") && "\(e)".contains("config.json") }
    }
}
