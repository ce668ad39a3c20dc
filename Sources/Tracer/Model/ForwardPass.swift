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
        let nPos = tokens.count
        var (rec, x) = try blocks(tokens: tokens, segments: [0..<nPos])
        let rows = allLogits ? 0..<nPos : (nPos - 1)..<nPos
        let (logits, lnfScale) = unembed(x, nPos: nPos, rows: rows)
        rec.residFinal = x
        rec.lnFinalScale = lnfScale
        rec.lastLogits = Array(logits[((rows.count - 1) * config.nVocab)...])
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
    ///
    /// - Parameter patch: what an intervention holds fixed or replaces (frozen attention
    ///   patterns and norm scales, a hook on each MLP output, a clean prefix before each
    ///   segment); nil for the model as it is.
    func blocks(tokens: [Int], segments: [Range<Int>], patch: ForwardPatch? = nil) throws -> (record: ForwardRecord, resid: [Float]) {
        let c = config, w = weights
        let nPos = tokens.count, d = c.dModel
        guard nPos > 0, !segments.contains(where: \.isEmpty) else { throw TracerError.emptyPrompt }
        let starts = patch?.prefix?.starts ?? [Int](repeating: 0, count: segments.count)
        for (s, p) in zip(segments, starts) where p + s.count > c.nCtx { throw TracerError.promptTooLong(tokens: p + s.count, context: c.nCtx) }
        for t in tokens where t < 0 || t >= c.nVocab { throw TracerError.tokenOutOfRange(t, vocabulary: c.nVocab) }

        // x = E[tok]·scale (+ P[pos], pos counted from each prompt's start, the prefix's included)
        var tokenEmbeddings = [Float](repeating: 0, count: nPos * d)
        for (p, t) in tokens.enumerated() {
            let row = w.embeddingRow(t)
            for i in 0..<d { tokenEmbeddings[p * d + i] = row[i] * c.embeddingScale }
        }
        var x = tokenEmbeddings
        if let pe = w.positionEmbedding {
            for (s, p) in zip(segments, starts) { for i in 0..<(s.count * d) { x[s.lowerBound * d + i] += pe[p * d + i] } }
        }

        var rec = ForwardRecord(nPos: nPos, tokenEmbeddings: tokenEmbeddings, residPre: [], ln1Scale: [], queries: [], keys: [], values: [],
                                postAttentionScale: [], residMid: [], ln2Scale: [], ln2Normalized: [], mlpIn: [],
                                mlpOut: [], postMLPScale: [], residFinal: [], lnFinalScale: [], lastLogits: [], allLogits: [])
        let frozen = patch?.frozenScales
        /// `out = norm(x)` over every row, recording the scale per row (frozen ones when given).
        func norm(_ out: inout [Float], normalized: UnsafeMutablePointer<Float>? = nil, _ x: [Float], _ weights: NormWeights,
                  frozen: [Float]?) -> [Float] {
            var scale = [Float](repeating: 0, count: nPos)
            withOptionalPointer(frozen) { f in
                normForward(out: &out, normalized: normalized, scale: &scale, x: x, weight: weights.weight, bias: weights.bias,
                            rows: nPos, dim: d, kind: c.norm, eps: c.normEps, frozenScale: f)
            }
            return scale
        }
        /// Gemma-2's post-attention / post-feed-forward norm of a sub-block's output `y` `[nPos, d]`, in place.
        func postNorm(_ y: inout [Float], _ weights: NormWeights, frozen: [Float]?) -> [Float] {
            var normed = [Float](repeating: 0, count: nPos * d)
            let scale = norm(&normed, y, NormWeights(weight: weights.weight, bias: nil), frozen: frozen)
            y = normed
            return scale
        }
        var scratch = [Float](repeating: 0, count: nPos * d)
        for l in 0..<c.nLayers {
            rec.residPre.append(x)
            // Attention sub-block.
            let lw = w.layers[l]
            let ln1Scale = norm(&scratch, x, lw.ln1, frozen: frozen?.ln1[l])
            var (attnOut, q, k, v) = attention(layer: l, input: scratch, segments: segments, prefix: patch?.prefix,
                                               frozenPattern: patch?.frozenPatterns.map { ($0.queries[l], $0.keys[l]) })
            if let post = lw.postAttentionNorm { rec.postAttentionScale.append(postNorm(&attnOut, post, frozen: frozen?.postAttention[l])) }
            for i in 0..<(nPos * d) { x[i] += attnOut[i] }
            rec.ln1Scale.append(ln1Scale)
            rec.queries.append(q)
            rec.keys.append(k)
            rec.values.append(v)
            rec.residMid.append(x)

            // MLP sub-block.
            var normalized = [Float](repeating: 0, count: nPos * d)
            var mlpIn = [Float](repeating: 0, count: nPos * d)
            let ln2Scale = norm(&mlpIn, normalized: &normalized, x, lw.ln2, frozen: frozen?.ln2[l])
            var postMLPScale: [Float]?
            func realMLP() -> [Float] {
                var out = mlp(layer: l, input: mlpIn, nPos: nPos)
                if let post = lw.postMLPNorm { postMLPScale = postNorm(&out, post, frozen: frozen?.postMLP[l]) }
                return out
            }
            let mlpOut = try patch?.mlpOutput(l, MLPInputs(residMid: x, ln2Normalized: normalized, mlpIn: mlpIn), realMLP) ?? realMLP()
            for i in 0..<(nPos * d) { x[i] += mlpOut[i] }
            if let postMLPScale { rec.postMLPScale.append(postMLPScale) }
            rec.ln2Scale.append(ln2Scale)
            rec.ln2Normalized.append(normalized)
            rec.mlpIn.append(mlpIn)
            rec.mlpOut.append(mlpOut)
        }
        return (rec, x)
    }

    /// Logits of `rows` of the residual after the last block `[nPos, dModel]`: the final norm
    /// (its scale frozen at `frozenScale` `[nPos]` when given), then `x · W_U (+ b_U)`, before any
    /// final softcap. Returns `[rows.count, nVocab]` and the final norm's scale `[nPos]`.
    func unembed(_ x: [Float], nPos: Int, rows: Range<Int>, frozenScale: [Float]? = nil) -> (logits: [Float], lnFinalScale: [Float]) {
        let c = config, w = weights, d = c.dModel
        var normed = [Float](repeating: 0, count: nPos * d)
        var scale = [Float](repeating: 0, count: nPos)
        withOptionalPointer(frozenScale) { f in
            normForward(out: &normed, normalized: nil, scale: &scale, x: x, weight: w.lnFinal.weight, bias: w.lnFinal.bias,
                        rows: nPos, dim: d, kind: c.norm, eps: c.normEps, frozenScale: f)
        }
        // logits[p, v] = lnf(x)[p] · W_U[:, v] (+ b_U)
        var logits = [Float](repeating: 0, count: rows.count * c.nVocab)
        normed.withUnsafeBufferPointer { s in
            w.unembedding.withUnsafeBufferPointer { u in
                logits.withUnsafeMutableBufferPointer { o in
                    gemm(o.baseAddress!, ldc: c.nVocab, s.baseAddress! + rows.lowerBound * d, lda: d, u.baseAddress!, ldb: c.nVocab,
                         m: rows.count, n: c.nVocab, k: d)
                }
            }
        }
        if let b = w.unembeddingBias { for r in 0..<rows.count { for v in 0..<c.nVocab { logits[r * c.nVocab + v] += b[v] } } }
        return (logits, scale)
    }

    /// Causal self-attention of layer `l` on its normalised input `[nPos, dModel]`, each
    /// range of `segments` (consecutive rows covering all `nPos`) a prompt of its own.
    /// Returns the output `[nPos, dModel]`, the queries `[nPos, nHeads·dHead]`, keys and values
    /// `[nPos, nKVHeads·dHead]`.
    ///
    /// - Parameters:
    ///   - prefix: when the segments hold only later positions of a prompt: the clean run whose
    ///     queries, keys and values stand in for the positions before each segment's start.
    ///   - frozenPattern: the queries and keys of one clean prompt, `[T, nHeads·dHead]` and
    ///     `[T, nKVHeads·dHead]`, when every segment is that prompt (from its start on) and its
    ///     patterns are held at the clean run's; only the values follow `input`. The returned
    ///     queries and keys are then empty.
    func attention(layer l: Int, input: [Float], segments: [Range<Int>], prefix: CleanPrefix? = nil,
                   frozenPattern: (queries: [Float], keys: [Float])? = nil)
        -> (out: [Float], queries: [Float], keys: [Float], values: [Float]) {
        let c = config, lw = weights.layers[l]
        let d = c.dModel, dh = c.dHead, H = c.nHeads, KV = c.nKVHeads
        let qDim = H * dh, kvDim = KV * dh
        let nPos = segments.last!.upperBound
        let starts = prefix?.starts ?? [Int](repeating: 0, count: segments.count)
        let longest = zip(segments, starts).map { $0.count + $1 }.max()!
        let queryRows = frozenPattern == nil ? nPos : 0
        var q = [Float](repeating: 0, count: queryRows * qDim)
        var k = [Float](repeating: 0, count: queryRows * kvDim)
        var v = [Float](repeating: 0, count: nPos * kvDim)
        input.withUnsafeBufferPointer { x in
            // q[T, H·dh] = x[T, d] · W_Q[d, H·dh]; likewise k, v.
            gemm(&q, ldc: qDim, x.baseAddress!, lda: d, lw.wQ, ldb: qDim, m: queryRows, n: qDim, k: d)
            gemm(&k, ldc: kvDim, x.baseAddress!, lda: d, lw.wK, ldb: kvDim, m: queryRows, n: kvDim, k: d)
            gemm(&v, ldc: kvDim, x.baseAddress!, lda: d, lw.wV, ldb: kvDim, m: nPos, n: kvDim, k: d)
        }
        func addBias(_ m: inout [Float], _ b: [Float]?, _ width: Int) {
            guard let b else { return }
            for p in 0..<nPos { for i in 0..<width { m[p * width + i] += b[i] } }
        }
        addBias(&v, lw.bV, kvDim)
        if frozenPattern == nil { addBias(&q, lw.bQ, qDim); addBias(&k, lw.bK, kvDim) }
        if frozenPattern == nil, let qn = lw.qNorm, let kn = lw.kNorm {
            var s = [Float](repeating: 0, count: nPos * max(H, KV))
            var tmp = q
            normForward(out: &tmp, normalized: nil, scale: &s, x: q, weight: qn.weight, bias: nil, rows: nPos * H, dim: dh, kind: .rmsNorm, eps: c.normEps)
            q = tmp
            tmp = k
            normForward(out: &tmp, normalized: nil, scale: &s, x: k, weight: kn.weight, bias: nil, rows: nPos * KV, dim: dh, kind: .rmsNorm, eps: c.normEps)
            k = tmp
        }
        if frozenPattern == nil, !inverseFrequencies.isEmpty {
            q.withUnsafeMutableBufferPointer { Q in k.withUnsafeMutableBufferPointer { K in
                for (s, p) in zip(segments, starts) {
                    applyRotary(Q.baseAddress! + s.lowerBound * qDim, nPos: s.count, firstPosition: p, nHeads: H, dHead: dh,
                                inverseFrequencies: inverseFrequencies)
                    applyRotary(K.baseAddress! + s.lowerBound * kvDim, nPos: s.count, firstPosition: p, nHeads: KV, dHead: dh,
                                inverseFrequencies: inverseFrequencies)
                }
            }}
        }
        var z = [Float](repeating: 0, count: nPos * qDim)
        var pattern = [Float](repeating: 0, count: longest * longest)
        for (i, s) in segments.enumerated() {
            let p = starts[i], n = p + s.count   // the segment's rows are positions p..<n of its prompt
            /// Positions 0..<n of a `width`-wide buffer: the prefix's before p, the segment's own after.
            func positions(_ own: [Float], _ earlier: [[Float]]?, _ width: Int) -> ArraySlice<Float> {
                let rows = own[(s.lowerBound * width)..<(s.upperBound * width)]
                guard p > 0, let earlier else { return rows }
                return ArraySlice(earlier[l][0..<(p * width)] + rows)
            }
            let Q = frozenPattern.map { ArraySlice($0.queries) } ?? positions(q, prefix?.record.queries, qDim)
            let K = frozenPattern.map { ArraySlice($0.keys) } ?? positions(k, prefix?.record.keys, kvDim)
            let V = positions(v, prefix?.record.values, kvDim)
            precondition(Q.count == n * qDim && V.count == n * kvDim, "a segment without its prefix, or frozen patterns of another length")
            Q.withUnsafeBufferPointer { Q in K.withUnsafeBufferPointer { K in V.withUnsafeBufferPointer { V in
            pattern.withUnsafeMutableBufferPointer { A in z.withUnsafeMutableBufferPointer { Z in
                let z0 = Z.baseAddress! + s.lowerBound * qDim
                for h in 0..<H {
                    self.pattern(queries: Q.baseAddress!, keys: K.baseAddress!, layer: l, head: h, rows: n, into: A.baseAddress!)
                    // z_h[s, dh] = pattern_h[p..<n, 0..<n] · v_kvh[n, dh]   (z, v rows strided by H·dh, KV·dh)
                    gemm(z0 + h * dh, ldc: qDim, A.baseAddress! + p * n, lda: n, V.baseAddress! + (h / (H / KV)) * dh, ldb: kvDim,
                         m: s.count, n: dh, k: n)
                }
            }}}}}
        }
        // out[T, d] = z[T, H·dh] · W_O[H·dh, d] + b_O
        var out = [Float](repeating: 0, count: nPos * d)
        gemm(&out, ldc: d, z, lda: qDim, lw.wO, ldb: d, m: nPos, n: d, k: qDim)
        addBias(&out, lw.bO, d)
        return (out, q, k, v)
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
        mlp(layer: l, input: input, nPos: nPos, keepPreactivations: false).out
    }

    /// The MLP of layer `l` on its input `[nPos, dModel]`, and, with `keepPreactivations`, what a
    /// backward pass through it reads: the first projection before its activation and the gated
    /// MLP's up projection, `[nPos, dMLP]` each (else, and `up` of a plain MLP, empty).
    func mlp(layer l: Int, input: [Float], nPos: Int, keepPreactivations: Bool) -> (out: [Float], gate: [Float], up: [Float]) {
        let c = config, lw = weights.layers[l]
        let d = c.dModel, m = c.dMLP
        var hidden = [Float](repeating: 0, count: nPos * m)
        // hidden[T, dMLP] = x[T, d] · W_in[d, dMLP] (+ b_in)
        gemm(&hidden, ldc: m, input, lda: d, lw.wIn, ldb: m, m: nPos, n: m, k: d)
        if let b = lw.bIn { for p in 0..<nPos { for i in 0..<m { hidden[p * m + i] += b[i] } } }
        let gate = keepPreactivations ? hidden : []
        var up: [Float] = []
        switch c.mlp {
        case .geluTanh:
            for i in hidden.indices { hidden[i] = geluTanh(hidden[i]) }
        case let .gated(act):
            up = [Float](repeating: 0, count: nPos * m)
            // up[T, dMLP] = x[T, d] · W_up[d, dMLP]
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
        return (out, gate, keepPreactivations ? up : [])
    }
}
