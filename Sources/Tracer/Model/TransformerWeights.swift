import Foundation

/// A norm's learned parameters. The effective weight (Gemma's `1 + w` included) is stored.
public struct NormWeights: Sendable {
    /// Effective per-channel weight. `[dModel]` (or `[dHead]` for Qwen3's q/k norms)
    public var weight: [Float]
    /// LayerNorm bias (nil for RMSNorm). `[dModel]`
    public var bias: [Float]?
}

/// One transformer block's weights, all stored for `x · W` products (`W` is `[in, out]`).
public struct LayerWeights: Sendable {
    public var ln1: NormWeights
    public var wQ: [Float]            // [dModel, nHeads·dHead]
    public var wK: [Float]            // [dModel, nKVHeads·dHead]
    public var wV: [Float]            // [dModel, nKVHeads·dHead]
    public var bQ: [Float]?           // [nHeads·dHead]
    public var bK: [Float]?           // [nKVHeads·dHead]
    public var bV: [Float]?           // [nKVHeads·dHead]
    public var qNorm: NormWeights?    // [dHead] (Qwen3)
    public var kNorm: NormWeights?    // [dHead] (Qwen3)
    public var wO: [Float]            // [nHeads·dHead, dModel]
    public var bO: [Float]?           // [dModel]
    public var postAttentionNorm: NormWeights?   // Gemma-2
    public var ln2: NormWeights
    public var wIn: [Float]           // [dModel, dMLP]: GPT-2 c_fc, or the gate projection
    public var bIn: [Float]?          // [dMLP]
    public var wUp: [Float]?          // [dModel, dMLP]: gated MLPs only
    public var wOut: [Float]          // [dMLP, dModel]
    public var bOut: [Float]?         // [dModel]
    public var postMLPNorm: NormWeights?         // Gemma-2
}

/// All weights of a decoder-only transformer, converted to `Float` on load.
public struct TransformerWeights: Sendable {
    public var config: ModelConfig
    /// `[nVocab, dModel]` (unscaled), or empty when the embedding is tied and kept only once, as
    /// the unembedding's columns (`embeddingRow(_:)` reads either).
    public var embedding: [Float]
    public var positionEmbedding: [Float]? // [nCtx, dModel] (learned positions)
    public var layers: [LayerWeights]
    public var lnFinal: NormWeights
    /// `[dModel, nVocab]` for `x · W_U` (the transposed embedding when tied).
    public var unembedding: [Float]
    public var unembeddingBias: [Float]?   // [nVocab]

    /// Weights already in memory (generated or converted).
    public init(config: ModelConfig, embedding: [Float], positionEmbedding: [Float]?, layers: [LayerWeights],
                lnFinal: NormWeights, unembedding: [Float], unembeddingBias: [Float]?) {
        self.config = config
        self.embedding = embedding
        self.positionEmbedding = positionEmbedding
        self.layers = layers
        self.lnFinal = lnFinal
        self.unembedding = unembedding
        self.unembeddingBias = unembeddingBias
    }

    /// Row `t` of the token embedding (unscaled). `[dModel]`
    public func embeddingRow(_ t: Int) -> [Float] {
        let d = config.dModel, v = config.nVocab
        if !embedding.isEmpty { return Array(embedding[(t * d)..<((t + 1) * d)]) }
        // Tied: E[t, i] = W_U[i, t]
        return unembedding.withUnsafeBufferPointer { u in (0..<d).map { u[$0 * v + t] } }
    }

    /// Loads `model.safetensors` (or the shards named by `model.safetensors.index.json`) from `directory`.
    public init(directory: URL, config: ModelConfig) throws {
        self.config = config
        let store = try WeightStore(directory: directory)
        let c = config
        let d = c.dModel
        func norm(_ prefix: String, _ size: Int, bias: Bool) throws -> NormWeights {
            var w = try store.floats(prefix + ".weight", shape: [size])
            if c.normWeightOffset != 0 { for i in w.indices { w[i] += c.normWeightOffset } }
            return NormWeights(weight: w, bias: bias ? try store.floats(prefix + ".bias", shape: [size]) : nil)
        }
        switch c.family {
        case .gpt2:
            let p = store.has("transformer.wte.weight") ? "transformer." : ""
            embedding = try store.floats(p + "wte.weight", shape: [c.nVocab, d])
            let wpe = try store.info(p + "wpe.weight")
            guard wpe.shape.count == 2, wpe.shape[1] == d, wpe.shape[0] >= c.nCtx else {
                throw TracerError.shapeMismatch(tensor: p + "wpe.weight", file: store.fileName(p + "wpe.weight"), expected: [c.nCtx, d], actual: wpe.shape)
            }
            positionEmbedding = try store.floats(p + "wpe.weight")
            layers = try (0..<c.nLayers).map { l in
                let h = "\(p)h.\(l)."
                let qkv = try store.floats(h + "attn.c_attn.weight", shape: [d, 3 * d])   // Conv1D: [in, out]
                let qkvBias = try store.floats(h + "attn.c_attn.bias", shape: [3 * d])
                return LayerWeights(
                    ln1: try norm(h + "ln_1", d, bias: true),
                    wQ: columns(qkv, rows: d, cols: 3 * d, 0..<d),
                    wK: columns(qkv, rows: d, cols: 3 * d, d..<(2 * d)),
                    wV: columns(qkv, rows: d, cols: 3 * d, (2 * d)..<(3 * d)),
                    bQ: Array(qkvBias[0..<d]), bK: Array(qkvBias[d..<(2 * d)]), bV: Array(qkvBias[(2 * d)...]),
                    qNorm: nil, kNorm: nil,
                    wO: try store.floats(h + "attn.c_proj.weight", shape: [d, d]),
                    bO: try store.floats(h + "attn.c_proj.bias", shape: [d]),
                    postAttentionNorm: nil,
                    ln2: try norm(h + "ln_2", d, bias: true),
                    wIn: try store.floats(h + "mlp.c_fc.weight", shape: [d, c.dMLP]),
                    bIn: try store.floats(h + "mlp.c_fc.bias", shape: [c.dMLP]),
                    wUp: nil,
                    wOut: try store.floats(h + "mlp.c_proj.weight", shape: [c.dMLP, d]),
                    bOut: try store.floats(h + "mlp.c_proj.bias", shape: [d]),
                    postMLPNorm: nil)
            }
            lnFinal = try norm(p + "ln_f", d, bias: true)
            unembedding = transpose(embedding, rows: c.nVocab, cols: d)
            embedding = []  // tied: kept once, as the unembedding
            unembeddingBias = nil
        case .llama, .gemma2:
            embedding = try store.floats("model.embed_tokens.weight", shape: [c.nVocab, d])
            positionEmbedding = nil
            let qDim = c.nHeads * c.dHead, kvDim = c.nKVHeads * c.dHead
            // nn.Linear stores [out, in]; transpose to [in, out].
            func linear(_ name: String, out: Int, in: Int) throws -> [Float] {
                transpose(try store.floats(name, shape: [out, `in`]), rows: out, cols: `in`)
            }
            func optionalBias(_ name: String, _ size: Int) throws -> [Float]? {
                store.has(name) ? try store.floats(name, shape: [size]) : nil
            }
            layers = try (0..<c.nLayers).map { l in
                let h = "model.layers.\(l)."
                let gemma = c.family == .gemma2
                return LayerWeights(
                    ln1: try norm(h + "input_layernorm", d, bias: false),
                    wQ: try linear(h + "self_attn.q_proj.weight", out: qDim, in: d),
                    wK: try linear(h + "self_attn.k_proj.weight", out: kvDim, in: d),
                    wV: try linear(h + "self_attn.v_proj.weight", out: kvDim, in: d),
                    bQ: try optionalBias(h + "self_attn.q_proj.bias", qDim),
                    bK: try optionalBias(h + "self_attn.k_proj.bias", kvDim),
                    bV: try optionalBias(h + "self_attn.v_proj.bias", kvDim),
                    qNorm: c.hasQKNorm ? try norm(h + "self_attn.q_norm", c.dHead, bias: false) : nil,
                    kNorm: c.hasQKNorm ? try norm(h + "self_attn.k_norm", c.dHead, bias: false) : nil,
                    wO: try linear(h + "self_attn.o_proj.weight", out: d, in: qDim),
                    bO: try optionalBias(h + "self_attn.o_proj.bias", d),
                    postAttentionNorm: gemma ? try norm(h + "post_attention_layernorm", d, bias: false) : nil,
                    ln2: try norm(h + (gemma ? "pre_feedforward_layernorm" : "post_attention_layernorm"), d, bias: false),
                    wIn: try linear(h + "mlp.gate_proj.weight", out: c.dMLP, in: d),
                    bIn: nil,
                    wUp: try linear(h + "mlp.up_proj.weight", out: c.dMLP, in: d),
                    wOut: try linear(h + "mlp.down_proj.weight", out: d, in: c.dMLP),
                    bOut: nil,
                    postMLPNorm: gemma ? try norm(h + "post_feedforward_layernorm", d, bias: false) : nil)
            }
            lnFinal = try norm("model.norm", d, bias: false)
            if !c.tiedEmbeddings, store.has("lm_head.weight") {
                unembedding = try linear("lm_head.weight", out: c.nVocab, in: d)
            } else {
                unembedding = transpose(embedding, rows: c.nVocab, cols: d)
                embedding = []  // tied: kept once, as the unembedding
            }
            unembeddingBias = nil
        }
    }
}

/// The safetensors file(s) of a model folder, single-file or sharded.
struct WeightStore {
    var files: [SafeTensorsFile]
    var owner: [String: Int]

    init(directory: URL) throws {
        let fm = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var urls: [URL] = []
        if fm.fileExists(atPath: single.path) {
            urls = [single]
        } else if fm.fileExists(atPath: index.path) {
            guard let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: index))) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw TracerError.malformedFile(index.path, "no weight_map")
            }
            urls = Set(map.values).sorted().map { directory.appendingPathComponent($0) }
        } else {
            throw TracerError.fileNotFound(single.path, what: "model weights (model.safetensors or model.safetensors.index.json)")
        }
        files = try urls.map { try SafeTensorsFile($0) }
        owner = [:]
        for (i, f) in files.enumerated() { for name in f.tensors.keys { owner[name] = i } }
    }

    func has(_ name: String) -> Bool { owner[name] != nil }
    func fileName(_ name: String) -> String { owner[name].map { files[$0].url.path } ?? files.first?.url.deletingLastPathComponent().path ?? "" }

    func info(_ name: String) throws -> SafeTensorsFile.TensorInfo {
        guard let i = owner[name] else { throw TracerError.missingTensor(name, file: fileName(name)) }
        return try files[i].info(name)
    }

    func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        guard let i = owner[name] else { throw TracerError.missingTensor(name, file: fileName(name)) }
        return try files[i].floats(name, shape: shape)
    }
}

/// `[rows, cols]` → `[cols, rows]`.
func transpose(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: rows * cols) { out, n in
        m.withUnsafeBufferPointer { src in
            for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = src[r * cols + c] } }
        }
        n = rows * cols
    }
}

/// Columns `range` of a `[rows, cols]` matrix. `[rows, range.count]`
func columns(_ m: [Float], rows: Int, cols: Int, _ range: Range<Int>) -> [Float] {
    var out = [Float](); out.reserveCapacity(rows * range.count)
    for r in 0..<rows { out.append(contentsOf: m[(r * cols + range.lowerBound)..<(r * cols + range.upperBound)]) }
    return out
}
