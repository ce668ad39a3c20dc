import CBLAS

extension FeatureSelection {
    /// `M[r, r'] = |A[r, node(r')]| / max(Σ_j |A[r, j]|, 1e-8)`: row r of the row-normalised
    /// |A| read at the column of the feature that owns row r'. Zero in logit-owned columns, in
    /// rows not yet visited and where row r is structurally zero. `[size, size]`, row-major.
    final class InfluenceBlock {
        /// Rows (and columns) visited in all, S.
        let size: Int
        /// `[size, size]`, zero-initialised.
        let entries: UnsafeMutablePointer<Float>

        init(size: Int) {
            self.size = size
            entries = .allocate(capacity: max(size * size, 1))
            entries.initialize(repeating: 0, count: max(size * size, 1))
        }

        deinit { entries.deallocate() }
    }

    /// The next `count` features to visit: the unvisited ones of highest partial influence
    /// (`featureInfluence` of the `influenceWeights`), ties by ascending index; `forced` features
    /// rank above every other, and among themselves by index.
    /// - Parameters:
    ///   - scratch: a row read back from the file. `[nColumns]`
    ///   - magnitudes: `|row|` of a row's feature entries. `[nColumns]`
    func nextFeatures(count: Int, forced: [Int], store: RowStore, visited: VisitedRows, M: InfluenceBlock,
                      scratch: UnsafeMutablePointer<Float>, magnitudes: UnsafeMutablePointer<Float>) -> [Int] {
        let weights = influenceWeights(M: M, rows: store.count, absSums: store.absSums)   // [rows]
        var influence = featureInfluence(store: store, weights: weights, scratch: scratch, magnitudes: magnitudes)   // [nActive]
        for f in forced { influence[f] = .infinity }
        return topUnvisited(influence, visited: visited, count: count)
    }

    /// `Σ_k g_k` over the `rows` visited rows: `g_0` = logit probabilities on the logit rows,
    /// `g_{k+1} = g_kᵀ · M`, stopping (as circuit-tracer) at the first `g_k · B` that is all zero,
    /// i.e. when no row with weight has a non-zero entry, or after 128 steps. `[rows]`
    func influenceWeights(M: InfluenceBlock, rows: Int, absSums: UnsafePointer<Float>) -> [Float] {
        var g = [Float](repeating: 0, count: rows), next = g, total = g   // [rows]
        for (k, p) in logitProbabilities.enumerated() { g[k] = p }
        for _ in 0..<FeatureSelection.maxIterations {
            guard (0..<rows).contains(where: { g[$0] != 0 && absSums[$0] > 0 }) else { break }
            for r in 0..<rows { total[r] += g[r] }
            // next[rows] = gᵀ[rows] · M[rows, rows]   (M rows S apart)
            gemv(&next, M.entries, lda: M.size, trans: true, g, m: rows, n: rows)
            swap(&g, &next)
        }
        return total
    }

    /// Influence on every active feature: `Σ_r w[r] · |A[r, f]| / max(Σ_j |A[r, j]|, 1e-8)`,
    /// one pass over the stored rows, summed row by row in store order. `[nActive]`
    func featureInfluence(store: RowStore, weights w: [Float], scratch: UnsafeMutablePointer<Float>,
                          magnitudes: UnsafeMutablePointer<Float>) -> [Float] {
        var influence = [Float](repeating: 0, count: features.count)   // [nActive]
        influence.withUnsafeMutableBufferPointer { I in
            for r in 0..<w.count where w[r] != 0 {
                let packed = store.packedLayout(ofRow: r)
                let alpha = w[r] / max(store.absSums[r], FeatureSelection.rowSumFloor)
                store.withRow(r, scratch: scratch) { row in   // [packed.length]
                    for i in 0..<packed.featureLength { magnitudes[i] = abs(row[i]) }
                }
                for s in packed.features {
                    // influence[column ..< column+count] += alpha · |row[packed ..< packed+count]|
                    cblas_saxpy(Int32(s.count), alpha, magnitudes + s.packed, 1, I.baseAddress! + s.column, 1)
                }
            }
        }
        return influence
    }

    /// The `count` unvisited features of highest influence, ties by ascending index (forced
    /// features carry +∞ and keep their index order): a stable descending sort.
    func topUnvisited(_ influence: [Float], visited: VisitedRows, count: Int) -> [Int] {
        var candidates = influence.indices.filter { visited.rowOfFeature[$0] == nil }
        candidates.sort { influence[$0] != influence[$1] ? influence[$0] > influence[$1] : $0 < $1 }
        return Array(candidates.prefix(count))
    }
}
