import Foundation

/// Backward passes through the local replacement model: attention patterns, norm scales and
/// MLP outputs frozen at their values on the prompt, so every target is a linear function of
/// the sources and one backward pass per batch of targets gives whole adjacency rows.
///
/// Columns follow circuit-tracer's edge matrix: `[0, nActive)` active features (all of them,
/// in `activeFeatures` order), then errors `nActive + layer·nPos + pos`, then tokens
/// `nActive + nLayers·nPos + pos` (`nColumns` in all).
///
/// The gradient block is `[P, B, dModel]` (position-major, `P` = the batch's last position + 1:
/// causal attention means later positions cannot matter). A batch runs from its highest layer
/// down; targets join the block at their own layer.
final class LinearisedBackward {
    let model: Transformer
    let transcoders: TranscoderSet
    let record: ForwardRecord
    let features: FeatureActivations
    let logitDirections: [Float]    // [nLogits, dModel]
    let nColumns: Int
    /// Floating-point operations of the matrix products run so far (2·m·n·k per GEMM).
    private(set) var flops: Double = 0

    // Work buffers, grown on demand and reused across batches.
    private var grad: [Float] = []      // G  [P, B, d]: gradient w.r.t. the residual stream
    private var work: [Float] = []      // T  [P, B, d]
    private var acc: [Float] = []       // Z  [P, B, d]
    private var headIn: [Float] = []    // X  [P, B, nHeads·dHead], then Y
    private var headT: [Float] = []     //    [P, nHeads, B, dHead]: X, then Y, head-major
    private var pattern: [Float] = []   //    [P, P]: one head's pattern, recomputed from q, k
    private var decoderScratch: [Float] // [max slot, dModel]: one slot's scaled decoder rows when not cached
    /// W_V with each key/value head repeated for its query heads, `[dModel, nHeads·dHead]`
    /// per layer (nil where there is no grouping: W_V itself serves).
    private let valueExpanded: [[Float]?]

    init(model: Transformer, transcoders: TranscoderSet, record: ForwardRecord, features: FeatureActivations, logitDirections: [Float]) {
        self.model = model
        self.transcoders = transcoders
        self.record = record
        self.features = features
        self.logitDirections = logitDirections
        let c = model.config
        self.nColumns = features.count + (c.nLayers + 1) * record.nPos
        let maxSlot = (0..<(features.slotStart.count - 1)).reduce(0) { max($0, features.slotStart[$1 + 1] - features.slotStart[$1]) }
        decoderScratch = [Float](repeating: 0, count: features.decodersCached ? 1 : maxSlot * c.dModel)
        let H = c.nHeads, KV = c.nKVHeads, dh = c.dHead, d = c.dModel
        valueExpanded = model.weights.layers.map { lw in
            guard KV != H else { return nil }
            var out = [Float](repeating: 0, count: d * H * dh)
            for i in 0..<d {
                for h in 0..<H {
                    let kvh = h / (H / KV)
                    for e in 0..<dh { out[i * H * dh + h * dh + e] = lw.wV[i * KV * dh + kvh * dh + e] }
                }
            }
            return out
        }
    }

    var nLayers: Int { model.config.nLayers }
    var nPos: Int { record.nPos }

    func layer(of t: AttributionTarget) -> Int {
        if case let .feature(f) = t { return f.layer }
        return nLayers
    }

    func position(of t: AttributionTarget) -> Int {
        if case let .feature(f) = t { return f.pos }
        return nPos - 1
    }

    /// Frees the work buffers; the next `computeRows` allocates them again.
    func releaseWorkBuffers() {
        grad = []; work = []; acc = []; headIn = []; headT = []; pattern = []
    }

    /// Computes the adjacency rows of `targets` into `rows`. `[targets.count, nColumns]`, overwritten.
    func computeRows(_ targets: [AttributionTarget], into rows: UnsafeMutablePointer<Float>) {
        let B = targets.count
        guard B > 0 else { return }
        let d = model.config.dModel
        let P = targets.map(position).max()! + 1
        let top = targets.map(layer).max()!
        let n = P * B * d
        if grad.count < n {
            grad = [Float](repeating: 0, count: n)
            work = [Float](repeating: 0, count: n)
            acc = [Float](repeating: 0, count: n)
        }
        let hn = P * B * model.config.dHead * model.config.nHeads
        if headIn.count < hn {
            headIn = [Float](repeating: 0, count: hn)
            headT = [Float](repeating: 0, count: hn)
        }
        if pattern.count < P * P { pattern = [Float](repeating: 0, count: P * P) }
        rows.update(repeating: 0, count: B * nColumns)

        grad.withUnsafeMutableBufferPointer { G in
            let G = G.baseAddress!
            G.update(repeating: 0, count: n)
            var live = false
            if top == nLayers {
                injectLogits(targets, G: G, B: B)
                live = true
            }
            for l in stride(from: min(top, nLayers - 1), through: 0, by: -1) {
                if live {
                    readSources(outputLayer: l, G: G, P: P, B: B, rows: rows)
                    skipBackward(layer: l, G: G, P: P, B: B)
                }
                live = injectFeatures(targets, layer: l, G: G, B: B) || live
                if live { attentionBackward(layer: l, G: G, P: P, B: B) }
            }
            flops += 2 * Double(B * d * P)
            // Token nodes: rows[b, token p] = G[p, b] · embedding[p]
            record.tokenEmbeddings.withUnsafeBufferPointer { E in
                let col = features.count + nLayers * nPos
                for p in 0..<P {
                    gemv(rows + col + p, incY: nColumns, G + p * B * d, lda: d, E.baseAddress! + p * d, m: B, n: d)
                }
            }
        }
    }

    /// Logit rows read `u · LN_f(δ)[last]`: the gradient is `P(w_f ⊙ u) / s_f[last]`.
    private func injectLogits(_ targets: [AttributionTarget], G: UnsafeMutablePointer<Float>, B: Int) {
        let c = model.config, d = c.dModel, last = nPos - 1
        let s = record.lnFinalScale[last]
        for (b, t) in targets.enumerated() {
            guard case let .logit(rank) = t else { continue }
            logitDirections.withUnsafeBufferPointer { u in
                frozenNormTranspose(out: G + (last * B + b) * d, g: u.baseAddress! + rank * d, weight: model.weights.lnFinal.weight,
                                    rows: 1, dim: d, centred: c.norm == .layerNorm, accumulate: true) { _ in s }
            }
        }
    }

    /// Feature rows read `W_enc[f] · x_in(δ)[l, p]`: the gradient at `resid_mid[l]` is `x_inᵀ(W_enc[f])`.
    private func injectFeatures(_ targets: [AttributionTarget], layer l: Int, G: UnsafeMutablePointer<Float>, B: Int) -> Bool {
        let d = model.config.dModel
        var any = false
        for (b, t) in targets.enumerated() {
            guard case let .feature(f) = t, f.layer == l else { continue }
            any = true
            transcoders.encoders[l].withUnsafeBufferPointer { enc in
                inputHookTranspose(layer: l, out: G + (f.pos * B + b) * d, g: enc.baseAddress! + f.index * d, rows: 1) { _ in f.pos }
            }
        }
        return any
    }

    /// Adds `x_inᵀ(g)` for `rows` rows of `g` into `out` (rows' positions given by `posOfRow`).
    private func inputHookTranspose(layer l: Int, out: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, rows: Int, posOfRow: (Int) -> Int) {
        let c = model.config, d = c.dModel
        let scale = record.ln2Scale[l]
        switch transcoders.inputHook {
        case .residMid:
            for i in 0..<(rows * d) { out[i] += g[i] }
        case .ln2Normalized:
            frozenNormTranspose(out: out, g: g, weight: nil, rows: rows, dim: d, centred: c.norm == .layerNorm, accumulate: true) { scale[posOfRow($0)] }
        case .mlpIn:
            model.weights.layers[l].ln2.weight.withUnsafeBufferPointer { w in
                frozenNormTranspose(out: out, g: g, weight: w.baseAddress!, rows: rows, dim: d, centred: c.norm == .layerNorm, accumulate: true) { scale[posOfRow($0)] }
            }
        }
    }

    /// Sources written into `mlp_out[m]`: active features of layers l ≤ m that decode into m,
    /// and the error of layer m. `rows[b, source] += G[p, b] · vector(source)`.
    private func readSources(outputLayer m: Int, G: UnsafeMutablePointer<Float>, P: Int, B: Int, rows: UnsafeMutablePointer<Float>) {
        let d = model.config.dModel
        for l in 0...m where transcoders.outputLayers(of: l).contains(m) {
            decoderScratch.withUnsafeMutableBufferPointer { S in
                for p in 0..<P {
                    let slot = features.slot(layer: l, pos: p, nPos: nPos)
                    guard !slot.isEmpty else { continue }
                    features.withScaledDecoderRows(layer: l, slot: slot, output: m, scratch: S.baseAddress!) { dec, ldDec in
                        // rows[B, slot] += G_p[B, d] · D_slotᵀ[d, n]   (D rows ldDec apart)
                        gemm(rows + slot.lowerBound, ldc: nColumns, G + p * B * d, lda: d, dec, ldb: ldDec, transB: true,
                             m: B, n: slot.count, k: d, beta: 1)
                    }
                    flops += 2 * Double(B * slot.count * d)
                }
            }
        }
        features.errors[m].withUnsafeBufferPointer { E in
            let col = features.count + m * nPos
            for p in 1..<max(P, 1) {   // errors at position 0 are zero
                gemv(rows + col + p, incY: nColumns, G + p * B * d, lda: d, E.baseAddress! + p * d, m: B, n: d)
            }
        }
        flops += 2 * Double(B * d * P)
    }

    /// The transcoder skip is the only linear path through an MLP slot:
    /// `mlp_out += x_in · S`, so `G_mid += x_inᵀ(G · Sᵀ)`.
    private func skipBackward(layer l: Int, G: UnsafeMutablePointer<Float>, P: Int, B: Int) {
        guard let S = transcoders.skips[l] else { return }
        let d = model.config.dModel
        work.withUnsafeMutableBufferPointer { T in
            // T[P·B, d] = G[P·B, d] · Sᵀ
            gemm(T.baseAddress!, ldc: d, G, lda: d, S, ldb: d, transB: true, m: P * B, n: d, k: d)
            flops += 2 * Double(P * B * d * d)
            inputHookTranspose(layer: l, out: G, g: T.baseAddress!, rows: P * B) { $0 / B }
        }
    }

    /// `resid_mid = resid_pre + post(attn(LN1(resid_pre)))` with frozen patterns and scales:
    /// `G_pre += LN1ᵀ( Σ_h patternᵀ_h · (postᵀ(G) · W_O[h]ᵀ) · W_V[h]ᵀ )`.
    ///
    /// The two projections run for all heads at once (`[P·B, d] × [d, H·dh]`); only the mixing
    /// over positions is per head, on a head-major copy so that each head is one matrix.
    private func attentionBackward(layer l: Int, G: UnsafeMutablePointer<Float>, P: Int, B: Int) {
        let c = model.config, lw = model.weights.layers[l]
        let d = c.dModel, dh = c.dHead, H = c.nHeads, hd = H * dh
        let rowsPB = P * B
        // Projections, and the mixing over the causal triangle (P(P+1)/2 pattern entries per head).
        flops += 4 * Double(rowsPB * d * hd) + Double(H * P * (P + 1) * B * dh)
        work.withUnsafeMutableBufferPointer { Tb in
        acc.withUnsafeMutableBufferPointer { Zb in
        headIn.withUnsafeMutableBufferPointer { Xb in
        headT.withUnsafeMutableBufferPointer { XTb in
        pattern.withUnsafeMutableBufferPointer { Ab in
        record.queries[l].withUnsafeBufferPointer { Q in
        record.keys[l].withUnsafeBufferPointer { K in
            let T = Tb.baseAddress!, Z = Zb.baseAddress!, X = Xb.baseAddress!, XT = XTb.baseAddress!, A = Ab.baseAddress!
            // Gemma-2: the attention output passes a frozen post-attention RMSNorm.
            var input: UnsafePointer<Float> = UnsafePointer(G)
            if let post = lw.postAttentionNorm {
                let s = record.postAttentionScale[l]
                post.weight.withUnsafeBufferPointer { w in
                    frozenNormTranspose(out: T, g: G, weight: w.baseAddress!, rows: rowsPB, dim: d, centred: false, accumulate: false) { s[$0 / B] }
                }
                input = UnsafePointer(T)
            }
            // X[P·B, H·dh] = input[P·B, d] · W_Oᵀ          (W_O is [H·dh, d])
            gemm(X, ldc: hd, input, lda: d, lw.wO, ldb: d, transB: true, m: rowsPB, n: hd, k: d)
            // [P, B, H, dh] → [P, H, B, dh]
            for p in 0..<P { for b in 0..<B { for h in 0..<H {
                (XT + ((p * H + h) * B + b) * dh).update(from: X + ((p * B + b) * H + h) * dh, count: dh)
            } } }
            for h in 0..<H {
                // pattern_h[P, P] (query, key) on the first P positions, recomputed from q and k.
                model.pattern(queries: Q.baseAddress!, keys: K.baseAddress!, layer: l, head: h, rows: P, into: A)
                // Y_h[P, B·dh] = pattern_hᵀ[P, P] · X_h[P, B·dh], in place (pattern_h lower triangular;
                // X_h rows are H·B·dh apart in the head-major copy).
                trmm(XT + h * B * dh, ldb: H * B * dh, A, lda: P, lower: true, transA: true, m: P, n: B * dh)
            }
            // [P, H, B, dh] → [P, B, H, dh], into X (now Y)
            let Y = X
            for p in 0..<P { for h in 0..<H { for b in 0..<B {
                (Y + ((p * B + b) * H + h) * dh).update(from: XT + ((p * H + h) * B + b) * dh, count: dh)
            } } }
            // Z[P·B, d] = Y[P·B, H·dh] · W_V,expandedᵀ          (W_V is [d, H·dh] after expansion)
            let wv = valueExpanded[l] ?? lw.wV
            gemm(Z, ldc: d, Y, lda: hd, wv, ldb: hd, transB: true, m: rowsPB, n: d, k: hd)
            let s1 = record.ln1Scale[l]
            lw.ln1.weight.withUnsafeBufferPointer { w in
                frozenNormTranspose(out: G, g: Z, weight: w.baseAddress!, rows: rowsPB, dim: d, centred: c.norm == .layerNorm, accumulate: true) { s1[$0 / B] }
            }
        }}}}}}}
    }
}
