import Foundation
import Tokenizers
import Storage
import TestSupport
import Tracer
@testable import Training

/// The bundled 4-layer GPT-2 (`models/interim/model`, d_model 64, vocab 128) and a small
/// seeded corpus of random word sequences over its vocabulary.
enum TrainingFixture {
    static let words = ["the", "a", "and", "but", "because", "so", "then", "when", "if", "of", "to", "in", "on", "with",
                        "cat", "dog", "bird", "fish", "lion", "tiger", "mat", "rug", "bed", "house", "tree", "river", "road",
                        "sat", "ran", "slept", "ate", "saw", "found", "was", "is", "it", "he", "she", "they", "tired", "happy",
                        "big", "red", "old", "quickly", "very", "not", "one", "two", "three", "w3", "w7", "w12", "w20"]

    /// `count` prompts of 6–15 words, the same for a given seed.
    static func corpus(count: Int = 150, seed: UInt64 = 7) -> Corpus {
        var rng = SeededRandom(seed: seed)
        let prompts = (0..<count).map { i in
            PromptItem(id: "p\(i)", text: (0..<(6 + rng.below(10))).map { _ in words[rng.below(words.count)] }.joined(separator: " "))
        }
        return Corpus(prompts: prompts)
    }

    static func load() throws -> (model: Transformer, tokenizer: Tokenizer, prompts: [[Int]]) {
        let model = try Transformer(directory: InterimModel.model)
        let tokenizer = try Tokenizer(modelDirectory: InterimModel.model)
        let (prompts, skipped) = ActivationStream.tokenize(corpus(), tokenizer: tokenizer, maxTokens: model.config.nCtx, nVocab: model.config.nVocab)
        precondition(skipped == 0)
        return (model, tokenizer, prompts)
    }

    /// Small, fast options (debug builds run the tests).
    static func options(_ kind: TrainingOptions.Kind, _ activation: TrainingOptions.ActivationKind, width: Int = 64, k: Int? = nil,
                        steps: Int) -> TrainingOptions {
        var o = TrainingOptions(kind: kind, width: width, activation: activation, k: k)
        o.steps = steps
        o.batchTokens = 128
        o.bufferTokens = 1024
        o.warmupSteps = 10
        o.learningRate = 3e-3
        o.deadWindowTokens = 2000
        o.resampleEvery = 100
        o.checkpointEvery = 0
        o.evaluationTokens = 1024
        return o
    }
}
