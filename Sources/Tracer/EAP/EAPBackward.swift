import Foundation

extension EdgeAttribution {
    /// The real (nonlinear) backward pass of a recorded run: from `∂L/∂logits` at each segment's
    /// last position to `∂L/∂(each receiver's input)`, summed over the segments.
    ///
    /// Every receiver's gradient is taken at the residual it reads in the forward: a query
    /// head's through its own `W_Q` columns, its share of q-norm and rotary, and LN1's Jacobian;
    /// a key / value head's likewise (its query heads' gradients summed, GQA); an MLP's through
    /// its activation and LN2; `logits` through the final norm (and Gemma-2's final softcap).
    /// The residual's gradient at a layer is the sum of its downstream receivers' gradients.
    ///
    /// - Parameters:
    ///   - run: recorded from layer 0 without patches (`run(…, record: true)`).
    ///   - dLogits: `∂L/∂logits` `[nVocab]` per segment, of the logits after any final softcap.
    /// - Returns: `[nReceivers, T·dModel]` in `graph.receivers` order.
    /// - Complexity: about twice the forward pass's.
    func backward(_ run: EAPRun, dLogits: [[Float]]) -> [Float] {
        let c = model.config, w = model.weights
        let d = c.dModel, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads, m = c.dMLP, V = c.nVocab
        let qDim = H * dh, kvDim = KV * dh, S = run.nSegments, T = run.nPos, R = S * T, n = T * d
        let lay = layout
        precondition(run.layers.count == c.nLayers && dLogits.count == S)
        var G = [Float](repeating: 0, count: lay.nReceivers * n)
        var dx = [Float](repeating: 0, count: R * d)      // ∂L/∂residual [R, d]

        /// G[receiver] += rows of `g` `[R, d]` summed over segments; dx += g.
        func deposit(_ g: [Float], receiver r: Int) {
            g.withUnsafeBufferPointer { src in G.withUnsafeMutableBufferPointer { dst in dx.withUnsafeMutableBufferPointer { x in
                let to = dst.baseAddress! + r * n
                for seg in 0..<S { let from = src.baseAddress! + seg * n; for i in 0..<n { to[i] += from[i] } }
                for i in 0..<(R * d) { x[i] += src[i] }
            }}}
        }

        // Final norm: logits = lnf(x_last) · W_U; Gemma-2: y = cap·tanh(logits / cap).
        for seg in 0..<S {
            var dz = dLogits[seg]
            if let cap = c.finalLogitSoftcap {
                // dy/dz = 1 − tanh²(z/cap) = 1 − (y/cap)²
                for i in 0..<V { let t = run.logits[seg][i] / cap; dz[i] *= 1 - t * t }
            }
            var dn = [Float](repeating: 0, count: d)
            // dn[d] = W_U[d, V] · dz[V]
            gemv(&dn, w.unembedding, lda: V, dz, m: d, n: V)
            var g = [Float](repeating: 0, count: R * d)
            run.finalInput.withUnsafeBufferPointer { X in g.withUnsafeMutableBufferPointer { Gp in
                normBackward(dx: Gp.baseAddress! + (seg * T + T - 1) * d, dy: dn, x: X.baseAddress! + seg * d, weight: w.lnFinal.weight,
                             rows: 1, dim: d, kind: c.norm, eps: c.normEps, accumulate: false)
            }}
            deposit(g, receiver: lay.logits)
        }

        for l in (0..<c.nLayers).reversed() {
            let rec = run.layers[l], lw = w.layers[l]
            // MLP: out = post(W_out · act(W_in · LN2(residMid))). dx is ∂L/∂residPost here.
            var du = dx
            if let post = lw.postMLPNorm {
                normBackward(dx: &du, dy: dx, x: rec.mlpPre, weight: post.weight, rows: R, dim: d, kind: .rmsNorm, eps: c.normEps, accumulate: false)
            }
            var dHidden = [Float](repeating: 0, count: R * m)
            // dHidden[R, dMLP] = du[R, d] · W_outᵀ   (W_out [dMLP, d])
            gemm(&dHidden, ldc: m, du, lda: d, lw.wOut, ldb: d, transB: true, m: R, n: m, k: d)
            var dup: [Float] = []
            switch c.mlp {
            case .geluTanh:
                for i in dHidden.indices { dHidden[i] *= geluTanhDerivative(rec.gate[i]) }
            case let .gated(act):
                // h = act(gate) ⊙ up: dgate = dHidden ⊙ up ⊙ act'(gate), dup = dHidden ⊙ act(gate)
                dup = dHidden
                for i in dHidden.indices {
                    let a = rec.gate[i]
                    let (f, df) = act == .silu ? (silu(a), siluDerivative(a)) : (geluTanh(a), geluTanhDerivative(a))
                    dup[i] = dHidden[i] * f
                    dHidden[i] *= rec.up[i] * df
                }
            }
            var dIn = [Float](repeating: 0, count: R * d)
            // dIn[R, d] = dgate[R, dMLP] · W_inᵀ (+ dup · W_upᵀ)   (W_in, W_up [d, dMLP])
            gemm(&dIn, ldc: d, dHidden, lda: m, lw.wIn, ldb: m, transB: true, m: R, n: d, k: m)
            if let wUp = lw.wUp { gemm(&dIn, ldc: d, dup, lda: m, wUp, ldb: m, transB: true, m: R, n: d, k: m, beta: 1) }
            var g = [Float](repeating: 0, count: R * d)
            normBackward(dx: &g, dy: dIn, x: rec.residMid, weight: lw.ln2.weight, rows: R, dim: d, kind: c.norm, eps: c.normEps, accumulate: false)
            deposit(g, receiver: lay.mlpReceiver(l))

            // Attention: out = post(z · W_O + b_O), z_h = softmax(cap·tanh(scale·q_h·k_gᵀ/cap)) · v_g. dx is ∂L/∂residMid;
            // adding every head's receivers' gradients makes it ∂L/∂residPre.
            du = dx
            if let post = lw.postAttentionNorm {
                normBackward(dx: &du, dy: dx, x: rec.attnPre, weight: post.weight, rows: R, dim: d, kind: .rmsNorm, eps: c.normEps, accumulate: false)
            }
            var dz = [Float](repeating: 0, count: R * qDim)
            // dz[R, H·dh] = du[R, d] · W_Oᵀ   (W_O [H·dh, d])
            gemm(&dz, ldc: qDim, du, lda: d, lw.wO, ldb: d, transB: true, m: R, n: qDim, k: d)
            var dq = [Float](repeating: 0, count: R * qDim), dk = [Float](repeating: 0, count: R * kvDim), dv = dk
            attentionBackward(layer: l, rec, dz: dz, dq: &dq, dk: &dk, dv: &dv, nSegments: S, nPos: T)
            if !model.inverseFrequencies.isEmpty {
                dq.withUnsafeMutableBufferPointer { Q in dk.withUnsafeMutableBufferPointer { K in
                    for seg in 0..<S {
                        applyRotary(Q.baseAddress! + seg * T * qDim, nPos: T, nHeads: H, dHead: dh, inverseFrequencies: model.inverseFrequencies, transposed: true)
                        applyRotary(K.baseAddress! + seg * T * kvDim, nPos: T, nHeads: KV, dHead: dh, inverseFrequencies: model.inverseFrequencies, transposed: true)
                    }
                }}
            }
            if let qn = lw.qNorm, let kn = lw.kNorm {
                let gq = dq, gk = dk
                normBackward(dx: &dq, dy: gq, x: rec.qPre, weight: qn.weight, rows: R * H, dim: dh, kind: .rmsNorm, eps: c.normEps, accumulate: false)
                normBackward(dx: &dk, dy: gk, x: rec.kPre, weight: kn.weight, rows: R * KV, dim: dh, kind: .rmsNorm, eps: c.normEps, accumulate: false)
            }
            /// The gradient at the residual of one head's columns `cols` of a projection `W` `[d, width]`:
            /// LN1ᵀ(dproj[:, cols] · W[:, cols]ᵀ).
            func receiverGradient(_ dproj: [Float], _ wm: [Float], width: Int, column: Int) -> [Float] {
                var dln = [Float](repeating: 0, count: R * d)
                dproj.withUnsafeBufferPointer { P in wm.withUnsafeBufferPointer { W in
                    // dln[R, d] = dproj[R, cols] · W[:, cols]ᵀ
                    gemm(&dln, ldc: d, P.baseAddress! + column, lda: width, W.baseAddress! + column, ldb: width, transB: true, m: R, n: d, k: dh)
                }}
                var g = [Float](repeating: 0, count: R * d)
                normBackward(dx: &g, dy: dln, x: rec.residPre, weight: lw.ln1.weight, rows: R, dim: d, kind: c.norm, eps: c.normEps, accumulate: false)
                return g
            }
            for h in 0..<H { deposit(receiverGradient(dq, lw.wQ, width: qDim, column: h * dh), receiver: lay.query(l, h)) }
            for g in 0..<KV {
                deposit(receiverGradient(dk, lw.wK, width: kvDim, column: g * dh), receiver: lay.key(l, g))
                deposit(receiverGradient(dv, lw.wV, width: kvDim, column: g * dh), receiver: lay.value(l, g))
            }
        }
        return G
    }

    /// Softmax attention's backward for layer `l`, per segment and head, from `dz` `[R, H·dh]` to
    /// the queries, keys and values as attention reads them (after q/k-norm and rotary).
    ///
    /// `z = A·v`: `dA = dz·vᵀ`, `dv += Aᵀ·dz`; `A = softmax(s)`: `ds = A ⊙ (dA − rowsum(A ⊙ dA))`;
    /// `s = cap·tanh(r/cap)`, `r = scale·q·kᵀ`: `dr = ds ⊙ scale·(1 − tanh²(r/cap))`;
    /// `dq = dr·k`, `dk += drᵀ·q`. Masked entries have `A = 0`, so `ds = 0` there.
    func attentionBackward(layer l: Int, _ rec: EAPLayerRecord, dz: [Float], dq: inout [Float], dk: inout [Float], dv: inout [Float],
                           nSegments S: Int, nPos T: Int) {
        let c = model.config, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads
        let qDim = H * dh, kvDim = KV * dh, group = H / KV
        let scale = c.attentionScale, cap = c.attentionSoftcap
        var A = [Float](repeating: 0, count: T * T), dA = A, raw = A
        rec.q.withUnsafeBufferPointer { Q in rec.k.withUnsafeBufferPointer { K in rec.v.withUnsafeBufferPointer { Vp in
        dz.withUnsafeBufferPointer { DZ in dq.withUnsafeMutableBufferPointer { DQ in dk.withUnsafeMutableBufferPointer { DK in
        dv.withUnsafeMutableBufferPointer { DV in A.withUnsafeMutableBufferPointer { Ap in dA.withUnsafeMutableBufferPointer { dAp in
        raw.withUnsafeMutableBufferPointer { Rp in
            for seg in 0..<S {
                let q0 = Q.baseAddress! + seg * T * qDim, k0 = K.baseAddress! + seg * T * kvDim, v0 = Vp.baseAddress! + seg * T * kvDim
                let dz0 = DZ.baseAddress! + seg * T * qDim, dq0 = DQ.baseAddress! + seg * T * qDim
                let dk0 = DK.baseAddress! + seg * T * kvDim, dv0 = DV.baseAddress! + seg * T * kvDim
                for h in 0..<H {
                    let g = h / group
                    model.pattern(queries: q0, keys: k0, layer: l, head: h, rows: T, into: Ap.baseAddress!)
                    // dA[T, T] = dz_h[T, dh] · v_gᵀ
                    gemm(dAp.baseAddress!, ldc: T, dz0 + h * dh, lda: qDim, v0 + g * dh, ldb: kvDim, transB: true, m: T, n: T, k: dh)
                    // dv_g[T, dh] += A[T, T]ᵀ · dz_h[T, dh]
                    gemm(dv0 + g * dh, ldc: kvDim, Ap.baseAddress!, lda: T, transA: true, dz0 + h * dh, ldb: qDim, m: T, n: dh, k: T, beta: 1)
                    if cap != nil {
                        // raw[T, T] = q_h · k_gᵀ (scaled below)
                        gemm(Rp.baseAddress!, ldc: T, q0 + h * dh, lda: qDim, k0 + g * dh, ldb: kvDim, transB: true, m: T, n: T, k: dh)
                    }
                    for i in 0..<T {
                        let a = Ap.baseAddress! + i * T, da = dAp.baseAddress! + i * T, r = Rp.baseAddress! + i * T
                        var rho: Float = 0
                        for j in 0...i { rho += a[j] * da[j] }
                        for j in 0..<T {
                            guard j <= i else { da[j] = 0; continue }
                            var ds = a[j] * (da[j] - rho) * scale
                            if let cap { let t = tanh(r[j] * scale / cap); ds *= 1 - t * t }
                            da[j] = ds
                        }
                    }
                    // dq_h[T, dh] = dr[T, T] · k_g[T, dh]
                    gemm(dq0 + h * dh, ldc: qDim, dAp.baseAddress!, lda: T, k0 + g * dh, ldb: kvDim, m: T, n: dh, k: T)
                    // dk_g[T, dh] += dr[T, T]ᵀ · q_h[T, dh]
                    gemm(dk0 + g * dh, ldc: kvDim, dAp.baseAddress!, lda: T, transA: true, q0 + h * dh, ldb: qDim, m: T, n: dh, k: T, beta: 1)
                }
            }
        }}}}}}}}}}
    }
}
