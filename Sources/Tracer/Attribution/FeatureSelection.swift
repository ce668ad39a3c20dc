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
/// columns. So only `M = B[:, visited]` (`[S, S]`, `InfluenceBlock`) is iterated, and the rows
/// themselves are read once per ranking for `(Σ_k g_k) · B`. Same sums as circuit-tracer's, up
/// to float32 round-off of their order. The rows live packed in a `RowStore`.
///
/// Steps: `computeLogitRows`; then, until `maxFeatures` features are visited, `nextFeatures`
/// (ranking, in `FeatureSelection+Ranking.swift`) and `computeFeatureRows`; finally `assemble`.
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
        let S = maxFeatures + logitProbabilities.count   // rows visited in all
        let store = RowStore(nLayers: nLayers, nPos: nPos, slotStart: features.slotStart, capacity: S,
                             memoryBytes: options.rowMemoryBytes)
        var visited = VisitedRows(nActive: features.count)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: runner.nColumns)   // [nColumns]: a row read back from the file
        defer { scratch.deallocate() }
        do {   // M and the ranking scratch are freed before the adjacency is assembled
            let M = InfluenceBlock(size: S)
            let magnitudes = UnsafeMutablePointer<Float>.allocate(capacity: runner.nColumns)   // [nColumns]: |row| while ranking
            defer { magnitudes.deallocate() }

            try computeLogitRows(store: store, visited: &visited, M: M)
            timings.logitRows = lap()
            let forced = forcedFeatures()
            while visited.features.count < maxFeatures {
                let before = visited.features.count
                let count = min(options.updateInterval * options.batchSize, maxFeatures - before)
                let pending = nextFeatures(count: count, forced: forced, store: store, visited: visited, M: M,
                                           scratch: scratch, magnitudes: magnitudes)
                try computeFeatureRows(pending, store: store, visited: &visited, M: M, scratch: scratch) {
                    progress?(before + $0, maxFeatures)
                }
            }
        }
        let selected = visited.selected
        let adjacency = assemble(store: store, owners: visited.owners, selected: selected, layout: layout, scratch: scratch)
        return (selected, adjacency)
    }

    /// The active features a prefilter forces (`options.forcedFeatures`, any position), ascending.
    func forcedFeatures() -> [Int] {
        guard !options.forcedFeatures.isEmpty else { return [] }
        return features.activeFeatures.indices.filter {
            let a = features.activeFeatures[$0]
            return options.forcedFeatures.contains(FeatureID(layer: a.layer, feature: a.index))
        }
    }

    /// Computes the logit rows into rows `0 ..< nLogits` (rank order) of the empty `store`.
    /// Their M rows stay 0: no feature is visited yet.
    func computeLogitRows(store: RowStore, visited: inout VisitedRows, M: InfluenceBlock) throws {
        let items = try logitProbabilities.indices.map { rank -> (AttributionTarget, Int) in
            let r = try store.append(layer: nLayers, pos: nPos - 1)   // a logit reads everything before the last layer's output
            visited.record(.logit(rank: rank), row: r)
            return (.logit(rank: rank), r)
        }
        computeRows(items, visitedFeatures: [], store: store, M: M, done: nil)
    }

    /// Visits `pending`: reserves their rows, fills M's new columns in the rows already stored,
    /// then computes the new rows (and their M rows over every visited feature, these included).
    /// - Parameter done: called with the new rows finished so far.
    func computeFeatureRows(_ pending: [Int], store: RowStore, visited: inout VisitedRows, M: InfluenceBlock,
                            scratch: UnsafeMutablePointer<Float>, done: ((Int) -> Void)?) throws {
        let oldRows = 0..<store.count
        let newRows = try pending.map { f -> (feature: Int, row: Int) in
            let a = features.activeFeatures[f]
            let r = try store.append(layer: a.layer, pos: a.pos)
            visited.record(.feature(index: f), row: r)
            return (f, r)
        }
        fillColumns(of: newRows, inRows: oldRows, store: store, M: M, scratch: scratch)
        // By layer (descending) then position, so each batch spans few layers and positions.
        let order = newRows.sorted {
            let a = features.activeFeatures[$0.feature], b = features.activeFeatures[$1.feature]
            return a.layer != b.layer ? a.layer > b.layer : (a.pos, $0.feature) < (b.pos, $1.feature)
        }
        computeRows(order.map { (.feature(features.activeFeatures[$0.feature]), $0.row) }, visitedFeatures: visited.features,
                    store: store, M: M, done: done)
    }

    /// `M[r, c] = |A[r, f]| / max(Σ_j |A[r, j]|, 1e-8)` for each stored row r in `rows` and each
    /// newly visited feature f with row c (`columns`); entries the packed row does not keep stay 0.
    func fillColumns(of columns: [(feature: Int, row: Int)], inRows rows: Range<Int>, store: RowStore, M: InfluenceBlock,
                     scratch: UnsafeMutablePointer<Float>) {
        for r in rows {
            let packed = store.packedLayout(ofRow: r)
            let inv = 1 / max(store.absSums[r], FeatureSelection.rowSumFloor)
            let mRow = M.entries + r * M.size   // [S]
            store.withRow(r, scratch: scratch) { row in   // [packed.length]
                for (f, c) in columns {
                    if let k = packed.packedIndex(ofFeature: f, at: features.activeFeatures[f]) { mRow[c] = abs(row[k]) * inv }
                }
            }
        }
    }

    /// Computes the rows of `items` (target, row) into `store`, and their M rows
    /// `M[r, c] = |A[r, f]| / max(Σ_j |A[r, j]|, 1e-8)` at every visited feature f with row c
    /// (`visitedFeatures`). The runner's work buffers are released afterwards, so that they are
    /// not held while ranking or assembling.
    func computeRows(_ items: [(AttributionTarget, Int)], visitedFeatures: [(feature: Int, row: Int)], store: RowStore,
                     M: InfluenceBlock, done: ((Int) -> Void)?) {
        let entries = M.entries, S = M.size   // [S, S]
        runner.run(runner.batches(items), sink: { r, values in   // values: [nColumns], the dense edge row
            store.write(row: r, values: values)
            let inv = 1 / max(store.absSums[r], FeatureSelection.rowSumFloor)
            let mRow = entries + r * S   // [S]
            for (f, c) in visitedFeatures { mRow[c] = abs(values[f]) * inv }
        }, done: done)
        runner.releaseWorkBuffers()
    }

    /// The graph's adjacency: every stored row at its node's slot, unpacked to the selected
    /// feature columns, errors and tokens (`RowStore.unpack`). Only feature and logit rows are
    /// held (`Adjacency`).
    /// - Parameters:
    ///   - owners: the owner of each stored row. `[store.count]`
    ///   - selected: the visited features, ascending (feature node i is `selected[i]`).
    func assemble(store: RowStore, owners: [RowOwner], selected: [Int], layout: NodeLayout,
                  scratch: UnsafeMutablePointer<Float>) -> Adjacency {
        let N = layout.count
        var adjacency = Adjacency(layout: layout)
        let nodeOfFeature = Dictionary(uniqueKeysWithValues: selected.enumerated().map { ($1, $0) })
        adjacency.storage.withUnsafeMutableBufferPointer { A in   // [nFeatures + nLogits, N]
            for (r, owner) in owners.enumerated() {
                let node: Node
                switch owner {
                case let .logit(rank): node = .logit(rank: rank)
                case let .feature(f): node = .feature(selected: nodeOfFeature[f]!)   // every visited feature is selected
                }
                let dst = A.baseAddress! + Adjacency.slot(ofRow: layout.index(of: node), in: layout)! * N   // [N]
                store.unpack(row: r, into: dst, layout: layout, selected: selected, activeFeatures: features.activeFeatures,
                             scratch: scratch)
            }
        }
        return adjacency
    }
}
