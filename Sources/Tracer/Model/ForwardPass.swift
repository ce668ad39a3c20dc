import Foundation

/// A transformer ready to run: weights plus precomputed rotary frequencies.
public final class Transformer: Sendable {
    public let config: ModelConfig
    public let weights: TransformerWeights
    let inverseFrequencies: [Double]

    public init(weights: TransformerWeights) {
        self.config = weights.config
        self.weights = weights
        if case let .rotary(theta, scaling) = weights.config.positional {
            inverseFrequencies = rotaryInverseFrequencies(dHead: weights.config.dHead, theta: theta, scaling: scaling)
        } else {
            inverseFrequencies = []
        }
    }

    /// Loads `config.json` and the safetensors weights of a Hugging Face model folder.
    public convenience init(directory: URL) throws {
        let config = try ModelConfig(directory: directory)
        self.init(weights: try TransformerWeights(directory: directory, config: config))
    }

    /// Runs the model on `tokens`, recording every intermediate attribution needs.
    ///
    /// - Parameter allLogits: also compute logits at every position (debugging; `[nPos, nVocab]`).
    /// - Complexity: O(nLayers · nPos · dModel · (dModel + dMLP) + nLayers · nPos² · dModel).
    public func forward(tokens: [Int], allLogits: Bool = false) throws -> ForwardRecord {
        let c = config, w = weights
        let nPos = tokens.count, d = c.dModel
        let (record, x) = try blocks(tokens: tokens, segments: [0..<nPos])
        var rec = record
        var scratch = [Float](repeating: 0, count: nPos * d)
        var lnfScale = [Float](repeating: 0, count: nPos)
        normForward(out: &scratch, normalized: nil, scale: &lnfScale, x: x, weight: w.lnFinal.weight, bias: w.lnFinal.bias,
                    rows: nPos, dim: d, kind: c.norm, eps: c.normEps)
        rec.residFinal = x
        rec.lnFinalScale = lnfScale
        // logits[p, v] = lnf(x)[p] · W_U[:, v] (+ b_U)
        let rows = allLogits ? nPos : 1
        let first = nPos - rows
        var logits = [Float](repeating: 0, count: rows * c.nVocab)
        scratch.withUnsafeBufferPointer { s in
            w.unembedding.withUnsafeBufferPointer { u in
                logits.withUnsafeMutableBufferPointer { o in
                    gemm(o.baseAddress!, ldc: c.nVocab, s.baseAddress! + first * d, lda: d, u.baseAddress!, ldb: c.nVocab,
                         m: rows, n: c.nVocab, k: d)
                }
            }
        }
        if let b = w.unembeddingBias { for r in 0..<rows { for v in 0..<c.nVocab { logits[r * c.nVocab + v] += b[v] } } }
        rec.lastLogits = Array(logits[((rows - 1) * c.nVocab)...])
        if allLogits { rec.allLogits = logits }
        for v in rec.lastLogits where !v.isFinite { throw TracerError.nonFinite("logits") }
        return rec
    }

    /// Runs the blocks on several prompts packed back to back as rows, each prompt attending
    /// only to itself and counting its positions from 0: every dense product (projections,
    /// MLP) is one GEMM over all rows, so short prompts cost what long ones do per token. For
    /// bulk activations (transcoder training data); no final norm, no logits.
    ///
    /// - Returns: the record with `nPos` = the total rows (prompt `i`'s rows after those of
    ///   prompts `0..<i`); `residFinal`, `lnFinalScale`, `lastLogits` and `allLogits` empty.
    public func forward(packed prompts: [[Int]]) throws -> ForwardRecord {
        var segments: [Range<Int>] = [], start = 0
        for p in prompts { segments.append(start..<(start + p.count)); start += p.count }
        return try blocks(tokens: Array(prompts.joined()), segments: segments).record
    }

    /// The embeddings and every block on `tokens`, cut into independent prompts by
    /// `segments` (consecutive, covering all rows). Returns the record (without the final
    /// norm and logits) and the residual after the last block, `[nPos, dModel]`.
    func blocks(tokens: [Int], segments: [Range<Int>]) throws -> (record: ForwardRecord, resid: [Float]) {
        let c = config, w = weights
        let nPos = tokens.count, d = c.dModel
        guard nPos > 0, !segments.contains(where: \.isEmpty) else { throw TracerError.emptyPrompt }
        for s in segments where s.count > c.nCtx { throw TracerError.promptTooLong(tokens: s.count, context: c.nCtx) }
        for t in tokens where t < 0 || t >= c.nVocab { throw TracerError.tokenOutOfRange(t, vocabulary: c.nVocab) }

        // x = E[tok]·scale (+ P[pos], pos counted from each prompt's start)
        var tokenEmbeddings = [Float](repeating: 0, count: nPos * d)
        for (p, t) in tokens.enumerated() {
            let row = w.embeddingRow(t)
            for i in 0..<d { tokenEmbeddings[p * d + i] = row[i] * c.embeddingScale }
        }
        var x = tokenEmbeddings
        if let pe = w.positionEmbedding {
            for s in segments { for i in 0..<(s.count * d) { x[s.lowerBound * d + i] += pe[i] } }
        }

        var rec = ForwardRecord(nPos: nPos, tokenEmbeddings: tokenEmbeddings, residPre: [], ln1Scale: [], queries: [], keys: [],
                                postAttentionScale: [], residMid: [], ln2Scale: [], ln2Normalized: [], mlpIn: [],
                                mlpOut: [], postMLPScale: [], residFinal: [], lnFinalScale: [], lastLogits: [], allLogits: [])
        var scratch = [Float](repeating: 0, count: nPos * d)
        for l in 0..<c.nLayers {
            rec.residPre.append(x)
            /// Gemma-2's post-attention / post-feed-forward norm of a sub-block's output, in
            /// place; returns its scale per position. `y`: `[nPos, d]`
            func postNorm(_ y: inout [Float], _ norm: NormWeights) -> [Float] {
                var scale = [Float](repeating: 0, count: nPos)
                var normed = [Float](repeating: 0, count: nPos * d)
                normForward(out: &normed, normalized: nil, scale: &scale, x: y, weight: norm.weight, bias: nil,
                            rows: nPos, dim: d, kind: c.norm, eps: c.normEps)
                y = normed
                return scale
            }
            // Attention sub-block.
            var ln1Scale = [Float](repeating: 0, count: nPos)
            let lw = w.layers[l]
            normForward(out: &scratch, normalized: nil, scale: &ln1Scale, x: x, weight: lw.ln1.weight, bias: lw.ln1.bias,
                        rows: nPos, dim: d, kind: c.norm, eps: c.normEps)
            var (attnOut, q, k) = attention(layer: l, input: scratch, segments: segments)
            if let post = lw.postAttentionNorm { rec.postAttentionScale.append(postNorm(&attnOut, post)) }
            for i in 0..<(nPos * d) { x[i] += attnOut[i] }
            rec.ln1Scale.append(ln1Scale)
            rec.queries.append(q)
            rec.keys.append(k)
            rec.residMid.append(x)

            // MLP sub-block.
            var ln2Scale = [Float](repeating: 0, count: nPos)
            var normalized = [Float](repeating: 0, count: nPos * d)
            var mlpIn = [Float](repeating: 0, count: nPos * d)
            normForward(out: &mlpIn, normalized: &normalized, scale: &ln2Scale, x: x, weight: lw.ln2.weight, bias: lw.ln2.bias,
                        rows: nPos, dim: d, kind: c.norm, eps: c.normEps)
            var mlpOut = mlp(layer: l, input: mlpIn, nPos: nPos)
            if let post = lw.postMLPNorm { rec.postMLPScale.append(postNorm(&mlpOut, post)) }
            for i in 0..<(nPos * d) { x[i] += mlpOut[i] }
            rec.ln2Scale.append(ln2Scale)
            rec.ln2Normalized.append(normalized)
            rec.mlpIn.append(mlpIn)
            rec.mlpOut.append(mlpOut)
        }
        return (rec, x)
    }

    /// Causal self-attention of layer `l` on its normalised input `[nPos, dModel]`, each
    /// range of `segments` (consecutive rows covering all `nPos`) a prompt of its own.
    /// Returns the output `[nPos, dModel]`, the queries `[nPos, nHeads·dHead]` and keys
    /// `[nPos, nKVHeads·dHead]` the patterns are made of.
    func attention(layer l: Int, input: [Float], segments: [Range<Int>]) -> (out: [Float], queries: [Float], keys: [Float]) {
        let c = config, lw = weights.layers[l]
        let d = c.dModel, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads
        let qDim = H * dh, kvDim = KV * dh
        let nPos = segments.last!.upperBound, longest = segments.map(\.count).max()!
        var q = [Float](repeating: 0, count: nPos * qDim)
        var k = [Float](repeating: 0, count: nPos * kvDim)
        var v = [Float](repeating: 0, count: nPos * kvDim)
        input.withUnsafeBufferPointer { x in
            // q[T, H·dh] = x[T, d] · W_Q[d, H·dh]; likewise k, v.
            gemm(&q, ldc: qDim, x.baseAddress!, lda: d, lw.wQ, ldb: qDim, m: nPos, n: qDim, k: d)
            gemm(&k, ldc: kvDim, x.baseAddress!, lda: d, lw.wK, ldb: kvDim, m: nPos, n: kvDim, k: d)
            gemm(&v, ldc: kvDim, x.baseAddress!, lda: d, lw.wV, ldb: kvDim, m: nPos, n: kvDim, k: d)
        }
        func addBias(_ m: inout [Float], _ b: [Float]?, _ width: Int) {
            guard let b else { return }
            for p in 0..<nPos { for i in 0..<width { m[p * width + i] += b[i] } }
        }
        addBias(&q, lw.bQ, qDim); addBias(&k, lw.bK, kvDim); addBias(&v, lw.bV, kvDim)
        if let qn = lw.qNorm, let kn = lw.kNorm {
            var s = [Float](repeating: 0, count: nPos * max(H, KV))
            var tmp = q
            normForward(out: &tmp, normalized: nil, scale: &s, x: q, weight: qn.weight, bias: nil, rows: nPos * H, dim: dh, kind: .rmsNorm, eps: c.normEps)
            q = tmp
            tmp = k
            normForward(out: &tmp, normalized: nil, scale: &s, x: k, weight: kn.weight, bias: nil, rows: nPos * KV, dim: dh, kind: .rmsNorm, eps: c.normEps)
            k = tmp
        }
        if !inverseFrequencies.isEmpty {
            q.withUnsafeMutableBufferPointer { Q in k.withUnsafeMutableBufferPointer { K in
                for s in segments {
                    applyRotary(Q.baseAddress! + s.lowerBound * qDim, nPos: s.count, nHeads: H, dHead: dh, inverseFrequencies: inverseFrequencies)
                    applyRotary(K.baseAddress! + s.lowerBound * kvDim, nPos: s.count, nHeads: KV, dHead: dh, inverseFrequencies: inverseFrequencies)
                }
            }}
        }
        var z = [Float](repeating: 0, count: nPos * qDim)
        var pattern = [Float](repeating: 0, count: longest * longest)
        q.withUnsafeBufferPointer { Q in k.withUnsafeBufferPointer { K in v.withUnsafeBufferPointer { V in
        pattern.withUnsafeMutableBufferPointer { A in z.withUnsafeMutableBufferPointer { Z in
            for s in segments {
                let T = s.count, q0 = Q.baseAddress! + s.lowerBound * qDim, k0 = K.baseAddress! + s.lowerBound * kvDim
                let v0 = V.baseAddress! + s.lowerBound * kvDim, z0 = Z.baseAddress! + s.lowerBound * qDim
                for h in 0..<H {
                    self.pattern(queries: q0, keys: k0, layer: l, head: h, rows: T, into: A.baseAddress!)
                    // z_h[T, dh] = pattern_h[T, T] · v_kvh[T, dh]   (z, v rows strided by H·dh, KV·dh)
                    gemm(z0 + h * dh, ldc: qDim, A.baseAddress!, lda: T, v0 + (h / (H / KV)) * dh, ldb: kvDim, m: T, n: dh, k: T)
                }
            }
        }}}}}
        // out[T, d] = z[T, H·dh] · W_O[H·dh, d] + b_O
        var out = [Float](repeating: 0, count: nPos * d)
        gemm(&out, ldc: d, z, lda: qDim, lw.wO, ldb: d, m: nPos, n: d, k: qDim)
        addBias(&out, lw.bO, d)
        return (out, q, k)
    }

    /// The attention pattern of one head on the first `rows` query positions (keys `0..<rows`;
    /// causal, so later keys never enter): `softmax_k(cap·tanh(scale·q·k / cap))` with the
    /// sliding-window and causal masks. Used by the forward pass and, recomputed per layer and
    /// head, by the linearised backward (equal up to float32 round-off of the score GEMM).
    ///
    /// - Parameters:
    ///   - queries: `[nPos, nHeads·dHead]` of the layer; `keys`: `[nPos, nKVHeads·dHead]`.
    ///   - out: `[rows, rows]` row-major, overwritten (entries above the diagonal are 0).
    func pattern(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, layer l: Int, head h: Int, rows T: Int,
                 into out: UnsafeMutablePointer<Float>) {
        let c = config, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads
        // scores[T, T] = q_h[T, dh] · k_kvhᵀ[dh, T]   (q, k rows strided by H·dh, KV·dh)
        gemm(out, ldc: T, queries + h * dh, lda: H * dh, keys + (h / (H / KV)) * dh, ldb: KV * dh, transB: true,
             m: T, n: T, k: dh)
        let scale = c.attentionScale, cap = c.attentionSoftcap, window = c.slidingWindow[l]
        for qi in 0..<T {
            let row = out + qi * T
            let first = window.map { max(0, qi - $0 + 1) } ?? 0
            var maxScore = -Float.infinity
            for ki in first...qi {
                var s = row[ki] * scale
                if let cap { s = cap * tanh(s / cap) }
                row[ki] = s
                maxScore = max(maxScore, s)
            }
            var sum: Float = 0
            for ki in first...qi { let e = exp(row[ki] - maxScore); row[ki] = e; sum += e }
            let inv = 1 / sum
            for ki in first...qi { row[ki] *= inv }
            if first > 0 { row.update(repeating: 0, count: first) }
            if qi + 1 < T { (row + qi + 1).update(repeating: 0, count: T - qi - 1) }
        }
    }

    /// Every layer's attention patterns, `[nHeads, nPos, nPos]` per layer (tests, debugging:
    /// O(nLayers·nHeads·nPos²) memory).
    public func patterns(_ record: ForwardRecord) -> [[Float]] {
        let T = record.nPos, H = config.nHeads
        return (0..<config.nLayers).map { l in
            var all = [Float](repeating: 0, count: H * T * T)
            record.queries[l].withUnsafeBufferPointer { Q in record.keys[l].withUnsafeBufferPointer { K in
                all.withUnsafeMutableBufferPointer { A in
                    for h in 0..<H { pattern(queries: Q.baseAddress!, keys: K.baseAddress!, layer: l, head: h, rows: T, into: A.baseAddress! + h * T * T) }
                }
            }}
            return all
        }
    }

    /// The MLP of layer `l` on its input `[nPos, dModel]` (the norm already applied).
    func mlp(layer l: Int, input: [Float], nPos: Int) -> [Float] {
        let c = config, lw = weights.layers[l]
        let d = c.dModel, m = c.dMLP
        var hidden = [Float](repeating: 0, count: nPos * m)
        // hidden[T, dMLP] = x[T, d] · W_in[d, dMLP] (+ b_in)
        gemm(&hidden, ldc: m, input, lda: d, lw.wIn, ldb: m, m: nPos, n: m, k: d)
        if let b = lw.bIn { for p in 0..<nPos { for i in 0..<m { hidden[p * m + i] += b[i] } } }
        switch c.mlp {
        case .geluTanh:
            for i in hidden.indices { hidden[i] = geluTanh(hidden[i]) }
        case let .gated(act):
            var up = [Float](repeating: 0, count: nPos * m)
            gemm(&up, ldc: m, input, lda: d, lw.wUp!, ldb: m, m: nPos, n: m, k: d)
            switch act {
            case .silu: for i in hidden.indices { hidden[i] = silu(hidden[i]) * up[i] }
            case .geluTanh: for i in hidden.indices { hidden[i] = geluTanh(hidden[i]) * up[i] }
            }
        }
        // out[T, d] = hidden[T, dMLP] · W_out[dMLP, d] (+ b_out)
        var out = [Float](repeating: 0, count: nPos * d)
        gemm(&out, ldc: d, hidden, lda: m, lw.wOut, ldb: d, m: nPos, n: d, k: m)
        if let b = lw.bOut { for p in 0..<nPos { for i in 0..<d { out[p * d + i] += b[i] } } }
        return out
    }
}
