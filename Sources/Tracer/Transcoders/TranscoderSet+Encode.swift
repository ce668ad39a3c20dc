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
        switch activation {
        case .relu:
            for i in pre.indices where !(pre[i] > 0) { pre[i] = 0 }
        case .jumpReLU:
            let t = thresholds[l]!
            for r in 0..<rows { for f in 0..<dT where !(pre[r * dT + f] > t[f]) { pre[r * dT + f] = 0 } }
        case let .topK(k):
            // The k largest of each row unchanged (ties → lower index), the rest 0.
            for r in 0..<rows {
                let row = r * dT
                let kept = Set((0..<dT).sorted { pre[row + $0] != pre[row + $1] ? pre[row + $0] > pre[row + $1] : $0 < $1 }.prefix(k))
                for f in 0..<dT where !kept.contains(f) { pre[row + f] = 0 }
            }
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
            switch activation {
            case .relu: return pre > 0 ? pre : 0
            case .jumpReLU: return pre > thresholds[l]![e.feature] ? pre : 0
            case .topK: fatalError("handled above")
            }
        }
    }
}
