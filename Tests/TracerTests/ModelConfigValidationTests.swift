import Foundation
import Testing
import TestSupport
@testable import Tracer

/// `config.json` sizes and constants are validated before any buffer is sized from them; each
/// bad value is one `invalidConfig` error naming the file and the field.
@Suite struct ModelConfigValidationTests {
    static func base(_ family: String) -> [String: Any] {
        let llama: [String: Any] = ["architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64,
                                    "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128,
                                    "vocab_size": 128, "max_position_embeddings": 64]
        switch family {
        case "gpt2": return ["architectures": ["GPT2LMHeadModel"], "n_layer": 4, "n_embd": 64, "n_head": 4, "vocab_size": 128, "n_ctx": 64]
        case "gemma": return llama.merging(["architectures": ["Gemma2ForCausalLM"], "sliding_window": 16]) { $1 }
        default: return llama
        }
    }

    /// Findings 3 and 5: negative or zero sizes (`n_layer: -1`, `n_head: 0`,
    /// `num_attention_heads: 0`), sizes beyond the cap, non-integers, and widths that heads do
    /// not divide (`n_embd` 64 with `n_head` 5 used to give a garbage graph).
    @Test(arguments: [
        ("gpt2", #"{"n_layer": -1}"#, "n_layer is -1"),
        ("gpt2", #"{"n_head": 0}"#, "n_head is 0"),
        ("gpt2", #"{"n_embd": 0}"#, "n_embd is 0"),
        ("gpt2", #"{"n_embd": 1099511627776}"#, "n_embd is 1099511627776"),
        ("gpt2", #"{"n_embd": -9223372036854775808}"#, "n_embd"),
        ("gpt2", #"{"vocab_size": -5}"#, "vocab_size is -5"),
        ("gpt2", #"{"n_ctx": 0}"#, "n_ctx is 0"),
        ("gpt2", #"{"n_head": 5}"#, "n_embd (64) is not divisible by n_head (5)"),
        ("gpt2", #"{"n_layer": 1.5}"#, "n_layer must be an integer"),
        ("gpt2", #"{"n_layer": 1e30}"#, "n_layer must be an integer"),
        ("gpt2", #"{"layer_norm_epsilon": -1}"#, "norm epsilon"),
        ("llama", #"{"num_attention_heads": 0}"#, "num_attention_heads is 0"),
        ("llama", #"{"num_key_value_heads": 0}"#, "num_key_value_heads is 0"),
        ("llama", #"{"num_key_value_heads": 3}"#, "num_attention_heads (4) is not divisible by num_key_value_heads (3)"),
        ("llama", #"{"hidden_size": 66, "num_attention_heads": 4}"#, "hidden_size (66) is not divisible by num_attention_heads (4)"),
        ("llama", #"{"head_dim": 7}"#, "head_dim (7) must be even"),
        ("llama", #"{"head_dim": -8}"#, "head_dim is -8"),
        ("llama", #"{"intermediate_size": 0}"#, "intermediate_size is 0"),
        ("llama", #"{"num_hidden_layers": 2097152}"#, "num_hidden_layers is 2097152"),
        ("llama", #"{"rope_theta": -1}"#, "rope_theta"),
        ("llama", #"{"rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 4}}"#, "high_freq_factor"),
        ("gemma", #"{"sliding_window": 0}"#, "sliding_window is 0"),
        ("gemma", #"{"query_pre_attn_scalar": 0}"#, "attention scale"),
        ("gemma", #"{"final_logit_softcapping": -30}"#, "final_logit_softcapping"),
    ])
    func badFieldsAreNamed(family: String, change: String, expected: String) throws {
        let edit = try JSONSerialization.jsonObject(with: Data(change.utf8)) as! [String: Any]
        let json = Self.base(family).merging(edit) { $1 }
        do {
            _ = try ModelConfig(json: json, file: "/m/config.json")
            Issue.record("accepted \(change)")
        } catch let TracerError.invalidConfig(why, file) {
            #expect(file == "/m/config.json")
            #expect(why.contains(expected), "\(change): \(why)")
        }
    }

    @Test func validConfigsStillLoad() throws {
        for family in ["gpt2", "llama", "gemma"] { _ = try ModelConfig(json: Self.base(family), file: "config.json") }
        let c = try ModelConfig(directory: InterimModel.model)
        #expect(c.nLayers == 4 && c.dHead == 16 && c.dMLP == 256)
    }

    /// Finding 3 through the file: the engine loading a folder whose `config.json` says `n_head: 0`.
    @Test func zeroHeadsInTheFileAreRefusedAtLoad() throws {
        let folder = try ScratchFolder("config-heads")
        defer { folder.remove() }
        let (model, _) = try CorruptFixtures.copyInterim(into: folder.url)
        let config = model.appendingPathComponent("config.json")
        try CorruptFixtures.editJSON(config) { $0["n_head"] = 0 }
        #expect(throws: TracerError.invalidConfig("n_head is 0; it must be an integer from 1 to \(ModelConfig.maximumSize)", file: config.path)) {
            _ = try ModelConfig(directory: model)
        }
    }

    /// Finding 6 for model weights: a NaN anywhere in `model.safetensors` is refused at load,
    /// naming the tensor.
    @Test func nonFiniteModelWeightsAreRefusedAtLoad() throws {
        let folder = try ScratchFolder("model-nan")
        defer { folder.remove() }
        let (model, _) = try CorruptFixtures.copyInterim(into: folder.url)
        let weights = model.appendingPathComponent("model.safetensors")
        let name = try SafeTensorsFile(weights).tensors.keys.first { $0.hasSuffix("h.2.mlp.c_fc.weight") }!
        try CorruptFixtures.poison(weights, tensor: name, index: 70, value: -.infinity)
        let config = try ModelConfig(directory: model)
        do {
            _ = try TransformerWeights(directory: model, config: config)
            Issue.record("accepted -inf")
        } catch let TracerError.nonFiniteWeight(tensor, file, index, value) {
            #expect(tensor == name && file == weights.path && index == [0, 70] && value == -.infinity)
        }
    }
}
