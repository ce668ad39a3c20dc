import Foundation

/// One receiver's patched input in a run, in the ACDC convention: receiver `r` reads
/// `x + alpha · Σ_{s ∈ senders} (out_s(corrupt) − out_s(this run))` instead of the residual `x`,
/// every other receiver reading `x`. With one sender upstream of `r`, `out_s(this run)` is its
/// clean output and the delta is `alpha · Δout_s`; with every sender feeding `r`, `r` reads the
/// corrupt residual.
struct ReceiverPatch: Sendable {
    var receiver: Int
    var senders: [Int]
    var alpha: Float = 1
}

/// What a patched run replaces: the senders' outputs on both prompts (`[nSenders, nPos·dModel]`
/// each) and, per packed segment, the receivers it patches.
struct EAPPatch: Sendable {
    var clean: [Float]
    var corrupt: [Float]
    var segments: [[ReceiverPatch]]
}

/// What the backward pass and the sender outputs read of one layer of a run, rows of all
/// segments packed: `[S·T, dModel]` unless noted.
struct EAPLayerRecord: Sendable {
    var residPre: [Float]
    /// Queries / keys before q/k-norm and rotary `[S·T, nHeads·dHead]` / `[S·T, nKVHeads·dHead]`
    /// (only with q/k-norm; else empty).
    var qPre: [Float], kPre: [Float]
    /// Queries, keys, values as attention reads them.
    var q: [Float], k: [Float], v: [Float]
    /// `pattern · v` per head, `[S·T, nHeads·dHead]`.
    var z: [Float]
    /// `z · W_O + b_O` before Gemma-2's post-attention norm (Gemma-2 only; else empty).
    var attnPre: [Float]
    /// Gemma-2's post-attention norm scale `[S·T]` (else empty).
    var postAttentionScale: [Float]
    var residMid: [Float]
    /// The MLP's first projection before its activation, and the up projection of gated MLPs
    /// (else empty), `[S·T, dMLP]`.
    var gate: [Float], up: [Float]
    /// The MLP's output before Gemma-2's post-feed-forward norm (Gemma-2 only; else empty).
    var mlpPre: [Float]
    /// `hook_mlp_out`.
    var mlpOut: [Float]
}

/// A run of the blocks from some layer on, `S` packed segments of `T` positions each.
struct EAPRun: Sendable {
    var nSegments: Int
    var nPos: Int
    /// Per layer from 0 when recorded (a run from layer 0 without patches); else empty.
    var layers: [EAPLayerRecord]
    /// The residual after the last block `[S·T, dModel]` when recorded (else empty).
    var residFinal: [Float]
    /// The final norm's input at each segment's last position, patched when `logits` is,
    /// `[S, dModel]`.
    var finalInput: [Float]
    /// The output logits at each segment's last position, after any final softcap, `[nVocab]` each.
    var logits: [[Float]]
}

extension EdgeAttribution {
    /// Token and position embeddings of `tokens` as added to the residual, `[nPos, dModel]` each
    /// (positions nil without learned positions).
    func embeddings(_ tokens: [Int]) -> (token: [Float], position: [Float]?) {
        let c = model.config, w = model.weights, d = c.dModel
        var token = [Float](repeating: 0, count: tokens.count * d)
        for (p, t) in tokens.enumerated() {
            let row = w.embeddingRow(t)
            for i in 0..<d { token[p * d + i] = row[i] * c.embeddingScale }
        }
        return (token, w.positionEmbedding.map { Array($0[0..<(tokens.count * d)]) })
    }

    /// Runs blocks `start..<nLayers`, the final norm and the unembedding on `S` packed segments of
    /// `T` rows, each segment a prompt of its own counting positions from 0.
    ///
    /// - Parameters:
    ///   - residual: the residual entering block `start`, `[S·T, dModel]` (the embeddings when
    ///     `start` is 0; `start` = `nLayers` runs the final norm alone).
    ///   - patch: the receivers each segment patches (nil: none). Senders computed before
    ///     `start` count with their clean outputs.
    ///   - record: keep what the backward pass reads (needs `start` = 0).
    /// - Complexity: the forward pass's, over `S·T` rows, plus one norm and one projection per
    ///   patched receiver.
    func run(residual: [Float], nSegments S: Int, nPos T: Int, from start: Int = 0, patch: EAPPatch? = nil, record: Bool = false) -> EAPRun {
        let c = model.config, w = model.weights
        let d = c.dModel, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads
        let qDim = H * dh, kvDim = KV * dh, R = S * T, group = H / KV
        let lay = layout
        precondition(residual.count == R * d && (patch == nil || patch!.segments.count == S) && (!record || start == 0))
        var x = residual

        // Per segment: the senders its patches read that this run computes, and their outputs here.
        let needed: [Set<Int>] = (0..<S).map { seg in
            Set((patch?.segments[seg] ?? []).flatMap(\.senders).filter { (lay.layer(ofSender: $0) ?? -1) >= start })
        }
        var runOutputs = [[Int: [Float]]](repeating: [:], count: S)
        /// `alpha · Σ (out_s(corrupt) − out_s(run))` `[T, d]` of a patch of segment `seg`.
        func delta(_ p: ReceiverPatch, _ seg: Int) -> [Float] {
            var out = [Float](repeating: 0, count: T * d)
            let n = T * d
            for s in p.senders {
                let own = runOutputs[seg][s]
                for i in 0..<n { out[i] += patch!.corrupt[s * n + i] - (own?[i] ?? patch!.clean[s * n + i]) }
            }
            if p.alpha != 1 { for i in 0..<n { out[i] *= p.alpha } }
            return out
        }
        /// The patches of segment `seg` into receivers of layer `l`.
        func patches(_ seg: Int, _ l: Int) -> [ReceiverPatch] { (patch?.segments[seg] ?? []).filter { lay.layer(ofReceiver: $0.receiver) == l } }
        /// `out[rows, d] = norm(x)` with `nw`, the statistics of each row its own.
        func norm(_ x: UnsafePointer<Float>, _ nw: NormWeights, rows: Int, kind: ModelConfig.NormKind? = nil, scale: UnsafeMutablePointer<Float>? = nil) -> [Float] {
            var out = [Float](repeating: 0, count: rows * d)
            var s = [Float](repeating: 0, count: rows)
            normForward(out: &out, normalized: nil, scale: &s, x: x, weight: nw.weight, bias: nw.bias, rows: rows, dim: d,
                        kind: kind ?? c.norm, eps: c.normEps)
            if let scale { scale.update(from: s, count: rows) }
            return out
        }
        func addBias(_ a: inout [Float], _ b: [Float]?, width: Int) {
            guard let b else { return }
            for r in 0..<R { for i in 0..<width { a[r * width + i] += b[i] } }
        }

        var layers: [EAPLayerRecord] = []
        for l in start..<c.nLayers {
            let lw = w.layers[l]
            // Attention: every receiver reads LN1(x) unless patched.
            let ln1 = norm(x, lw.ln1, rows: R)
            var q = [Float](repeating: 0, count: R * qDim), k = [Float](repeating: 0, count: R * kvDim), v = k
            // q[R, H·dh] = ln1[R, d] · W_Q[d, H·dh]; likewise k, v
            gemm(&q, ldc: qDim, ln1, lda: d, lw.wQ, ldb: qDim, m: R, n: qDim, k: d)
            gemm(&k, ldc: kvDim, ln1, lda: d, lw.wK, ldb: kvDim, m: R, n: kvDim, k: d)
            gemm(&v, ldc: kvDim, ln1, lda: d, lw.wV, ldb: kvDim, m: R, n: kvDim, k: d)
            addBias(&q, lw.bQ, width: qDim); addBias(&k, lw.bK, width: kvDim); addBias(&v, lw.bV, width: kvDim)
            for seg in 0..<S {
                for p in patches(seg, l) {
                    let receiver = graph.receivers[p.receiver]
                    if receiver == .mlp(layer: l) { continue }
                    var xin = Array(x[(seg * T * d)..<((seg + 1) * T * d)])
                    let dlt = delta(p, seg)
                    for i in xin.indices { xin[i] += dlt[i] }
                    let lnp = norm(xin, lw.ln1, rows: T)
                    // One head's columns: out[T, dh] = LN1(x + δ)[T, d] · W[:, cols] + b[cols]
                    func project(_ out: inout [Float], _ wm: [Float], _ b: [Float]?, width: Int, column: Int) {
                        out.withUnsafeMutableBufferPointer { o in wm.withUnsafeBufferPointer { W in
                            gemm(o.baseAddress! + seg * T * width + column, ldc: width, lnp, lda: d, W.baseAddress! + column, ldb: width, m: T, n: dh, k: d)
                            if let b { for r in 0..<T { for i in 0..<dh { o[(seg * T + r) * width + column + i] += b[column + i] } } }
                        }}
                    }
                    switch receiver {
                    case let .query(_, h): project(&q, lw.wQ, lw.bQ, width: qDim, column: h * dh)
                    case let .key(_, g): project(&k, lw.wK, lw.bK, width: kvDim, column: g * dh)
                    case let .value(_, g): project(&v, lw.wV, lw.bV, width: kvDim, column: g * dh)
                    case .mlp, .logits: break
                    }
                }
            }
            let qPre = lw.qNorm == nil || !record ? [] : q, kPre = lw.kNorm == nil || !record ? [] : k
            if let qn = lw.qNorm, let kn = lw.kNorm {
                var s = [Float](repeating: 0, count: R * max(H, KV)), tmp = q
                normForward(out: &tmp, normalized: nil, scale: &s, x: q, weight: qn.weight, bias: nil, rows: R * H, dim: dh, kind: .rmsNorm, eps: c.normEps)
                q = tmp; tmp = k
                normForward(out: &tmp, normalized: nil, scale: &s, x: k, weight: kn.weight, bias: nil, rows: R * KV, dim: dh, kind: .rmsNorm, eps: c.normEps)
                k = tmp
            }
            if !model.inverseFrequencies.isEmpty {
                q.withUnsafeMutableBufferPointer { Q in k.withUnsafeMutableBufferPointer { K in
                    for seg in 0..<S {
                        applyRotary(Q.baseAddress! + seg * T * qDim, nPos: T, nHeads: H, dHead: dh, inverseFrequencies: model.inverseFrequencies)
                        applyRotary(K.baseAddress! + seg * T * kvDim, nPos: T, nHeads: KV, dHead: dh, inverseFrequencies: model.inverseFrequencies)
                    }
                }}
            }
            var z = [Float](repeating: 0, count: R * qDim)
            var pattern = [Float](repeating: 0, count: T * T)
            q.withUnsafeBufferPointer { Q in k.withUnsafeBufferPointer { K in v.withUnsafeBufferPointer { V in
            z.withUnsafeMutableBufferPointer { Z in pattern.withUnsafeMutableBufferPointer { A in
                for seg in 0..<S {
                    for h in 0..<H {
                        model.pattern(queries: Q.baseAddress! + seg * T * qDim, keys: K.baseAddress! + seg * T * kvDim, layer: l, head: h, rows: T,
                                      into: A.baseAddress!)
                        // z_h[T, dh] = pattern_h[T, T] · v_g[T, dh]
                        gemm(Z.baseAddress! + seg * T * qDim + h * dh, ldc: qDim, A.baseAddress!, lda: T,
                             V.baseAddress! + seg * T * kvDim + (h / group) * dh, ldb: kvDim, m: T, n: dh, k: T)
                    }
                }
            }}}}}
            // attn[R, d] = z[R, H·dh] · W_O[H·dh, d] + b_O
            var attn = [Float](repeating: 0, count: R * d)
            gemm(&attn, ldc: d, z, lda: qDim, lw.wO, ldb: d, m: R, n: d, k: qDim)
            addBias(&attn, lw.bO, width: d)
            var attnPre: [Float] = [], postAttentionScale = [Float](repeating: 0, count: lw.postAttentionNorm == nil ? 0 : R)
            if let post = lw.postAttentionNorm {
                attnPre = attn
                attn = postAttentionScale.withUnsafeMutableBufferPointer { norm(attnPre, post, rows: R, kind: .rmsNorm, scale: $0.baseAddress!) }
            }
            // The run's own head outputs that a later patch of the segment subtracts.
            for seg in 0..<S {
                for h in 0..<H where needed[seg].contains(lay.head(l, h)) {
                    var out = [Float](repeating: 0, count: T * d)
                    z.withUnsafeBufferPointer { Z in lw.wO.withUnsafeBufferPointer { W in
                        // out[T, d] = z_h[T, dh] · W_O[h·dh..<(h+1)·dh, d]
                        gemm(&out, ldc: d, Z.baseAddress! + seg * T * qDim + h * dh, lda: qDim, W.baseAddress! + h * dh * d, ldb: d, m: T, n: d, k: dh)
                    }}
                    if let post = lw.postAttentionNorm {
                        for r in 0..<T { let inv = 1 / postAttentionScale[seg * T + r]; for i in 0..<d { out[r * d + i] *= post.weight[i] * inv } }
                    }
                    runOutputs[seg][lay.head(l, h)] = out
                }
            }
            let residPre = record ? x : []
            for i in 0..<(R * d) { x[i] += attn[i] }

            // MLP: reads LN2(residMid) unless patched.
            var mlpIn = norm(x, lw.ln2, rows: R)
            for seg in 0..<S {
                for p in patches(seg, l) where graph.receivers[p.receiver] == .mlp(layer: l) {
                    var xin = Array(x[(seg * T * d)..<((seg + 1) * T * d)])
                    let dlt = delta(p, seg)
                    for i in xin.indices { xin[i] += dlt[i] }
                    let lnp = norm(xin, lw.ln2, rows: T)
                    for i in 0..<(T * d) { mlpIn[seg * T * d + i] = lnp[i] }
                }
            }
            // The model's own MLP, keeping its pre-activations for the backward pass when recording.
            let mlp = model.mlp(layer: l, input: mlpIn, nPos: R, keepPreactivations: record)
            var mlpOut = mlp.out
            var mlpPre: [Float] = []
            if let post = lw.postMLPNorm { mlpPre = mlpOut; mlpOut = norm(mlpPre, post, rows: R, kind: .rmsNorm) }
            for seg in 0..<S where needed[seg].contains(lay.mlpSender(l)) {
                var out = Array(mlpOut[(seg * T * d)..<((seg + 1) * T * d)])
                if let b = lw.bOut { for r in 0..<T { for i in 0..<d { out[r * d + i] -= b[i] } } }
                runOutputs[seg][lay.mlpSender(l)] = out
            }
            let residMid = record ? x : []
            for i in 0..<(R * d) { x[i] += mlpOut[i] }
            if record {
                layers.append(EAPLayerRecord(residPre: residPre, qPre: qPre, kPre: kPre, q: q, k: k, v: v, z: z, attnPre: attnPre,
                                             postAttentionScale: postAttentionScale, residMid: residMid, gate: mlp.gate, up: mlp.up,
                                             mlpPre: mlpPre, mlpOut: mlpOut))
            }
        }

        // Final norm and unembedding at each segment's last position.
        var finalInput = [Float](repeating: 0, count: S * d)
        for seg in 0..<S {
            let last = (seg * T + T - 1) * d
            for i in 0..<d { finalInput[seg * d + i] = x[last + i] }
            for p in patches(seg, c.nLayers) {
                let dlt = delta(p, seg)
                for i in 0..<d { finalInput[seg * d + i] += dlt[(T - 1) * d + i] }
            }
        }
        let normed = norm(finalInput, w.lnFinal, rows: S)
        var logits = [Float](repeating: 0, count: S * c.nVocab)
        // logits[S, V] = lnf(x_last)[S, d] · W_U[d, V] (+ b_U)
        gemm(&logits, ldc: c.nVocab, normed, lda: d, w.unembedding, ldb: c.nVocab, m: S, n: c.nVocab, k: d)
        let out: [[Float]] = (0..<S).map { seg in
            var row = Array(logits[(seg * c.nVocab)..<((seg + 1) * c.nVocab)])
            if let b = w.unembeddingBias { for i in row.indices { row[i] += b[i] } }
            if let cap = c.finalLogitSoftcap { for i in row.indices { row[i] = cap * tanh(row[i] / cap) } }
            return row
        }
        return EAPRun(nSegments: S, nPos: T, layers: layers, residFinal: record ? x : [], finalInput: finalInput, logits: out)
    }

    /// Every sender's output in segment `seg` of a recorded run, `[nSenders, T·dModel]`: the
    /// embeddings given, each head's `z_h · W_O[h]` (Gemma-2: times the post-attention norm's
    /// weight over the run's scale), each MLP's output less `b_out`.
    func senderOutputs(_ run: EAPRun, segment seg: Int, token: [Float], position: [Float]?) -> [Float] {
        let c = model.config, d = c.dModel, dh = c.dHead, H = c.nHeads, qDim = H * dh, T = run.nPos, n = T * d
        let lay = layout
        var out = [Float](repeating: 0, count: lay.nSenders * n)
        out.withUnsafeMutableBufferPointer { O in
            O.baseAddress!.update(from: token, count: n)
            if let position { (O.baseAddress! + n).update(from: position, count: n) }
            for l in 0..<c.nLayers {
                let rec = run.layers[l], lw = model.weights.layers[l]
                rec.z.withUnsafeBufferPointer { Z in lw.wO.withUnsafeBufferPointer { W in
                    for h in 0..<H {
                        let o = O.baseAddress! + lay.head(l, h) * n
                        // out_h[T, d] = z_h[T, dh] · W_O[h·dh..<(h+1)·dh, d]
                        gemm(o, ldc: d, Z.baseAddress! + seg * T * qDim + h * dh, lda: qDim, W.baseAddress! + h * dh * d, ldb: d, m: T, n: d, k: dh)
                        if let post = lw.postAttentionNorm {
                            for r in 0..<T { let inv = 1 / rec.postAttentionScale[seg * T + r]; for i in 0..<d { o[r * d + i] *= post.weight[i] * inv } }
                        }
                    }
                }}
                let o = O.baseAddress! + lay.mlpSender(l) * n
                for i in 0..<n { o[i] = rec.mlpOut[seg * n + i] - (lw.bOut?[i % d] ?? 0) }
            }
        }
        return out
    }
}
