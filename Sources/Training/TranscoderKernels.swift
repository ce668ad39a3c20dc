import Foundation
import Tracer

// The pieces of the transcoder loss, forward and backward side by side (llm.c style), on
// unsafe pointers the caller takes once. Arguments: outputs, inputs, then dimensions. Every
// matrix is row-major; a leading dimension (`ld…`) is given where rows are strided (the
// batch buffers hold every layer side by side: `[B, nLayers·d]`, layer `l` in columns
// `l·d ..< (l+1)·d`). `TranscoderTrainer` documents the whole loss; each kernel quotes its line.

enum TranscoderKernels {
    // MARK: Encoder: pre = x̃ · W_encᵀ + b_enc

    /// `pre[B, dT] = x[B, d] · W_encᵀ + b_enc`.
    ///
    /// - Parameters:
    ///   - pre: `[B, dT]`, overwritten.
    ///   - x: `[B, d]` with row stride `ldx`.
    ///   - weight: `W_enc` `[dT, d]`; bias: `b_enc` `[dT]`.
    static func encoderForward(pre: UnsafeMutablePointer<Float>,
                               x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               batch B: Int, dModel d: Int, dTranscoder dT: Int) {
        // pre[B, dT] = x[B, d] · W_encᵀ[d, dT]
        gemm(pre, ldc: dT, x, lda: ldx, weight, ldb: d, transB: true, m: B, n: dT, k: d)
        for r in 0..<B {
            let row = pre + r * dT
            for i in 0..<dT { row[i] += bias[i] }
        }
    }

    /// Backward of `encoderForward`: `dW_enc[dT, d] = dPreᵀ · x` (overwritten) and
    /// `db_enc[dT] += Σ_b dPre[b]`.
    ///
    /// - Parameters:
    ///   - dWeight: `[dT, d]`, overwritten; dBias: `[dT]`, accumulated.
    ///   - dPre: `[B, dT]`; x: `[B, d]` with row stride `ldx`.
    static func encoderBackward(dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
                                dPre: UnsafePointer<Float>, x: UnsafePointer<Float>, ldx: Int,
                                batch B: Int, dModel d: Int, dTranscoder dT: Int) {
        // dW_enc[dT, d] = dPreᵀ[dT, B] · x[B, d]
        gemm(dWeight, ldc: d, dPre, lda: dT, transA: true, x, ldb: ldx, m: dT, n: d, k: B)
        for r in 0..<B {
            let row = dPre + r * dT
            for i in 0..<dT { dBias[i] += row[i] }
        }
    }

    // MARK: Activation: a = act(pre)

    /// `a[B, dT] = act(pre)`: ReLU `max(pre, 0)`; JumpReLU `pre · 1[pre > θ]`; TopK the `k`
    /// largest of each row (ties → lower index), unchanged, as the engine.
    ///
    /// - Parameters:
    ///   - act: `[B, dT]`, overwritten.
    ///   - pre: `[B, dT]`.
    ///   - thresholds: `θ` `[dT]` (JumpReLU; else unread).
    ///   - order: `[dT]` scratch (TopK).
    static func activationForward(act: UnsafeMutablePointer<Float>, order: UnsafeMutablePointer<Int32>,
                                  pre: UnsafePointer<Float>, thresholds: UnsafePointer<Float>,
                                  kind: TrainingOptions.ActivationKind, k: Int, batch B: Int, dTranscoder dT: Int) {
        switch kind {
        case .relu:
            for i in 0..<(B * dT) { act[i] = max(pre[i], 0) }
        case .jumprelu:
            for r in 0..<B {
                let p = pre + r * dT, a = act + r * dT
                for i in 0..<dT { a[i] = p[i] > thresholds[i] ? p[i] : 0 }
            }
        case .topk:
            var rowOrder = UnsafeMutableBufferPointer(start: order, count: dT)
            for r in 0..<B {
                let p = pre + r * dT, a = act + r * dT
                for i in 0..<dT { order[i] = Int32(i); a[i] = 0 }
                rowOrder.sort { (i: Int32, j: Int32) -> Bool in
                    let vi: Float = p[Int(i)], vj: Float = p[Int(j)]
                    return vi != vj ? vi > vj : i < j
                }
                for j in 0..<k { let i = Int(order[j]); a[i] = p[i] }
            }
        }
    }

    /// Backward of `activationForward`: `dPre = dAct ⊙ 1[a ≠ 0]` (ReLU, TopK, and JumpReLU
    /// where active, `∂a/∂pre = 1`), and for JumpReLU the threshold's straight-through
    /// estimate `dlog θ_i = θ_i · Σ_b dAct[b, i] · (−θ_i/ε) · 1[|pre − θ_i| < ε/2]` (overwritten).
    ///
    /// - Parameters:
    ///   - dPre: `[B, dT]`, overwritten.
    ///   - dLogThreshold: `[dT]`, overwritten (JumpReLU; else untouched, may be nil).
    ///   - dAct: `[B, dT]`; pre, act: `[B, dT]`; thresholds: `θ` `[dT]`.
    static func activationBackward(dPre: UnsafeMutablePointer<Float>, dLogThreshold: UnsafeMutablePointer<Float>?,
                                   dAct: UnsafePointer<Float>, pre: UnsafePointer<Float>, act: UnsafePointer<Float>,
                                   thresholds: UnsafePointer<Float>,
                                   kind: TrainingOptions.ActivationKind, batch B: Int, dTranscoder dT: Int) {
        if kind == .jumprelu, let glt = dLogThreshold {
            let halfBand = TrainingConstants.jumpReLUBandwidth / 2, eps = TrainingConstants.jumpReLUBandwidth
            glt.update(repeating: 0, count: dT)
            for r in 0..<B {
                let p = pre + r * dT, da = dAct + r * dT
                for i in 0..<dT where Swift.abs(p[i] - thresholds[i]) < halfBand { glt[i] += da[i] }
            }
            for i in 0..<dT { glt[i] *= thresholds[i] * (-thresholds[i] / eps) }
        }
        for i in 0..<(B * dT) { dPre[i] = act[i] != 0 ? dAct[i] : 0 }
    }

    // MARK: Decoder: ŷ += a · W_dec (+ x̃ · W_skipᵀ)

    /// `ŷ[:, cols] += a[B, dT] · W_dec[dT, width]`: features of one source layer write the
    /// `width` columns of their output layers.
    ///
    /// - Parameters:
    ///   - yHat: `[B, width]` with row stride `ldy`, accumulated.
    ///   - act: `[B, dT]`; weight: `W_dec` `[dT, width]`.
    static func decoderForward(yHat: UnsafeMutablePointer<Float>, ldy: Int,
                               act: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               batch B: Int, dTranscoder dT: Int, width: Int) {
        // ŷ[B, width] += a[B, dT] · W_dec[dT, width]
        gemm(yHat, ldc: ldy, act, lda: dT, weight, ldb: width, m: B, n: width, k: dT, beta: 1)
    }

    /// Backward of `decoderForward`: `dW_dec = aᵀ · dŷ` (overwritten) and `dAct = dŷ · W_decᵀ`
    /// (overwritten).
    ///
    /// - Parameters:
    ///   - dWeight: `[dT, width]`; dAct: `[B, dT]`.
    ///   - dYHat: `[B, width]` with row stride `ldy`; act: `[B, dT]`; weight: `[dT, width]`.
    static func decoderBackward(dWeight: UnsafeMutablePointer<Float>, dAct: UnsafeMutablePointer<Float>,
                                dYHat: UnsafePointer<Float>, ldy: Int, act: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                batch B: Int, dTranscoder dT: Int, width: Int) {
        // dW_dec[dT, width] = aᵀ[dT, B] · dŷ[B, width]
        gemm(dWeight, ldc: width, act, lda: dT, transA: true, dYHat, ldb: ldy, m: dT, n: width, k: B)
        // dAct[B, dT] = dŷ[B, width] · W_decᵀ[width, dT]
        gemm(dAct, ldc: dT, dYHat, lda: ldy, weight, ldb: width, transB: true, m: B, n: dT, k: width)
    }

    /// `ŷ_l[B, d] += x̃_l[B, d] · W_skipᵀ`.
    static func skipForward(yHat: UnsafeMutablePointer<Float>, ldy: Int,
                            x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, batch B: Int, dModel d: Int) {
        // ŷ_l[B, d] += x̃_l[B, d] · W_skipᵀ[d, d]
        gemm(yHat, ldc: ldy, x, lda: ldx, weight, ldb: d, transB: true, m: B, n: d, k: d, beta: 1)
    }

    /// Backward of `skipForward`: `dW_skip[d, d] = dŷ_lᵀ · x̃_l` (overwritten).
    static func skipBackward(dWeight: UnsafeMutablePointer<Float>,
                             dYHat: UnsafePointer<Float>, ldy: Int, x: UnsafePointer<Float>, ldx: Int, batch B: Int, dModel d: Int) {
        // dW_skip[d, d] = dŷ_lᵀ[d, B] · x̃_l[B, d]
        gemm(dWeight, ldc: d, dYHat, lda: ldy, transA: true, x, ldb: ldx, m: d, n: d, k: B)
    }

    /// `ŷ_m[b] = b_dec_m` for every row of output layer `m` (what the decoder GEMMs add to).
    ///
    /// - Parameters: yHat: `[B, d]` with row stride `ldy`, overwritten; bias: `b_dec_m` `[d]`.
    static func decoderBiasForward(yHat: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>, batch B: Int, dModel d: Int) {
        for r in 0..<B { (yHat + r * ldy).update(from: bias, count: d) }
    }

    /// Backward of `decoderBiasForward` for output layer `m`: `db_dec_m[d] += Σ_b dŷ_m[b]`.
    static func decoderBiasBackward(dBias: UnsafeMutablePointer<Float>, dYHat: UnsafePointer<Float>, ldy: Int, batch B: Int, dModel d: Int) {
        for r in 0..<B {
            let row = dYHat + r * ldy
            for i in 0..<d { dBias[i] += row[i] }
        }
    }

    // MARK: Loss terms (value and gradient together)

    /// Reconstruction term `mse_m = Σ_b ‖ŷ_m − ỹ_m‖² / (B·d)` for each output layer `m`, and
    /// its gradient `dŷ = 2(ŷ − ỹ)/(B·d)`.
    ///
    /// - Parameters:
    ///   - dYHat: `[B, nLayers·d]`, overwritten; mse: `[nLayers]`, overwritten.
    ///   - yHat, target: `[B, nLayers·d]`.
    static func reconstructionLoss(dYHat: UnsafeMutablePointer<Float>, mse: inout [Double],
                                   yHat: UnsafePointer<Float>, target: UnsafePointer<Float>,
                                   batch B: Int, nLayers L: Int, dModel d: Int) {
        let scale = 2 / Float(B * d)
        for m in 0..<L { mse[m] = 0 }
        for r in 0..<B {
            for m in 0..<L {
                let j0 = r * L * d + m * d
                let y = yHat + j0, t = target + j0, dy = dYHat + j0
                var s: Float = 0
                for i in 0..<d {
                    let e = y[i] - t[i]
                    s += e * e
                    dy[i] = scale * e
                }
                mse[m] += Double(s)
            }
        }
        for m in 0..<L { mse[m] /= Double(B * d) }
    }

    /// `‖W_dec_{l,i}‖` for every feature of one source layer (the whole decoder row).
    ///
    /// - Parameters: norms: `[dT]`, overwritten; weight: `W_dec` `[dT, width]`.
    static func decoderNorms(_ norms: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, dTranscoder dT: Int, width: Int) {
        for i in 0..<dT {
            let row = weight + i * width
            var s: Float = 0
            for j in 0..<width { s += row[j] * row[j] }
            norms[i] = s.squareRoot()
        }
    }

    /// Sparsity term of one source layer, `(λ/B) Σ_b Σ_i φ(a_{b,i} · n_i)` with
    /// `n_i = ‖W_dec_{l,i}‖`, and its gradient: `dAct += (λ/B)·φ'(u)·n_i`,
    /// `dW_dec_{l,i} += (Σ_b (λ/B)·φ'(u)·a) · W_dec_{l,i} / n_i`. ReLU `φ(u) = u`; JumpReLU
    /// `φ(u) = tanh(c·u)` (`c` = `TrainingConstants.tanhScale`; at `a = 0`, `φ'(0) = c` still
    /// reaches `dAct`, which the threshold's estimate reads).
    ///
    /// - Parameters:
    ///   - dAct: `[B, dT]`, accumulated; dWeight: `[dT, width]`, accumulated.
    ///   - dNorms: `[dT]` scratch (`∂penalty/∂n_i`), overwritten.
    ///   - act: `[B, dT]`; weight: `W_dec` `[dT, width]`; norms: `n` `[dT]`.
    /// - Returns: the term's value.
    static func sparsityPenalty(dAct: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dNorms: UnsafeMutablePointer<Float>,
                                act: UnsafePointer<Float>, weight: UnsafePointer<Float>, norms n: UnsafePointer<Float>,
                                lambda: Float, kind: TrainingOptions.ActivationKind, batch B: Int, dTranscoder dT: Int, width: Int) -> Double {
        let lb = lambda / Float(B), c = TrainingConstants.tanhScale
        var total: Float = 0
        dNorms.update(repeating: 0, count: dT)
        for r in 0..<B {
            let a = act + r * dT, da = dAct + r * dT
            if kind == .relu {
                // φ(u) = u: ∂/∂a = (λ/B)·n_i, ∂/∂n_i += (λ/B)·a
                for i in 0..<dT {
                    total += a[i] * n[i]
                    da[i] += lb * n[i]
                    dNorms[i] += lb * a[i]
                }
            } else {
                // φ(u) = tanh(c·u): ∂/∂a = (λ/B)·φ'(u)·n_i, ∂/∂n_i += (λ/B)·φ'(u)·a
                for i in 0..<dT {
                    let ai = a[i]
                    guard ai != 0 else { da[i] += lb * c * n[i]; continue }  // φ'(0) = c
                    let th = Foundation.tanh(c * ai * n[i])
                    let dphi = c * (1 - th * th)
                    total += th
                    da[i] += lb * dphi * n[i]
                    dNorms[i] += lb * dphi * ai
                }
            }
        }
        // ∂n_i/∂W_dec_{l,i} = W_dec_{l,i} / n_i
        for i in 0..<dT where n[i] > 0 && dNorms[i] != 0 {
            let f = dNorms[i] / n[i], w = weight + i * width, gw = dWeight + i * width
            for j in 0..<width { gw[j] += f * w[j] }
        }
        return Double(total) * Double(lb)
    }
}
