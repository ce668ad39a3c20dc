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
    /// `[nLayers, dT]`: whether each feature fired on any token of the last `lossAndGradients` batch.
    public private(set) var fired: [Bool]
    /// Work buffers, reused across steps.
    private let work: TrainerBuffers

    public init(layout: ParameterLayout, parameters: [Float], sparsity: Float) {
        precondition(parameters.count == layout.count, "parameters \(parameters.count) ≠ layout \(layout.count)")
        self.layout = layout
        self.parameters = parameters
        self.gradients = [Float](repeating: 0, count: layout.count)
        self.sparsity = layout.shape.activation == .topk ? 0 : sparsity
        self.fired = [Bool](repeating: false, count: layout.shape.nLayers * layout.shape.dTranscoder)
        self.work = TrainerBuffers(layout.shape)
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

    /// Activations of source layer `l` after `forward`, `[B, dT]` row-major (a copy).
    public func activations(layer l: Int, batch b: Int) -> [Float] {
        precondition(b <= work.capacity, "batch \(b) > the last forward's \(work.capacity)")
        return Array(UnsafeBufferPointer(start: work.act(l), count: b * shape.dTranscoder))
    }

    /// Reconstruction after `forward`, `[B, nLayers·d]` (normalised units; a copy).
    public func reconstruction(batch b: Int) -> [Float] {
        precondition(b <= work.capacity, "batch \(b) > the last forward's \(work.capacity)")
        return Array(UnsafeBufferPointer(start: work.yHat, count: b * shape.nLayers * shape.dModel))
    }

    /// Encodes and decodes `b` tokens: `x` `[b, nLayers·d]` (normalised inputs, layer `l` in
    /// columns `l·d ..< (l+1)·d`). Fills the activations and the reconstruction.
    public func forward(x: UnsafePointer<Float>, batch b: Int) {
        work.reserve(b)
        parameters.withUnsafeBufferPointer { forward(x: x, batch: b, parameters: $0.baseAddress!) }
    }

    /// `forward` on the parameters at `p` (`[layout.count]`).
    private func forward(x: UnsafePointer<Float>, batch B: Int, parameters p: UnsafePointer<Float>) {
        let L = shape.nLayers, d = shape.dModel, dT = shape.dTranscoder, ld = L * d
        let lay = layout, w = work
        for l in 0..<L {
            if shape.activation == .jumprelu {
                // θ_l[dT] = exp(log_threshold_l)
                let lt = p + lay.logThreshold[l], theta = w.thresholds(l)
                for i in 0..<dT { theta[i] = Foundation.exp(lt[i]) }
            }
            // pre_l[B, dT] = x̃_l[B, d] · W_enc_lᵀ + b_enc_l
            TranscoderKernels.encoderForward(pre: w.pre(l), x: x + l * d, ldx: ld, weight: p + lay.encoder[l], bias: p + lay.encoderBias[l],
                                             batch: B, dModel: d, dTranscoder: dT)
            // a_l[B, dT] = act(pre_l)
            TranscoderKernels.activationForward(act: w.act(l), order: w.order, pre: w.pre(l), thresholds: w.thresholds(l),
                                                kind: shape.activation, k: shape.k, batch: B, dTranscoder: dT)
        }
        // ŷ[B, L·d] = b_dec (per output layer) + Σ_l a_l · W_dec_l (+ x̃_l · W_skip_lᵀ)
        for m in 0..<L {
            TranscoderKernels.decoderBiasForward(yHat: w.yHat + m * d, ldy: ld, bias: p + lay.decoderBias[m], batch: B, dModel: d)
        }
        for l in 0..<L {
            // ŷ[:, l·d ..< l·d + width] += a_l[B, dT] · W_dec_l[dT, width]
            TranscoderKernels.decoderForward(yHat: w.yHat + l * d, ldy: ld, act: w.act(l), weight: p + lay.decoder[l],
                                             batch: B, dTranscoder: dT, width: lay.decoderRowLength(l))
            if shape.skip {
                // ŷ_l[B, d] += x̃_l[B, d] · W_skip_lᵀ
                TranscoderKernels.skipForward(yHat: w.yHat + l * d, ldy: ld, x: x + l * d, ldx: ld, weight: p + lay.skip[l], batch: B, dModel: d)
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
        work.reserve(b)
        return parameters.withUnsafeBufferPointer { P in
            gradients.withUnsafeMutableBufferPointer { G in
                fired.withUnsafeMutableBufferPointer { F in
                    forward(x: x, batch: b, parameters: P.baseAddress!)
                    return backward(gradients: G.baseAddress!, fired: F.baseAddress!, x: x, target: target, batch: b, parameters: P.baseAddress!)
                }
            }
        }
    }

    /// The loss of the batch `forward` just ran, and its gradient into `g` (`[layout.count]`,
    /// overwritten); `fired` `[nLayers, dT]` overwritten.
    private func backward(gradients g: UnsafeMutablePointer<Float>, fired: UnsafeMutablePointer<Bool>,
                          x: UnsafePointer<Float>, target: UnsafePointer<Float>, batch B: Int, parameters p: UnsafePointer<Float>) -> BatchStatistics {
        let L = shape.nLayers, d = shape.dModel, dT = shape.dTranscoder, ld = L * d
        let lay = layout, w = work, kind = shape.activation
        let usePenalty = kind != .topk && sparsity > 0
        var stats = BatchStatistics(fvu: [Double](repeating: 0, count: L), l0: [Double](repeating: 0, count: L))
        g.update(repeating: 0, count: lay.count)

        // fvu_m = Σ_b ‖ŷ_m − ỹ_m‖² / (B·d);  dŷ[B, L·d] = 2(ŷ − ỹ)/(B·d)
        TranscoderKernels.reconstructionLoss(dYHat: w.dYHat, mse: &stats.fvu, yHat: w.yHat, target: target, batch: B, nLayers: L, dModel: d)
        // db_dec_m[d] = Σ_b dŷ_m
        for m in 0..<L {
            TranscoderKernels.decoderBiasBackward(dBias: g + lay.decoderBias[m], dYHat: w.dYHat + m * d, ldy: ld, batch: B, dModel: d)
        }

        for l in 0..<L {
            let width = lay.decoderRowLength(l), wDec = p + lay.decoder[l], dWDec = g + lay.decoder[l]
            stats.l0[l] = Double(TrainerBuffers.recordFiring(fired + l * dT, act: w.act(l), batch: B, dTranscoder: dT)) / Double(B)

            // dW_dec_l[dT, width] = a_lᵀ · dŷ[:, l·d ..< l·d + width];  dAct[B, dT] = dŷ[:, cols] · W_dec_lᵀ
            TranscoderKernels.decoderBackward(dWeight: dWDec, dAct: w.dAct, dYHat: w.dYHat + l * d, ldy: ld, act: w.act(l), weight: wDec,
                                              batch: B, dTranscoder: dT, width: width)
            if usePenalty {
                // penalty_l = (λ/B) Σ_b Σ_i φ(a·‖W_dec_{l,i}‖): into dAct and dW_dec_l
                TranscoderKernels.decoderNorms(w.decoderNorms, weight: wDec, dTranscoder: dT, width: width)
                stats.penalty += TranscoderKernels.sparsityPenalty(dAct: w.dAct, dWeight: dWDec, dNorms: w.dDecoderNorms,
                                                                   act: w.act(l), weight: wDec, norms: w.decoderNorms,
                                                                   lambda: sparsity, kind: kind, batch: B, dTranscoder: dT, width: width)
            }
            // dPre[B, dT] = dAct ⊙ act'(pre_l);  JumpReLU: dlog θ_l by the rectangle kernel
            TranscoderKernels.activationBackward(dPre: w.dPre, dLogThreshold: kind == .jumprelu ? g + lay.logThreshold[l] : nil,
                                                 dAct: w.dAct, pre: w.pre(l), act: w.act(l), thresholds: w.thresholds(l),
                                                 kind: kind, batch: B, dTranscoder: dT)
            // dW_enc_l[dT, d] = dPreᵀ · x̃_l;  db_enc_l[dT] = Σ_b dPre
            TranscoderKernels.encoderBackward(dWeight: g + lay.encoder[l], dBias: g + lay.encoderBias[l], dPre: w.dPre, x: x + l * d, ldx: ld,
                                              batch: B, dModel: d, dTranscoder: dT)
            if shape.skip {
                // dW_skip_l[d, d] = dŷ_lᵀ · x̃_l
                TranscoderKernels.skipBackward(dWeight: g + lay.skip[l], dYHat: w.dYHat + l * d, ldy: ld, x: x + l * d, ldx: ld, batch: B, dModel: d)
            }
        }
        stats.loss = stats.fvu.reduce(0, +) + stats.penalty
        return stats
    }
}

/// The trainer's work buffers for up to `capacity` tokens, cut from one arena by a size table
/// (llm.c style): allocated once, again only when a larger batch comes, reused across steps;
/// each view holds one quantity.
final class TrainerBuffers {
    let nLayers: Int, dModel: Int, dTranscoder: Int
    private(set) var capacity = 0
    private var arena: UnsafeMutablePointer<Float>
    /// `[dT]`: TopK's row order.
    let order: UnsafeMutablePointer<Int32>
    /// `[nLayers, dT]`: `θ_l = exp(log_threshold_l)` (JumpReLU), written by the forward.
    private let thresholdStorage: UnsafeMutablePointer<Float>
    /// `[dT]`: `‖W_dec_{l,i}‖` of the source layer being differentiated.
    let decoderNorms: UnsafeMutablePointer<Float>
    /// `[dT]`: `∂penalty/∂‖W_dec_{l,i}‖` of the source layer being differentiated.
    let dDecoderNorms: UnsafeMutablePointer<Float>
    /// `[nLayers, capacity, dT]`: pre-activations; `pre(l)` is `[B, dT]`.
    private var preStorage: UnsafeMutablePointer<Float>
    /// `[nLayers, capacity, dT]`: activations; `act(l)` is `[B, dT]`.
    private var actStorage: UnsafeMutablePointer<Float>
    /// `[capacity, nLayers·d]`: the reconstruction ŷ.
    private(set) var yHat: UnsafeMutablePointer<Float>
    /// `[capacity, nLayers·d]`: `∂loss/∂ŷ`.
    private(set) var dYHat: UnsafeMutablePointer<Float>
    /// `[capacity, dT]`: `∂loss/∂a_l` of the source layer being differentiated.
    private(set) var dAct: UnsafeMutablePointer<Float>
    /// `[capacity, dT]`: `∂loss/∂pre_l` of the source layer being differentiated.
    private(set) var dPre: UnsafeMutablePointer<Float>
    /// Holds the fixed-size views above (`thresholdStorage`, norms).
    private let fixed: UnsafeMutablePointer<Float>

    init(_ shape: TranscoderShape) {
        nLayers = shape.nLayers; dModel = shape.dModel; dTranscoder = shape.dTranscoder
        let dT = shape.dTranscoder
        fixed = .allocate(capacity: (nLayers + 2) * dT)
        fixed.initialize(repeating: 0, count: (nLayers + 2) * dT)
        thresholdStorage = fixed
        decoderNorms = fixed + nLayers * dT
        dDecoderNorms = fixed + (nLayers + 1) * dT
        order = .allocate(capacity: dT)
        order.initialize(repeating: 0, count: dT)
        arena = .allocate(capacity: 0)
        preStorage = arena; actStorage = arena; yHat = arena; dYHat = arena; dAct = arena; dPre = arena
    }

    deinit {
        arena.deallocate()
        fixed.deallocate()
        order.deallocate()
    }

    /// `θ_l` `[dT]`.
    func thresholds(_ l: Int) -> UnsafeMutablePointer<Float> { thresholdStorage + l * dTranscoder }
    /// `pre_l` `[B, dT]`.
    func pre(_ l: Int) -> UnsafeMutablePointer<Float> { preStorage + l * capacity * dTranscoder }
    /// `a_l` `[B, dT]`.
    func act(_ l: Int) -> UnsafeMutablePointer<Float> { actStorage + l * capacity * dTranscoder }

    /// Makes room for `b` tokens (keeps the buffers when they are large enough).
    func reserve(_ b: Int) {
        guard b > capacity else { return }
        let L = nLayers, ld = nLayers * dModel, dT = dTranscoder
        // size table: pre, act [L, b, dT]; yHat, dYHat [b, L·d]; dAct, dPre [b, dT]
        let sizes = [L * b * dT, L * b * dT, b * ld, b * ld, b * dT, b * dT]
        arena.deallocate()
        arena = .allocate(capacity: sizes.reduce(0, +))
        arena.initialize(repeating: 0, count: sizes.reduce(0, +))
        var views: [UnsafeMutablePointer<Float>] = [], offset = 0
        for s in sizes { views.append(arena + offset); offset += s }
        preStorage = views[0]; actStorage = views[1]; yHat = views[2]; dYHat = views[3]; dAct = views[4]; dPre = views[5]
        capacity = b
    }

    /// Marks the features of `act` `[B, dT]` that fired on any row into `fired` `[dT]`
    /// (overwritten); returns the number of nonzero activations.
    static func recordFiring(_ fired: UnsafeMutablePointer<Bool>, act: UnsafePointer<Float>, batch B: Int, dTranscoder dT: Int) -> Int {
        fired.update(repeating: false, count: dT)
        var active = 0
        for r in 0..<B {
            let a = act + r * dT
            for i in 0..<dT where a[i] != 0 { active += 1; fired[i] = true }
        }
        return active
    }
}
