import Foundation

/// Everything the engine needs to know about a decoder-only transformer, as explicit fields
/// read from a Hugging Face `config.json`. Behaviour is chosen by these fields, never by
/// sniffing model names.
public struct ModelConfig: Equatable, Sendable {
    public enum Family: String, Sendable { case gpt2, llama, gemma2 }
    public enum NormKind: Sendable, Equatable { case layerNorm, rmsNorm }
    public enum MLPKind: Sendable, Equatable {
        /// `W_out · gelu_tanh(W_in · x + b_in) + b_out` (GPT-2).
        case geluTanh
        /// `W_down · (act(W_gate · x) ⊙ W_up · x)`: SwiGLU (`silu`) or GeGLU (`geluTanh`).
        case gated(GatedActivation)
    }
    public enum GatedActivation: String, Sendable { case silu, geluTanh }
    public enum Positional: Sendable, Equatable {
        /// Learned absolute positions (`wpe`).
        case learned
        /// Rotary embeddings, HF rotate-half layout over the whole head dimension.
        case rotary(theta: Double, scaling: RopeScaling?)
    }
    /// Llama-3 style `rope_scaling` (`rope_type: llama3`).
    public struct RopeScaling: Sendable, Equatable {
        public var factor: Double
        public var lowFreqFactor: Double
        public var highFreqFactor: Double
        public var originalMaxPositions: Double
    }

    public var architecture: String
    public var family: Family
    public var nLayers: Int
    public var dModel: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var dHead: Int
    public var dMLP: Int
    public var nVocab: Int
    public var nCtx: Int
    public var norm: NormKind
    public var normEps: Float
    /// Added to every norm weight: 1 for Gemma's `(1 + w)`, else 0.
    public var normWeightOffset: Float
    public var mlp: MLPKind
    public var positional: Positional
    /// Multiplies attention scores: `1/sqrt(dHead)` or `1/sqrt(query_pre_attn_scalar)`.
    public var attentionScale: Float
    /// `cap · tanh(score / cap)` on attention scores (Gemma-2).
    public var attentionSoftcap: Float?
    /// `cap · tanh(logit / cap)` on the final logits (Gemma-2).
    public var finalLogitSoftcap: Float?
    /// Token embeddings are multiplied by this (Gemma: `sqrt(dModel)`), tokens nodes included.
    public var embeddingScale: Float
    /// Gemma-2's post-attention and post-feed-forward norms.
    public var hasPostNorms: Bool
    /// Qwen3's per-head RMSNorm on queries and keys.
    public var hasQKNorm: Bool
    /// Sliding-window size per layer (nil: full causal attention).
    public var slidingWindow: [Int?]
    /// The unembedding is the transposed token embedding.
    public var tiedEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenId: Int?

    /// Reads `config.json` in `directory`.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { throw TracerError.fileNotFound(url.path, what: "model config") }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] else {
            throw TracerError.malformedFile(url.path, "not a JSON object")
        }
        try self.init(json: json, file: url.path)
    }

    public init(json c: [String: Any], file: String) throws {
        // Integers must be integers (1.5, 1e30 and "8" are errors, not "missing"); ranges
        // are checked once, by `validate`.
        func optionalInt(_ key: String) throws -> Int? {
            guard let raw = c[key], !(raw is NSNull) else { return nil }
            guard let v = raw as? Int else {
                throw TracerError.invalidConfig("\(key) must be an integer, found \(raw)", file: file)
            }
            return v
        }
        func int(_ keys: String...) throws -> Int {
            for k in keys { if let v = try optionalInt(k) { return v } }
            throw TracerError.invalidConfig("missing integer field \(keys.joined(separator: " or "))", file: file)
        }
        func double(_ key: String) -> Double? { (c[key] as? NSNumber)?.doubleValue }
        // Rotary settings: `rope_theta` + `rope_scaling` (published configs), or transformers ≥ 5's
        // single `rope_parameters` object holding both.
        let ropeParameters = c["rope_parameters"] as? [String: Any]
        let ropeTheta = double("rope_theta") ?? (ropeParameters?["rope_theta"] as? NSNumber)?.doubleValue ?? 10000
        let arch = (c["architectures"] as? [String])?.first ?? (c["model_type"] as? String ?? "unknown")
        architecture = arch
        bosTokenId = c["bos_token_id"] as? Int
        eosTokenId = c["eos_token_id"] as? Int
        switch arch {
        case "GPT2LMHeadModel":
            family = .gpt2
            nLayers = try int("n_layer")
            dModel = try int("n_embd")
            nHeads = try int("n_head")
            nKVHeads = nHeads
            dHead = dModel / max(nHeads, 1)
            // TransformerLens ignores n_inner (d_mlp = 4·d_model), and circuit-tracer goes through it.
            dMLP = 4 * max(0, min(dModel, Self.maximumSize))  // checked by `validate` through dModel
            nVocab = try int("vocab_size")
            nCtx = try int("n_ctx", "n_positions")
            norm = .layerNorm
            normEps = Float(double("layer_norm_epsilon") ?? 1e-5)
            normWeightOffset = 0
            mlp = .geluTanh
            positional = .learned
            attentionScale = 1 / Float(Double(dHead).squareRoot())
            attentionSoftcap = nil
            finalLogitSoftcap = nil
            embeddingScale = 1
            hasPostNorms = false
            hasQKNorm = false
            tiedEmbeddings = true
            if c["scale_attn_by_inverse_layer_idx"] as? Bool == true {
                throw TracerError.invalidConfig("scale_attn_by_inverse_layer_idx is not supported", file: file)
            }
        case "LlamaForCausalLM", "Qwen3ForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM":
            family = .llama
            nLayers = try int("num_hidden_layers")
            dModel = try int("hidden_size")
            nHeads = try int("num_attention_heads")
            nKVHeads = try optionalInt("num_key_value_heads") ?? nHeads
            dHead = try optionalInt("head_dim") ?? dModel / max(nHeads, 1)
            dMLP = try int("intermediate_size")
            nVocab = try int("vocab_size")
            nCtx = try int("max_position_embeddings")
            norm = .rmsNorm
            normEps = Float(double("rms_norm_eps") ?? 1e-6)
            normWeightOffset = 0
            let act = c["hidden_act"] as? String ?? "silu"
            guard act == "silu" else { throw TracerError.invalidConfig("hidden_act '\(act)' is not supported (silu)", file: file) }
            mlp = .gated(.silu)
            positional = .rotary(theta: ropeTheta, scaling: try Self.ropeScaling(c["rope_scaling"] ?? ropeParameters, file: file))
            attentionScale = 1 / Float(Double(dHead).squareRoot())
            attentionSoftcap = nil
            finalLogitSoftcap = nil
            embeddingScale = 1
            hasPostNorms = false
            hasQKNorm = arch == "Qwen3ForCausalLM"
            tiedEmbeddings = c["tie_word_embeddings"] as? Bool ?? false
        case "Gemma2ForCausalLM":
            family = .gemma2
            nLayers = try int("num_hidden_layers")
            dModel = try int("hidden_size")
            nHeads = try int("num_attention_heads")
            nKVHeads = try optionalInt("num_key_value_heads") ?? nHeads
            dHead = try optionalInt("head_dim") ?? dModel / max(nHeads, 1)
            dMLP = try int("intermediate_size")
            nVocab = try int("vocab_size")
            nCtx = try int("max_position_embeddings")
            norm = .rmsNorm
            normEps = Float(double("rms_norm_eps") ?? 1e-6)
            normWeightOffset = 1
            let act = (c["hidden_activation"] as? String) ?? (c["hidden_act"] as? String) ?? "gelu_pytorch_tanh"
            guard act == "gelu_pytorch_tanh" || act == "gelu_new" else {
                throw TracerError.invalidConfig("hidden_activation '\(act)' is not supported (gelu_pytorch_tanh)", file: file)
            }
            mlp = .gated(.geluTanh)
            positional = .rotary(theta: ropeTheta, scaling: nil)
            let qScalar = double("query_pre_attn_scalar") ?? Double(dHead)
            attentionScale = Float(1 / qScalar.squareRoot())
            attentionSoftcap = double("attn_logit_softcapping").map { Float($0) }
            finalLogitSoftcap = double("final_logit_softcapping").map { Float($0) }
            embeddingScale = Float(Double(dModel).squareRoot())
            hasPostNorms = true
            hasQKNorm = false
            tiedEmbeddings = true
        default:
            throw TracerError.unknownArchitecture(arch, file: file)
        }
        // Sliding windows: Gemma-2 alternates (layer_types, else even layers slide).
        var windows = [Int?](repeating: nil, count: max(0, min(nLayers, Self.maximumSize)))
        if family == .gemma2, let w = try optionalInt("sliding_window") {
            let types = c["layer_types"] as? [String]
            for l in windows.indices {
                let sliding = types.map { l < $0.count && $0[l] == "sliding_attention" } ?? (l % 2 == 0)
                if sliding { windows[l] = w }
            }
        }
        slidingWindow = windows
        try validate(file: file, fields: family == .gpt2 ? .gpt2 : .llama, headDimGiven: family != .gpt2 && (try optionalInt("head_dim")) != nil)
    }

    private static func ropeScaling(_ value: Any?, file: String) throws -> RopeScaling? {
        guard let s = value as? [String: Any] else { return nil }
        let type = (s["rope_type"] as? String) ?? (s["type"] as? String) ?? "default"
        guard type == "llama3" else {
            if type == "default" { return nil }
            throw TracerError.invalidConfig("rope_scaling / rope_parameters rope_type '\(type)' is not supported (default, llama3)", file: file)
        }
        func d(_ k: String, _ dflt: Double) -> Double { (s[k] as? NSNumber)?.doubleValue ?? dflt }
        return RopeScaling(factor: d("factor", 8), lowFreqFactor: d("low_freq_factor", 1),
                           highFreqFactor: d("high_freq_factor", 4),
                           originalMaxPositions: d("original_max_position_embeddings", 8192))
    }
}
