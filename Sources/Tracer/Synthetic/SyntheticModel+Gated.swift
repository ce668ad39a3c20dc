import Foundation

extension SyntheticModel {
    /// The `config.json` fields of a Llama-3 or Gemma-2 architecture model of shape `s`, as the
    /// published configs spell them (Llama-3.2-1B: rope theta 500000 with llama3 scaling,
    /// tied embeddings; Gemma-2-2B: softcaps 50/30, query_pre_attn_scalar 256, sliding window
    /// 4096 on alternate layers).
    static func configJSON(_ s: Shape) -> [String: Any] {
        var json: [String: Any] = [
            "num_hidden_layers": s.nLayers, "hidden_size": s.dModel, "num_attention_heads": s.nHeads,
            "num_key_value_heads": s.kvHeads, "head_dim": s.headDim, "intermediate_size": s.mlpWidth,
            "vocab_size": s.nVocab, "max_position_embeddings": s.nCtx, "bos_token_id": 0, "eos_token_id": 1,
            "tie_word_embeddings": true,
        ]
        switch s.architecture {
        case .gpt2:
            break
        case .llama:
            json["architectures"] = ["LlamaForCausalLM"]
            json["hidden_act"] = "silu"
            json["rms_norm_eps"] = 1e-5
            json["rope_theta"] = 500000.0
            json["rope_scaling"] = ["rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192]
        case .gemma2:
            json["architectures"] = ["Gemma2ForCausalLM"]
            json["hidden_activation"] = "gelu_pytorch_tanh"
            json["rms_norm_eps"] = 1e-6
            json["rope_theta"] = 10000.0
            json["attn_logit_softcapping"] = 50.0
            json["final_logit_softcapping"] = 30.0
            json["query_pre_attn_scalar"] = 256
            json["sliding_window"] = 4096
        }
        return json
    }

    /// A Llama- or Gemma-2-architecture model: RMSNorm, rotary, grouped-query attention, gated MLP.
    ///
    /// Every weight is drawn with `NormalFill` and rounded to `s.weightStorage` (bf16: the values
    /// of a bf16 checkpoint, computed in float32). The tied embedding is kept once, as the
    /// unembedding `[dModel, nVocab]`. Draws: q, k, v `N(0, 2/d)`, o `N(0, 1/(H·dHead))`, gate and
    /// up `N(0, 1/d)`, down `N(0, 1/dMLP)`, embedding `N(0, 16/d)`, effective norm weights
    /// `1 + N(0, 0.01)`.
    static func gatedTransformer(_ s: Shape, seed: UInt64) throws -> Transformer {
        let config = try ModelConfig(json: configJSON(s), file: "<synthetic \(s.architecture.rawValue) model>")
        var seeds = SeededRandom(seed: seed)
        let st = s.weightStorage
        func draw(_ count: Int, std: Float) -> [Float] { NormalFill.normals(count, std: std, seed: seeds.next(), storage: st) }
        func norm(_ size: Int) -> NormWeights {
            NormWeights(weight: draw(size, std: 0.1).map { NormalFill.round(1 + $0, st) }, bias: nil)
        }
        let d = s.dModel, m = s.mlpWidth, qDim = s.nHeads * s.headDim, kvDim = s.kvHeads * s.headDim
        let gemma = s.architecture == .gemma2
        let layers = (0..<s.nLayers).map { _ in
            LayerWeights(ln1: norm(d),
                         wQ: draw(d * qDim, std: (2 / Float(d)).squareRoot()),      // [d, H·dHead]
                         wK: draw(d * kvDim, std: (2 / Float(d)).squareRoot()),     // [d, KV·dHead]
                         wV: draw(d * kvDim, std: (2 / Float(d)).squareRoot()),     // [d, KV·dHead]
                         bQ: nil, bK: nil, bV: nil, qNorm: nil, kNorm: nil,
                         wO: draw(qDim * d, std: (1 / Float(qDim)).squareRoot()),   // [H·dHead, d]
                         bO: nil,
                         postAttentionNorm: gemma ? norm(d) : nil,
                         ln2: norm(d),
                         wIn: draw(d * m, std: (1 / Float(d)).squareRoot()),        // gate [d, dMLP]
                         bIn: nil,
                         wUp: draw(d * m, std: (1 / Float(d)).squareRoot()),        // up [d, dMLP]
                         wOut: draw(m * d, std: (1 / Float(m)).squareRoot()),       // down [dMLP, d]
                         bOut: nil,
                         postMLPNorm: gemma ? norm(d) : nil)
        }
        let weights = TransformerWeights(config: config, embedding: [], positionEmbedding: nil, layers: layers, lnFinal: norm(d),
                                         unembedding: draw(d * s.nVocab, std: 4 / Float(d).squareRoot()),  // [d, nVocab]
                                         unembeddingBias: nil)
        return Transformer(weights: weights)
    }
}
