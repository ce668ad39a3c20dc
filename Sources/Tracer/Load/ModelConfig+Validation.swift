import Foundation

extension ModelConfig {
    /// The largest size (layers, widths, heads, vocabulary, context, sliding window) accepted
    /// from a `config.json`: 2^20, far above any published checkpoint (Llama-3.1-405B: 126
    /// layers, d_model 16384, d_mlp 53248; Gemma-2: vocabulary 256000; 1M-token contexts), and
    /// small enough that the product of any three sizes (`nLayers · nVocab · dModel`) fits in `Int`.
    public static let maximumSize = 1 << 20

    /// Checks every field read from `file` before any buffer is sized from it: sizes in
    /// `1...maximumSize`, heads dividing the model width and grouped-query heads dividing the
    /// heads, an even head dimension for rotary embeddings, positive finite constants.
    /// - Throws: `TracerError.invalidConfig` naming the `config.json` field.
    func validate(file: String, fields f: SizeFieldNames, headDimGiven: Bool) throws {
        func fail(_ why: String) -> TracerError { .invalidConfig(why, file: file) }
        let sizes: [(String, Int)] = [(f.layers, nLayers), (f.dModel, dModel), (f.heads, nHeads), (f.kvHeads, nKVHeads),
                                      (f.dHead, dHead), (f.dMLP, dMLP), (f.vocab, nVocab), (f.context, nCtx)]
        for (name, value) in sizes where !(1...Self.maximumSize).contains(value) {
            throw fail("\(name) is \(value); it must be an integer from 1 to \(Self.maximumSize)")
        }
        if !headDimGiven, dModel % nHeads != 0 {
            throw fail("\(f.dModel) (\(dModel)) is not divisible by \(f.heads) (\(nHeads)): the head dimension would not be whole")
        }
        guard nHeads % nKVHeads == 0 else {
            throw fail("\(f.heads) (\(nHeads)) is not divisible by \(f.kvHeads) (\(nKVHeads)): each key/value head must serve a whole group of query heads")
        }
        if case let .rotary(theta, scaling) = positional {
            guard dHead % 2 == 0 else { throw fail("\(f.dHead) (\(dHead)) must be even for rotary embeddings") }
            guard theta.isFinite, theta > 0 else { throw fail("rope_theta (\(theta)) must be a positive finite number") }
            if let s = scaling {
                for (name, v) in [("factor", s.factor), ("low_freq_factor", s.lowFreqFactor), ("high_freq_factor", s.highFreqFactor),
                                  ("original_max_position_embeddings", s.originalMaxPositions)] where !(v.isFinite && v > 0) {
                    throw fail("rope_scaling.\(name) (\(v)) must be a positive finite number")
                }
                guard s.highFreqFactor > s.lowFreqFactor else {
                    throw fail("rope_scaling.high_freq_factor (\(s.highFreqFactor)) must exceed low_freq_factor (\(s.lowFreqFactor))")
                }
            }
        }
        guard normEps.isFinite, normEps >= 0 else { throw fail("the norm epsilon (\(normEps)) must be a finite number ≥ 0") }
        guard attentionScale.isFinite, attentionScale > 0 else {
            throw fail("the attention scale (\(attentionScale), from the head dimension or query_pre_attn_scalar) must be positive and finite")
        }
        for (name, cap) in [("attn_logit_softcapping", attentionSoftcap), ("final_logit_softcapping", finalLogitSoftcap)] {
            if let cap, !(cap.isFinite && cap > 0) { throw fail("\(name) (\(cap)) must be a positive finite number (or null)") }
        }
        if let w = slidingWindow.lazy.compactMap({ $0 }).first, !(1...Self.maximumSize).contains(w) {
            throw fail("sliding_window is \(w); it must be an integer from 1 to \(Self.maximumSize)")
        }
    }

    /// The `config.json` names of the sizes, per family, for error messages.
    struct SizeFieldNames {
        var layers, dModel, heads, kvHeads, dHead, dMLP, vocab, context: String

        static let gpt2 = SizeFieldNames(layers: "n_layer", dModel: "n_embd", heads: "n_head", kvHeads: "n_head",
                                         dHead: "n_embd / n_head", dMLP: "4 · n_embd", vocab: "vocab_size", context: "n_ctx")
        static let llama = SizeFieldNames(layers: "num_hidden_layers", dModel: "hidden_size", heads: "num_attention_heads",
                                          kvHeads: "num_key_value_heads", dHead: "head_dim", dMLP: "intermediate_size",
                                          vocab: "vocab_size", context: "max_position_embeddings")
    }
}
