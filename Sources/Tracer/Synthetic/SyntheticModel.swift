import Foundation

/// Seeded random models and transcoders of any shape, built in memory: the workload of
/// `circuits bench` and of tests that need sizes no fixture has.
public enum SyntheticModel {
    /// The shape of a synthetic GPT-2-architecture model and its per-layer transcoders.
    public struct Shape: Sendable, Equatable {
        public var nLayers = 12
        public var dModel = 768
        public var nHeads = 12
        public var nVocab = 50257
        public var nCtx = 1024
        public var dTranscoder = 8192
        /// Mean active features per (layer, position) the encoder biases are calibrated for.
        public var activePerSlot = 66.0
        public init() {}
    }

    /// A GPT-2-architecture model with weights drawn like the reference cases' (`make_cases.py`).
    public static func transformer(_ s: Shape, seed: UInt64) throws -> Transformer {
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
            var enc = rng.normals(dT * d, std: 1 / Float(d).squareRoot())
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
            decoders.append(rng.normals(dT * d, std: 0.1 / Float(d).squareRoot()))
            decoderBiases.append(rng.normals(d, std: 0.01))
        }
        return TranscoderSet(config: TranscoderConfig(kind: .perLayer, inputHook: .residMid, scan: "synthetic"),
                             nLayers: s.nLayers, dModel: d, dTranscoder: dT, activation: .relu,
                             encoders: encoders, encoderBiases: biases, thresholds: Array(repeating: nil, count: s.nLayers),
                             decoders: decoders, decoderBiases: decoderBiases, skips: Array(repeating: nil, count: s.nLayers))
    }
}
