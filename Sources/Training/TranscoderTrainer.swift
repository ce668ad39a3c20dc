import Foundation
import Tracer

/// The loss of a transcoder on a batch and its gradient with respect to every parameter,
/// by hand: forward and backward side by side, every product through BLAS.
///
/// Units: the trainer sees normalised data (`Normalization`): inputs `x̃ = x / r_l` and
/// targets `ỹ_m = y_m / s_m`, with `E‖x̃‖² ≈ E‖ỹ − mean‖² ≈ dModel`. For a batch of `B` tokens
///
///     pre_l = x̃_l · W_enc_lᵀ + b_enc_l                      [B, dT]
///     a_l   = act(pre_l)                                      [B, dT]
///     ŷ_m   = b_dec_m + Σ_{l : m ∈ out(l)} a_l · W_dec_l[:, m] (+ x̃_m · W_skip_mᵀ)
///     loss  = Σ_m (1/(B·d)) Σ_b ‖ŷ_m − ỹ_m‖²  +  (λ/B) Σ_b Σ_l Σ_i φ(a_{l,b,i} · ‖W_dec_{l,i}‖)
///
/// The first term is the sum over output layers of the batch's fraction of variance
/// unexplained (FVU, relative to the target variance measured when training started). The
/// second is the sparsity penalty on decoder-norm-weighted activations (`‖W_dec_{l,i}‖`: the
/// norm of feature i's whole decoder row, every output layer of a CLT included):
/// `φ(u) = u` (ReLU: L1), `φ(u) = tanh(c·u)` (JumpReLU: smoothed L0, `c` =
/// `TrainingConstants.tanhScale`), none for TopK.
///
/// Non-differentiable points: ReLU and TopK pass the gradient where `a ≠ 0`; JumpReLU
/// `a = pre · 1[pre > θ]` passes it to `pre` where active and to `θ = exp(log_threshold)`
/// through the rectangle-kernel pseudo-derivative `∂a/∂θ = −(θ/ε)·1[|pre − θ| < ε/2]`
/// (straight-through estimator, as GemmaScope), ε = `TrainingConstants.jumpReLUBandwidth`.
public final class TranscoderTrainer {
    public let layout: ParameterLayout
    public var shape: TranscoderShape { layout.shape }
    /// `[layout.count]`
    public var parameters: [Float]
    /// `[layout.count]`, written by `lossAndGradients`.
    public private(set) var gradients: [Float]
    /// λ (ignored for TopK).
    public let sparsity: Float

    /// Work buffers sized for `capacity` tokens, reused across steps.
    private var capacity = 0
    /// `[nLayers, B, dT]`
    private var pre: [Float] = []
    /// `[nLayers, B, dT]`
    private var act: [Float] = []
    /// `[B, nLayers·d]`
    private var yHat: [Float] = []
    /// `[B, nLayers·d]`
    private var dY: [Float] = []
    /// `[B, dT]`
    private var dAct: [Float] = []
    /// `[nLayers, dT]`: `‖W_dec_{l,i}‖`
    private var norms: [Float] = []
    /// `[nLayers, dT]`: whether each feature fired on any token of the last `lossAndGradients` batch.
    public private(set) var fired: [Bool] = []
    /// `[dT]`: `∂loss/∂n_i`, or JumpReLU thresholds
    private var normGradients: [Float] = []
    /// `[dT]` (TopK row scratch)
    private var indexScratch: [Int32] = []

    public init(layout: ParameterLayout, parameters: [Float], sparsity: Float) {
        precondition(parameters.count == layout.count, "parameters \(parameters.count) ≠ layout \(layout.count)")
        self.layout = layout
        self.parameters = parameters
        self.gradients = [Float](repeating: 0, count: layout.count)
        self.sparsity = layout.shape.activation == .topk ? 0 : sparsity
    }

    /// What one batch gave.
    public struct BatchStatistics: Sendable {
        /// The whole loss.
        public var loss: Double = 0
        /// The sparsity part of the loss.
        public var penalty: Double = 0
        /// Per output layer: `Σ_b ‖ŷ_m − ỹ_m‖² / (B·d)`.
        public var fvu: [Double] = []
        /// Per source layer: mean active features per token.
        public var l0: [Double] = []
        public var meanFVU: Double { fvu.reduce(0, +) / Double(max(1, fvu.count)) }
        public var meanL0: Double { l0.reduce(0, +) / Double(max(1, l0.count)) }
    }

    private func reserve(_ b: Int) {
        guard b > capacity else { return }
        let L = shape.nLayers, d = shape.dModel, dT = shape.dTranscoder
        capacity = b
        pre = [Float](repeating: 0, count: L * b * dT)
        act = pre
        yHat = [Float](repeating: 0, count: b * L * d)
        dY = yHat
        dAct = [Float](repeating: 0, count: b * dT)
        norms = [Float](repeating: 0, count: L * dT)
        indexScratch = [Int32](repeating: 0, count: dT)
        normGradients = [Float](repeating: 0, count: dT)
        fired = [Bool](repeating: false, count: L * dT)
    }

    /// Activations of source layer `l` after `forward`, `[B, dT]` row-major.
    public func activations(layer l: Int, batch b: Int) -> ArraySlice<Float> {
        let dT = shape.dTranscoder
        return act[(l * capacity * dT)..<(l * capacity * dT + b * dT)]
    }

    /// Reconstruction after `forward`, `[B, nLayers·d]` (normalised units).
    public func reconstruction(batch b: Int) -> ArraySlice<Float> { yHat[0..<(b * shape.nLayers * shape.dModel)] }

    /// Encodes and decodes `b` tokens: `x` `[b, nLayers·d]` (normalised inputs, layer `l` in
    /// columns `l·d ..< (l+1)·d`). Fills the activations and the reconstruction.
    public func forward(x: UnsafePointer<Float>, batch b: Int) {
        reserve(b)
        let L = shape.nLayers, d = shape.dModel, dT = shape.dTranscoder, ld = L * d
        let lay = layout, kind = shape.activation, k = shape.k, cap = capacity
        parameters.withUnsafeBufferPointer { P in
            pre.withUnsafeMutableBufferPointer { Pre in
            act.withUnsafeMutableBufferPointer { A in
            yHat.withUnsafeMutableBufferPointer { Y in
            indexScratch.withUnsafeMutableBufferPointer { idx in
                let p = P.baseAddress!
                for l in 0..<L {
                    let pre = Pre.baseAddress! + l * cap * dT, a = A.baseAddress! + l * cap * dT
                    // pre[B, dT] = x̃_l[B, d] · W_enc_lᵀ[d, dT]; then + b_enc_l
                    gemm(pre, ldc: dT, x + l * d, lda: ld, p + lay.encoder[l], ldb: d, transB: true, m: b, n: dT, k: d)
                    let bias = p + lay.encoderBias[l]
                    for r in 0..<b { let row = pre + r * dT; for i in 0..<dT { row[i] += bias[i] } }
                    switch kind {
                    case .relu:
                        for i in 0..<(b * dT) { a[i] = max(pre[i], 0) }
                    case .jumprelu:
                        let lt = p + lay.logThreshold[l]
                        for r in 0..<b {
                            for i in 0..<dT { let v = pre[r * dT + i]; a[r * dT + i] = v > Foundation.exp(lt[i]) ? v : 0 }
                        }
                    case .topk:
                        // The k largest of each row (ties → lower index), kept unchanged, as the engine.
                        for r in 0..<b {
                            let row = pre + r * dT, out = a + r * dT
                            for i in 0..<dT { idx[i] = Int32(i); out[i] = 0 }
                            idx.sort { row[Int($0)] != row[Int($1)] ? row[Int($0)] > row[Int($1)] : $0 < $1 }
                            for j in 0..<k { let i = Int(idx[j]); out[i] = row[i] }
                        }
                    }
                }
                // ŷ[B, L·d] = b_dec (per output layer) + Σ_l a_l · W_dec_l (+ skip)
                let y = Y.baseAddress!
                for r in 0..<b {
                    for m in 0..<L { (y + r * ld + m * d).update(from: p + lay.decoderBias[m], count: d) }
                }
                for l in 0..<L {
                    let width = lay.decoderRowLength(l)
                    // ŷ[:, l·d ..< l·d + width] += a_l[B, dT] · W_dec_l[dT, width]
                    gemm(y + l * d, ldc: ld, A.baseAddress! + l * cap * dT, lda: dT, p + lay.decoder[l], ldb: width,
                          m: b, n: width, k: dT, beta: 1)
                    if shape.skip {
                        // ŷ_l[B, d] += x̃_l[B, d] · W_skip_lᵀ[d, d]
                        gemm(y + l * d, ldc: ld, x + l * d, lda: ld, p + lay.skip[l], ldb: d, transB: true, m: b, n: d, k: d, beta: 1)
                    }
                }
            }
            }
            }
            }
        }
    }

    /// Runs `forward`, then writes the gradient of the loss into `gradients`.
    ///
    /// - Parameters:
    ///   - x: normalised inputs `[b, nLayers·d]`.
    ///   - y: normalised targets `[b, nLayers·d]`.
    /// - Complexity: about `6·B·dT·d·Σ_l nOutputs(l)` flops in GEMMs, plus `O(B·dT·L)` elementwise.
    @discardableResult
    public func lossAndGradients(x: UnsafePointer<Float>, y target: UnsafePointer<Float>, batch b: Int) -> BatchStatistics {
        forward(x: x, batch: b)
        let L = shape.nLayers, d = shape.dModel, dT = shape.dTranscoder, ld = L * d
        let lay = layout, kind = shape.activation, cap = capacity
        let lambda = sparsity, c = TrainingConstants.tanhScale, eps = TrainingConstants.jumpReLUBandwidth
        let usePenalty = kind != .topk && lambda > 0
        var stats = BatchStatistics(fvu: [Double](repeating: 0, count: L), l0: [Double](repeating: 0, count: L))
        parameters.withUnsafeBufferPointer { P in
        gradients.withUnsafeMutableBufferPointer { G in
        pre.withUnsafeBufferPointer { Pre in
        act.withUnsafeBufferPointer { A in
        yHat.withUnsafeBufferPointer { Y in
        dY.withUnsafeMutableBufferPointer { DY in
        dAct.withUnsafeMutableBufferPointer { DA in
        norms.withUnsafeMutableBufferPointer { N in
        normGradients.withUnsafeMutableBufferPointer { DN in
        fired.withUnsafeMutableBufferPointer { F in
            let p = P.baseAddress!, g = G.baseAddress!, dy = DY.baseAddress!, da = DA.baseAddress!
            g.update(repeating: 0, count: lay.count)

            // mse_m = Σ_b ‖ŷ_m − ỹ_m‖² / (B·d);  ∂/∂ŷ = 2(ŷ − ỹ)/(B·d)
            let scale = 2 / Float(b * d)
            for r in 0..<b {
                for m in 0..<L {
                    var s: Float = 0
                    for i in 0..<d {
                        let j = r * ld + m * d + i
                        let e = Y[j] - target[j]
                        s += e * e
                        dy[j] = scale * e
                    }
                    stats.fvu[m] += Double(s)
                }
            }
            for m in 0..<L { stats.fvu[m] /= Double(b * d) }
            // db_dec_m = Σ_b ∂/∂ŷ_m
            for m in 0..<L {
                let gb = g + lay.decoderBias[m]
                for r in 0..<b { for i in 0..<d { gb[i] += dy[r * ld + m * d + i] } }
            }

            var penalty: Double = 0
            for l in 0..<L {
                let width = lay.decoderRowLength(l)
                let w = p + lay.decoder[l], gw = g + lay.decoder[l]
                let pre = Pre.baseAddress! + l * cap * dT, a = A.baseAddress! + l * cap * dT
                var active = 0
                let f = F.baseAddress! + l * dT
                f.update(repeating: false, count: dT)
                for r in 0..<b {
                    let ar = a + r * dT
                    for i in 0..<dT where ar[i] != 0 { active += 1; f[i] = true }
                }
                stats.l0[l] = Double(active) / Double(b)

                // dW_dec_l[dT, width] = a_lᵀ[dT, B] · ∂ŷ[:, l·d ..< l·d + width]
                gemm(gw, ldc: width, a, lda: dT, transA: true, dy + l * d, ldb: ld, m: dT, n: width, k: b)
                // ∂a_l[B, dT] = ∂ŷ[:, l·d ..< l·d + width] · W_dec_lᵀ[width, dT]
                gemm(da, ldc: dT, dy + l * d, lda: ld, w, ldb: width, transB: true, m: b, n: dT, k: width)

                if usePenalty {
                    // penalty = (λ/B) Σ φ(a·n_i), n_i = ‖W_dec_{l,i}‖
                    let n = N.baseAddress! + l * dT
                    for i in 0..<dT {
                        var s: Float = 0
                        for j in 0..<width { s += w[i * width + j] * w[i * width + j] }
                        n[i] = s.squareRoot()
                    }
                    let lb = lambda / Float(b)
                    var part: Float = 0
                    let dn = DN.baseAddress!
                    dn.update(repeating: 0, count: dT)
                    for r in 0..<b {
                        let ar = a + r * dT, dar = da + r * dT
                        if kind == .relu {
                            // φ(u) = u: ∂/∂a = (λ/B)·n_i, ∂/∂n_i += (λ/B)·a
                            for i in 0..<dT {
                                part += ar[i] * n[i]
                                dar[i] += lb * n[i]
                                dn[i] += lb * ar[i]
                            }
                        } else {
                            // φ(u) = tanh(c·u): ∂/∂a = (λ/B)·φ'(u)·n_i, ∂/∂n_i += (λ/B)·φ'(u)·a
                            for i in 0..<dT {
                                let ai = ar[i]
                                guard ai != 0 else { dar[i] += lb * c * n[i]; continue }  // φ'(0) = c
                                let th = Foundation.tanh(c * ai * n[i])
                                let dphi = c * (1 - th * th)
                                part += th
                                dar[i] += lb * dphi * n[i]
                                dn[i] += lb * dphi * ai
                            }
                        }
                    }
                    // ∂n_i/∂W_dec_{l,i} = W_dec_{l,i} / n_i
                    for i in 0..<dT where n[i] > 0 && dn[i] != 0 {
                        let f = dn[i] / n[i]
                        for j in 0..<width { gw[i * width + j] += f * w[i * width + j] }
                    }
                    penalty += Double(part) * Double(lb)
                }

                // ∂pre = ∂a ⊙ act'(pre); JumpReLU: ∂log θ_i = θ_i · Σ_b ∂a · (−θ_i/ε)·1[|pre − θ_i| < ε/2]
                if kind == .jumprelu {
                    let lt = p + lay.logThreshold[l], glt = g + lay.logThreshold[l], theta = DN.baseAddress!
                    for i in 0..<dT { theta[i] = Foundation.exp(lt[i]); glt[i] = 0 }
                    for r in 0..<b {
                        let pr = pre + r * dT, dar = da + r * dT
                        for i in 0..<dT where Swift.abs(pr[i] - theta[i]) < eps / 2 { glt[i] += dar[i] }
                    }
                    for i in 0..<dT { glt[i] *= theta[i] * (-theta[i] / eps) }
                }
                for i in 0..<(b * dT) where a[i] == 0 { da[i] = 0 }
                // dW_enc_l[dT, d] = ∂pre[B, dT]ᵀ · x̃_l[B, d]
                gemm(g + lay.encoder[l], ldc: d, da, lda: dT, transA: true, x + l * d, ldb: ld, m: dT, n: d, k: b)
                let gbe = g + lay.encoderBias[l]
                for r in 0..<b { for i in 0..<dT { gbe[i] += da[r * dT + i] } }
                if shape.skip {
                    // dW_skip_l[d, d] = ∂ŷ_l[B, d]ᵀ · x̃_l[B, d]
                    gemm(g + lay.skip[l], ldc: d, dy + l * d, lda: ld, transA: true, x + l * d, ldb: ld, m: d, n: d, k: b)
                }
            }
            stats.penalty = penalty
        }
        }
        }
        }
        }
        }
        }
        }
        }
        }
        stats.loss = stats.fvu.reduce(0, +) + stats.penalty
        return stats
    }
}
