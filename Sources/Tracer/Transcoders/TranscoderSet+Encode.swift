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
}
