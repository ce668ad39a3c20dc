import Foundation

/// Seeded random models and transcoders of any shape, built in memory: the workload of
/// `circuits bench` and of tests that need sizes no fixture has.
public enum SyntheticModel {
    /// The architectures a synthetic model can have.
    public enum Architecture: String, Sendable, CaseIterable { case gpt2, llama, gemma2 }

    /// The shape of a synthetic model and its per-layer transcoders (default: GPT-2 small).
    public struct Shape: Sendable, Equatable {
        public var architecture = Architecture.gpt2
        public var nLayers = 12
        public var dModel = 768
        public var nHeads = 12
        public var nVocab = 50257
        public var nCtx = 1024
        public var dTranscoder = 8192
        /// Mean active features per (layer, position) the encoder biases are calibrated for.
        public var activePerSlot = 66.0
        /// Key/value heads (nil: `nHeads`), head width (nil: `dModel / nHeads`), MLP width
        /// (nil: `4·dModel`). GPT-2 ignores them.
        public var nKVHeads: Int?
        public var dHead: Int?
        public var dMLP: Int?
        /// How the Llama / Gemma-2 weights are stored (GPT-2: always f32).
        public var weightStorage = NormalFill.Storage.f32
        public init() {}

        var kvHeads: Int { nKVHeads ?? nHeads }
        var headDim: Int { dHead ?? dModel / nHeads }
        var mlpWidth: Int { dMLP ?? 4 * dModel }

        /// Weights of the model (embedding once, norms included; transcoders excluded).
        public var parameterCount: Int {
            let d = dModel, q = nHeads * headDim, kv = kvHeads * headDim
            switch architecture {
            case .gpt2:
                return nVocab * d + nCtx * d + nLayers * (4 * d * d + 8 * d * d + 13 * d) + 2 * d
            case .llama, .gemma2:
                let norms = architecture == .gemma2 ? 4 : 2
                return nVocab * d + nLayers * (2 * d * q + 2 * d * kv + 3 * d * mlpWidth + norms * d) + d
            }
        }
    }

    /// Published model shapes, drawn at random.
    public enum Preset: String, Sendable, CaseIterable {
        /// GPT-2 small: 12 layers, d_model 768, 12 heads, vocab 50257 (f32 weights).
        case gpt2Small = "gpt2-small"
        /// Llama-3.2-1B: 16 layers, d_model 2048, 32 heads / 8 KV heads of 64, d_mlp 8192, vocab 128256,
        /// rope theta 500000 with llama3 scaling, tied embeddings; bf16 weights.
        case llama32_1B = "llama-3.2-1b"
        /// Gemma-2-2B: 26 layers, d_model 2304, 8 heads / 4 KV heads of 256, d_mlp 9216, vocab 256000,
        /// softcaps 50/30, query_pre_attn_scalar 256, sliding window 4096; bf16 weights.
        case gemma2_2B = "gemma-2-2b"

        /// The model shape (transcoder width and activity left at their defaults).
        public var shape: Shape {
            var s = Shape()
            switch self {
            case .gpt2Small:
                break
            case .llama32_1B:
                s.architecture = .llama
                s.nLayers = 16; s.dModel = 2048; s.nHeads = 32; s.nKVHeads = 8; s.dHead = 64; s.dMLP = 8192
                s.nVocab = 128_256; s.nCtx = 131_072; s.weightStorage = .bf16
            case .gemma2_2B:
                s.architecture = .gemma2
                s.nLayers = 26; s.dModel = 2304; s.nHeads = 8; s.nKVHeads = 4; s.dHead = 256; s.dMLP = 9216
                s.nVocab = 256_000; s.nCtx = 8192; s.weightStorage = .bf16
            }
            return s
        }
    }

    /// A model of shape `s`: GPT-2 with weights drawn like the reference cases' (`make_cases.py`),
    /// or Llama / Gemma-2 (`gatedTransformer`).
    public static func transformer(_ s: Shape, seed: UInt64) throws -> Transformer {
        guard s.architecture == .gpt2 else { return try gatedTransformer(s, seed: seed) }
        let json: [String: Any] = [
            "architectures": ["GPT2LMHeadModel"], "n_layer": s.nLayers, "n_embd": s.dModel, "n_head": s.nHeads,
            "vocab_size": s.nVocab, "n_ctx": s.nCtx, "n_positions": s.nCtx, "layer_norm_epsilon": 1e-5,
        ]
        let config = try ModelConfig(json: json, file: "<synthetic model>")
        var rng = SeededRandom(seed: seed)
        let d = s.dModel, m = 4 * d
        func norm() -> NormWeights { NormWeights(weight: rng.normals(d, std: 0.1).map { 1 + $0 }, bias: rng.normals(d, std: 0.05)) }
        let layers = (0..<s.nLayers).map { _ in
            LayerWeights(ln1: norm(),
                         wQ: rng.normals(d * d, std: (2 / Float(d)).squareRoot()),
                         wK: rng.normals(d * d, std: (2 / Float(d)).squareRoot()),
                         wV: rng.normals(d * d, std: (2 / Float(d)).squareRoot()),
                         bQ: rng.normals(d, std: 0.05), bK: rng.normals(d, std: 0.05), bV: rng.normals(d, std: 0.05),
                         qNorm: nil, kNorm: nil,
                         wO: rng.normals(d * d, std: (1 / Float(d)).squareRoot()), bO: rng.normals(d, std: 0.05),
                         postAttentionNorm: nil, ln2: norm(),
                         wIn: rng.normals(d * m, std: (1 / Float(d)).squareRoot()), bIn: rng.normals(m, std: 0.05), wUp: nil,
                         wOut: rng.normals(m * d, std: (1 / Float(m)).squareRoot()), bOut: rng.normals(d, std: 0.05),
                         postMLPNorm: nil)
        }
        let embedding = rng.normals(s.nVocab * d, std: 4 / Float(d).squareRoot())
        let weights = TransformerWeights(config: config, embedding: embedding,
                                         positionEmbedding: rng.normals(s.nCtx * d, std: 1 / Float(d).squareRoot()),
                                         layers: layers, lnFinal: norm(), unembedding: transpose(embedding, rows: s.nVocab, cols: d),
                                         unembeddingBias: nil)
        return Transformer(weights: weights)
    }

    /// Per-layer ReLU transcoders reading `hook_resid_mid` and writing `hook_mlp_out`, with
    /// encoder biases calibrated on `calibrationTokens` so that about `activePerSlot` features
    /// fire per (layer, position): each feature's bias is `−(μ_f + q·σ_f)`, with μ_f, σ_f its
    /// pre-activation mean and spread on the calibration positions and `q` the layer's empirical
    /// quantile of the standardised pre-activations at the firing rate.
    public static func transcoders(_ s: Shape, model: Transformer, calibration: [[Int]], seed: UInt64) throws -> TranscoderSet {
        var rng = SeededRandom(seed: seed)
        let d = s.dModel, dT = s.dTranscoder
        // Attention averages over more tokens at later positions, so the spread of resid_mid depends
        // on the position: calibrate on sequences shaped like the traced prompt, BOS excluded.
        let records = try calibration.map { try model.forward(tokens: $0) }
        let rate = min(max(s.activePerSlot / Double(dT), 1e-6), 0.5)
        var encoders: [[Float]] = [], biases: [[Float]] = [], decoders: [[Float]] = [], decoderBiases: [[Float]] = []
        for l in 0..<s.nLayers {
            // GPT-2 keeps its original single-stream draws (same weights as before); the larger
            // Llama / Gemma-2 shapes draw on every core.
            let gpt2 = s.architecture == .gpt2
            var enc = gpt2 ? rng.normals(dT * d, std: 1 / Float(d).squareRoot())
                           : NormalFill.normals(dT * d, std: 1 / Float(d).squareRoot(), seed: rng.next(), storage: .f32)
            // Rows: random directions with norms in 0.5..2.
            for f in 0..<dT {
                let scale = 0.5 + 1.5 * Float(rng.next() >> 40) / Float(1 << 24)
                for i in 0..<d { enc[f * d + i] *= scale }
            }
            // pre[T, dT] = resid_mid[T, d] · W_encᵀ over every calibration position after BOS
            let x = records.flatMap { $0.residMid[l][d...] }
            let nRows = x.count / d
            var pre = [Float](repeating: 0, count: nRows * dT)
            gemm(&pre, ldc: dT, x, lda: d, enc, ldb: d, transB: true, m: nRows, n: dT, k: d)
            // Standardise each feature over the calibration positions (BOS excluded), then take one
            // empirical quantile per layer: heavy tails are calibrated as they are, not as Gaussian.
            var mean = [Float](repeating: 0, count: dT), std = [Float](repeating: 0, count: dT)
            var standardized: [Float] = []
            standardized.reserveCapacity(nRows * dT)
            for f in 0..<dT {
                var m = 0.0, sq = 0.0
                for p in 0..<nRows { let v = Double(pre[p * dT + f]); m += v; sq += v * v }
                let n = Double(max(nRows, 1))
                m /= n
                mean[f] = Float(m)
                std[f] = Float(max(sq / n - m * m, 1e-12).squareRoot())
                for p in 0..<nRows { standardized.append((pre[p * dT + f] - mean[f]) / std[f]) }
            }
            standardized.sort(by: >)
            let q = standardized[min(standardized.count - 1, Int(rate * Double(standardized.count)))]
            let bias = (0..<dT).map { -mean[$0] - q * std[$0] }
            encoders.append(enc)
            biases.append(bias)
            decoders.append(gpt2 ? rng.normals(dT * d, std: 0.1 / Float(d).squareRoot())
                                 : NormalFill.normals(dT * d, std: 0.1 / Float(d).squareRoot(), seed: rng.next(), storage: .f32))
            decoderBiases.append(rng.normals(d, std: 0.01))
        }
        return TranscoderSet(config: TranscoderConfig(kind: .perLayer, inputHook: .residMid, scan: "synthetic"),
                             nLayers: s.nLayers, dModel: d, dTranscoder: dT, activation: .relu,
                             encoders: encoders, encoderBiases: biases, thresholds: Array(repeating: nil, count: s.nLayers),
                             decoders: decoders, decoderBiases: decoderBiases, skips: Array(repeating: nil, count: s.nLayers))
    }
}
