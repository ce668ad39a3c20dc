import Foundation
import TestSupport
@testable import Tracer

/// The models the EAP tests run on: every reference case's (GPT-2, Llama, Gemma-2), the
/// Qwen3 and rope-scaled Llama fixtures, and the demo model; and a seeded prompt pair for each.
enum EAPFixtures {
    static let models: [String] = referenceCases().map(\.caseName) + ["qwen3_tiny", "llama_rope_scaled", "demo"]

    static func directory(_ name: String) -> URL {
        switch name {
        case "qwen3_tiny", "llama_rope_scaled": return repositoryRoot.appendingPathComponent("Tests/Fixtures/models/\(name)")
        case "demo": return repositoryRoot.appendingPathComponent("models/demo/model")
        default:
            return referenceCases().first { $0.caseName == name }!.modelDir
        }
    }

    static func model(_ name: String) throws -> Transformer { try Transformer(directory: directory(name)) }

    /// A pair of `nPos` random tokens whose prompts differ at two positions, with distinct random
    /// answer and wrong tokens.
    static func pair(_ model: Transformer, nPos: Int = 7, seed: UInt64 = 1) -> PromptPair {
        var rng = SeededRandom(seed: seed)
        let V = model.config.nVocab
        let clean = (0..<nPos).map { _ in rng.below(V) }
        var corrupt = clean
        for p in [2, nPos - 1] { corrupt[p] = (clean[p] + 1 + rng.below(V - 1)) % V }
        let answer = rng.below(V)
        return PromptPair(id: "seed-\(seed)", clean: clean, corrupt: corrupt, answer: answer, wrong: (answer + 1 + rng.below(V - 1)) % V)
    }
}
