import Storage

/// The logits each transcoder feature promotes and suppresses: its decoder direction read
/// through the unembedding, `(γ ⊙ d_f) · W_U`, where γ is the final norm's per-channel weight and
///
/// - PLT: `d_f = W_dec[l][f]`, the one vector feature f of layer l writes (into layer l's MLP output);
/// - CLT: `d_f = Σ_{m ≥ l} W_dec[l][f, m − l]`, the sum of the vectors it writes into every later
///   MLP output, since all of them reach the residual stream the unembedding reads.
///
/// The final norm's division by the residual's scale (a positive number per position) and the
/// unembedding bias are left out: neither changes which tokens a direction ranks highest.
/// One GEMM `[block, dModel] × [dModel, nVocab]` per block of features (BLAS).
public enum FeatureLogits {
    /// Top and bottom `k` tokens of every feature of every layer.
    public static func table(model: TransformerWeights, transcoders tc: TranscoderSet, k: Int = DashboardParameters.logitCount,
                             tokenText: (Int) -> String) throws -> FeatureLogitTable {
        let d = tc.dModel, V = model.config.nVocab, dT = tc.dTranscoder, k = min(k, V)
        let gamma = model.lnFinal.weight                                   // [dModel]
        let n = tc.nLayers * dT * k
        var topIDs = [Int32](repeating: 0, count: n), topValues = [Float](repeating: 0, count: n)
        var bottomIDs = topIDs, bottomValues = topValues
        let blockSize = max(1, min(dT, (1 << 24) / max(V, 1)))            // ≤ 64 MB of logits a block
        var logits = [Float](repeating: 0, count: blockSize * V)           // [block, nVocab]
        for l in 0..<tc.nLayers {
            let nOut = tc.outputLayers(of: l).count
            for first in stride(from: 0, to: dT, by: blockSize) {
                let features = Array(first..<min(dT, first + blockSize)), nb = features.count
                let rows = try tc.decoderRows(layer: l, features: features)   // [nb, nOut, dModel]
                var direction = [Float](repeating: 0, count: nb * d)        // [nb, dModel]
                for i in 0..<nb {
                    for o in 0..<nOut { for j in 0..<d { direction[i * d + j] += rows[(i * nOut + o) * d + j] } }
                    for j in 0..<d { direction[i * d + j] *= gamma[j] }
                }
                // logits[nb, V] = direction[nb, d] · W_U[d, V]
                gemm(&logits, ldc: V, direction, lda: d, model.unembedding, ldb: V, m: nb, n: V, k: d)
                for i in 0..<nb {
                    let base = ((l * dT) + features[i]) * k
                    let row = logits[(i * V)..<((i + 1) * V)]
                    let hi = largest(k, of: row, offset: i * V, sign: 1), lo = largest(k, of: row, offset: i * V, sign: -1)
                    for r in 0..<k {
                        topIDs[base + r] = Int32(hi[r]); topValues[base + r] = row[i * V + hi[r]]
                        bottomIDs[base + r] = Int32(lo[r]); bottomValues[base + r] = row[i * V + lo[r]]
                    }
                }
            }
        }
        var strings: [Int32: String] = [:]
        for id in Set(topIDs + bottomIDs) { strings[id] = tokenText(Int(id)) }
        return FeatureLogitTable(nLayers: tc.nLayers, dTranscoder: dT, k: k, topIDs: topIDs, topValues: topValues,
                                 bottomIDs: bottomIDs, bottomValues: bottomValues, tokenStrings: strings)
    }

    /// The `k` token ids of `row` (indices from `offset`) with the largest `sign · value`, best
    /// first; ties: the lower id first. One pass with a sorted list of k (k ≪ nVocab).
    static func largest(_ k: Int, of row: ArraySlice<Float>, offset: Int, sign: Float) -> [Int] {
        var best: [(value: Float, id: Int)] = []
        best.reserveCapacity(k + 1)
        for j in row.indices {
            let v = sign * row[j], id = j - offset
            if best.count == k, let last = best.last, v <= last.value { continue }
            let at = best.firstIndex { v > $0.value } ?? best.count
            best.insert((v, id), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.id)
    }
}
