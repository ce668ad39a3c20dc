extension TranscoderSet {
    /// Dense post-activation values of layer `l`'s features on the transcoder inputs `x`
    /// `[rows, dModel]`: `act(x · W_encᵀ + b_enc)`, `[rows, dTranscoder]`, the activation
    /// function as `FeatureActivations` applies it (no position is zeroed here).
    func encode(layer l: Int, _ x: [Float], rows: Int) -> [Float] {
        let d = dModel, dT = dTranscoder
        var pre = [Float](repeating: 0, count: rows * dT)
        // pre[rows, dT] = x[rows, d] · W_encᵀ[d, dT] + b_enc
        gemm(&pre, ldc: dT, x, lda: d, encoders[l], ldb: d, transB: true, m: rows, n: dT, k: d)
        let b = encoderBiases[l]
        for r in 0..<rows { for f in 0..<dT { pre[r * dT + f] += b[f] } }
        if case let .topK(k) = activation {
            // The k largest of each row unchanged, the rest 0.
            for r in 0..<rows {
                let kept = Set(Self.topK(k, of: pre[(r * dT)..<((r + 1) * dT)]))
                for f in 0..<dT where !kept.contains(f) { pre[r * dT + f] = 0 }
            }
        } else {
            for r in 0..<rows { for f in 0..<dT { pre[r * dT + f] = activate(pre[r * dT + f], layer: l, feature: f) } }
        }
        return pre
    }

    /// Layer `l`'s activations at a few `(row, feature)` entries of its input `x` `[rows, dModel]`:
    /// what `encode(layer:_:rows:)` gives there, without encoding every feature of every row
    /// (top-k, whose value depends on the whole row, encodes the entries' rows).
    func encode(layer l: Int, _ x: [Float], entries: [(row: Int, feature: Int)]) -> [Float] {
        let d = dModel, dT = dTranscoder
        if case .topK = activation {
            return entries.map { e in encode(layer: l, Array(x[(e.row * d)..<((e.row + 1) * d)]), rows: 1)[e.feature] }
        }
        let w = encoders[l], b = encoderBiases[l]
        return entries.map { e in
            // pre = x[row] · W_enc[feature] + b_enc[feature]
            var pre = b[e.feature]
            for i in 0..<d { pre += x[e.row * d + i] * w[e.feature * d + i] }
            return activate(pre, layer: l, feature: e.feature)
        }
    }

    /// The activation function at one feature of layer `l` (ReLU, JumpReLU: element-wise; top-k
    /// depends on the whole row, see `topK(_:of:)`): `pre` when the feature fires, else 0.
    @inline(__always)
    func activate(_ pre: Float, layer l: Int, feature f: Int) -> Float {
        switch activation {
        case .relu: return pre > 0 ? pre : 0
        case .jumpReLU: return pre > thresholds[l]![f] ? pre : 0
        case .topK: preconditionFailure("top-k is not element-wise: use topK(_:of:)")
        }
    }

    /// The features top-k keeps on one row of pre-activations `[dTranscoder]`, ascending: the `k`
    /// largest, ties broken towards the lower index (as `torch.topk` on the reference cases).
    static func topK(_ k: Int, of row: ArraySlice<Float>) -> [Int] {
        let base = row.startIndex
        return (0..<row.count).sorted { row[base + $0] != row[base + $1] ? row[base + $0] > row[base + $1] : $0 < $1 }
            .prefix(k).sorted()
    }
}
