import CBLAS
import Foundation
import Storage

/// circuit-tracer's influence-ordered feature selection under `max_feature_nodes`, without any
/// dense `[rows, nActive]` matrix.
///
/// circuit-tracer computes the logit rows, then repeatedly ranks the unvisited features by
/// `compute_partial_influences` (power iteration of the logit probabilities through the
/// row-normalised |rows| computed so far, at most 128 steps, row sums clamped at 1e-8) and
/// attributes the top `updateInterval · batchSize` of them. With `B = |rows| / rowsums`
/// (`[S, nCols]`, S rows visited) that influence is `Σ_k g_k · B`, where `g_0` holds the logit
/// probabilities on the logit rows and `g_{k+1} = (g_k · B)` read at the visited rows' own
/// columns. So only `M = B[:, visited]` (`[S, S]`) is iterated, and the rows themselves are read
/// once per ranking for `(Σ_k g_k) · B`. Same sums as circuit-tracer's, up to float32 round-off
/// of their order. The rows live packed in a `RowStore`.
struct FeatureSelection {
    let runner: BatchRunner
    let features: FeatureActivations
    let nLayers: Int
    let nPos: Int
    let logitProbabilities: [Float]
    let options: AttributionOptions

    /// Row-sum floor of `compute_partial_influences`.
    static let rowSumFloor: Float = 1e-8
    /// Power-iteration cap of `compute_partial_influences`.
    static let maxIterations = 128

    /// Selects `maxFeatures` features and returns them (ascending) with the graph's adjacency
    /// in `layout` order.
    func run(maxFeatures: Int, layout: NodeLayout, lap: () -> Double, timings: inout PhaseTimings,
             progress: ((Int, Int) -> Void)?) throws -> (selected: [Int], adjacency: Adjacency) {
        let nActive = features.count, nLogits = logitProbabilities.count
        let S = maxFeatures + nLogits
        let store = RowStore(nLayers: nLayers, nPos: nPos, slotStart: features.slotStart, capacity: S,
                             memoryBytes: options.rowMemoryBytes)
        var rowFeature = [Int]()                 // per row: feature index, or -1 for a logit row
        var visitedRow = [Int](repeating: -1, count: nActive)   // per feature: its row, or -1
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: runner.nColumns)
        defer { scratch.deallocate() }
        do {   // M and the ranking scratch are freed before the adjacency is assembled
            // M[r, r'] = |A[r, node(r')]| / max(Σ_j |A[r, j]|, 1e-8); logit columns stay 0. [S, S]
            let M = UnsafeMutablePointer<Float>.allocate(capacity: max(S * S, 1))
            M.initialize(repeating: 0, count: max(S * S, 1))
            defer { M.deallocate() }
            let absScratch = UnsafeMutablePointer<Float>.allocate(capacity: runner.nColumns)
            defer { absScratch.deallocate() }

            /// Computes the rows of `items` (target, row) into the store and fills their M rows over
            /// the columns of `visited` (feature, row) — every feature visited once these rows are in.
            func compute(_ items: [(AttributionTarget, Int)], visited: [(Int, Int)], done: ((Int) -> Void)?) {
                runner.run(runner.batches(items), sink: { r, values in
                    store.write(row: r, values: values)
                    let inv = 1 / max(store.absSums[r], FeatureSelection.rowSumFloor)
                    let mRow = M + r * S
                    for (f, c) in visited { mRow[c] = abs(values[f]) * inv }
                }, done: done)
                runner.releaseWorkBuffers()   // not held while ranking or assembling
            }

            // Logit rows first (rows 0..<nLogits).
            for _ in 0..<nLogits { _ = try store.append(layer: nLayers, pos: nPos - 1); rowFeature.append(-1) }
            compute((0..<nLogits).map { (.logit(rank: $0), $0) }, visited: [], done: nil)
            timings.logitRows = lap()

            let forced = options.forcedFeatures.isEmpty ? [] : features.activeFeatures.indices.filter {
                options.forcedFeatures.contains(FeatureID(layer: features.activeFeatures[$0].layer, feature: features.activeFeatures[$0].index))
            }
            var nVisited = 0
            while nVisited < maxFeatures {
                let st = store.count
                let weights = influenceWeights(M: M, S: S, rows: st, absSums: store.absSums)
                let influence = featureInfluence(store: store, weights: weights, scratch: scratch, absScratch: absScratch)
                // The top unvisited features, ties by index (a stable descending sort).
                let queueSize = min(options.updateInterval * options.batchSize, maxFeatures - nVisited)
                var ranked = influence
                // Forced features (a prefilter) rank above every other; among themselves by influence.
                for f in forced { ranked[f] = .infinity }
                let pending = topUnvisited(ranked, visited: visitedRow, count: queueSize)

                for f in pending {
                    let a = features.activeFeatures[f]
                    visitedRow[f] = try store.append(layer: a.layer, pos: a.pos)
                    rowFeature.append(f)
                }
                // Old rows × new columns.
                for r in 0..<st {
                    let (l, p) = store.shapes[r]
                    let starts = store.featureStarts(layer: l, pos: p)
                    let inv = 1 / max(store.absSums[r], FeatureSelection.rowSumFloor)
                    store.withRow(r, scratch: scratch) { row in
                        for f in pending {
                            if let k = store.packedIndex(ofFeature: f, at: features.activeFeatures[f], targetLayer: l, targetPos: p, featureStarts: starts) {
                                M[r * S + visitedRow[f]] = abs(row[k]) * inv
                            }
                        }
                    }
                }
                // New rows, batched by layer (descending) then position so each batch spans few layers and positions.
                let visited = (0..<nActive).compactMap { visitedRow[$0] >= 0 ? ($0, visitedRow[$0]) : nil }
                let order = pending.sorted {
                    let a = features.activeFeatures[$0], b = features.activeFeatures[$1]
                    return a.layer != b.layer ? a.layer > b.layer : (a.pos, $0) < (b.pos, $1)
                }
                let before = nVisited
                compute(order.map { (.feature(features.activeFeatures[$0]), visitedRow[$0]) }, visited: visited) {
                    progress?(before + $0, maxFeatures)
                }
                nVisited += pending.count
            }
        }
        let selected = (0..<nActive).filter { visitedRow[$0] >= 0 }
        let adjacency = assemble(store: store, rowFeature: rowFeature, selected: selected, layout: layout, scratch: scratch)
        return (selected, adjacency)
    }

    /// `Σ_k g_k` over the `rows` visited rows: `g_0` = logit probabilities on the logit rows,
    /// `g_{k+1} = g_kᵀ · M`, stopping (as circuit-tracer) at the first `g_k · B` that is all zero,
    /// i.e. when no row with weight has a non-zero entry, or after 128 steps. `[rows]`
    func influenceWeights(M: UnsafePointer<Float>, S: Int, rows: Int, absSums: UnsafePointer<Float>) -> [Float] {
        var g = [Float](repeating: 0, count: rows), next = g, total = g
        for (k, p) in logitProbabilities.enumerated() { g[k] = p }
        for _ in 0..<FeatureSelection.maxIterations {
            guard (0..<rows).contains(where: { g[$0] != 0 && absSums[$0] > 0 }) else { break }
            for r in 0..<rows { total[r] += g[r] }
            // next[rows] = gᵀ[rows] · M[rows, rows]   (M rows S apart)
            gemv(&next, M, lda: S, trans: true, g, m: rows, n: rows)
            swap(&g, &next)
        }
        return total
    }

    /// Influence on every active feature: `Σ_r w[r] · |A[r, f]| / max(Σ_j |A[r, j]|, 1e-8)`,
    /// one pass over the stored rows. `[nActive]`
    func featureInfluence(store: RowStore, weights w: [Float], scratch: UnsafeMutablePointer<Float>,
                          absScratch: UnsafeMutablePointer<Float>) -> [Float] {
        var influence = [Float](repeating: 0, count: features.count)
        influence.withUnsafeMutableBufferPointer { I in
            for r in 0..<w.count where w[r] != 0 {
                let (l, p) = store.shapes[r]
                let alpha = w[r] / max(store.absSums[r], FeatureSelection.rowSumFloor)
                let n = store.featureCount(layer: l, pos: p)
                store.withRow(r, scratch: scratch) { row in
                    for i in 0..<n { absScratch[i] = abs(row[i]) }
                }
                var k = 0
                for (start, length) in store.columnRanges(layer: l, pos: p).prefix(l) {
                    // influence[start..<start+length] += alpha · |row[k..<k+length]|
                    cblas_saxpy(Int32(length), alpha, absScratch + k, 1, I.baseAddress! + start, 1)
                    k += length
                }
            }
        }
        return influence
    }

    /// The `count` unvisited features of highest influence, ties by ascending index (forced
    /// features carry +∞ and keep their index order).
    func topUnvisited(_ influence: [Float], visited: [Int], count: Int) -> [Int] {
        var candidates = influence.indices.filter { visited[$0] < 0 }
        candidates.sort { influence[$0] != influence[$1] ? influence[$0] > influence[$1] : $0 < $1 }
        return Array(candidates.prefix(count))
    }

    /// The graph's adjacency: every stored row at its node, restricted to the selected feature
    /// columns, errors and tokens. Only feature and logit rows are held (`Adjacency`).
    func assemble(store: RowStore, rowFeature: [Int], selected: [Int], layout: NodeLayout,
                  scratch: UnsafeMutablePointer<Float>) -> Adjacency {
        let N = layout.count
        var adjacency = Adjacency(layout: layout)
        var node = [Int](repeating: -1, count: features.count)
        for (i, f) in selected.enumerated() { node[f] = i }
        adjacency.storage.withUnsafeMutableBufferPointer { A in
            var logitRank = 0
            for r in 0..<store.count {
                let target: Int
                if rowFeature[r] >= 0 { target = node[rowFeature[r]] } else { target = layout.index(of: .logit(rank: logitRank)); logitRank += 1 }
                let (l, p) = store.shapes[r]
                let starts = store.featureStarts(layer: l, pos: p)
                let dst = A.baseAddress! + Adjacency.slot(ofRow: target, in: layout)! * N
                store.withRow(r, scratch: scratch) { row in
                    for (i, f) in selected.enumerated() {
                        if let k = store.packedIndex(ofFeature: f, at: features.activeFeatures[f], targetLayer: l, targetPos: p, featureStarts: starts) {
                            dst[i] = row[k]
                        }
                    }
                    let errors = store.featureCount(layer: l, pos: p)
                    for lp in 0..<l {
                        (dst + layout.index(of: .error(layer: lp, pos: 0))).update(from: row + errors + lp * (p + 1), count: p + 1)
                    }
                    (dst + layout.index(of: .token(pos: 0))).update(from: row + errors + l * (p + 1), count: p + 1)
                }
            }
        }
        return adjacency
    }
}
