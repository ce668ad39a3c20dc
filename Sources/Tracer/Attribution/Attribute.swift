import Foundation

/// A model and its transcoders: the replacement model whose local linearisation on a prompt
/// is the attribution graph.
public final class ReplacementModel: Sendable {
    public let model: Transformer
    public let transcoders: TranscoderSet

    public init(model: Transformer, transcoders: TranscoderSet) {
        self.model = model
        self.transcoders = transcoders
    }

    /// Loads a Hugging Face model folder and a transcoder folder, checking they fit together.
    public convenience init(modelDirectory: URL, transcoderDirectory: URL) throws {
        let model = try Transformer(directory: modelDirectory)
        let tc = try TranscoderSet(directory: transcoderDirectory, nLayers: model.config.nLayers, dModel: model.config.dModel)
        self.init(model: model, transcoders: tc)
    }

    /// The attribution graph of `tokens` (BOS included), as circuit-tracer's `attribute()`.
    ///
    /// - Parameters:
    ///   - tokenText: decodes one token id (for token and logit labels).
    ///   - timings: receives the seconds spent per phase.
    ///   - progress: called with (feature rows done, feature rows to do) after each batch.
    public func attribute(tokens: [Int], options: AttributionOptions = AttributionOptions(),
                          tokenText: (Int) -> String = { "\($0)" }, timings: inout PhaseTimings,
                          progress: ((Int, Int) -> Void)? = nil) throws -> AttributionGraph {
        try options.validate()
        var clock = Date()
        func lap() -> Double { let now = Date(); defer { clock = now }; return now.timeIntervalSince(clock) }

        let record = try model.forward(tokens: tokens)
        timings.forward = lap()
        let features = try FeatureActivations(record: record, transcoders: transcoders)
        timings.transcoders = lap()

        let c = model.config
        let logits = LogitTargets(logits: record.lastLogits, unembedding: model.weights.unembedding, dModel: c.dModel,
                                  softcap: c.finalLogitSoftcap, maxLogits: options.maxLogits,
                                  desiredProbability: options.desiredLogitProbability, tokenText: tokenText)
        let runner = BatchRunner(threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                 batchSize: options.batchSize) {
            LinearisedBackward(model: model, transcoders: transcoders, record: record, features: features,
                               logitDirections: logits.directions)
        }
        let nActive = features.count, nLogits = logits.targets.count, nCols = runner.nColumns
        let maxFeatures = min(options.maxFeatureNodes ?? nActive, nActive)
        let layout = NodeLayout(nFeatures: maxFeatures, nLayers: c.nLayers, nPos: tokens.count, nLogits: nLogits)
        let N = layout.count
        /// `items` cut into batches of `batchSize`, each item a (target, destination row).
        func batches(_ items: [(AttributionTarget, Int)]) -> [BatchRunner.Batch] {
            stride(from: 0, to: items.count, by: options.batchSize).map { start in
                let slice = items[start..<min(start + options.batchSize, items.count)]
                return BatchRunner.Batch(targets: slice.map { $0.0 }, rows: slice.map { $0.1 })
            }
        }

        var adjacency: [Float]
        let selected: [Int]
        if maxFeatures == nActive {
            // Every feature is a node: rows go straight into A (node i = feature i; the first nCols
            // columns of A are the edge columns in the same order). Targets sorted by layer, then
            // position, so each batch runs from its own layer down over few positions.
            // Uninitialised: feature and logit rows are written whole (their first nCols entries) by
            // the workers, so first-touch page faults happen on both cores; the rest is zeroed here.
            adjacency = [Float](unsafeUninitializedCapacity: N * N) { A, count in
                for i in layout.errorRange.lowerBound..<layout.logitRange.lowerBound { (A.baseAddress! + i * N).initialize(repeating: 0, count: N) }
                for i in Array(layout.featureRange) + Array(layout.logitRange) {
                    (A.baseAddress! + i * N + nCols).initialize(repeating: 0, count: N - nCols)
                }
                count = N * N
            }
            adjacency.withUnsafeMutableBufferPointer { A in
                runner.run(batches((0..<nLogits).map { (.logit(rank: $0), layout.index(of: .logit(rank: $0))) }),
                           into: A.baseAddress!, stride: N)
                timings.logitRows = lap()
                let order = (0..<nActive).sorted {
                    let a = features.activeFeatures[$0], b = features.activeFeatures[$1]
                    return a.layer != b.layer ? a.layer > b.layer : $0 < $1
                }
                runner.run(batches(order.map { (.feature(features.activeFeatures[$0]), $0) }), into: A.baseAddress!, stride: N) {
                    progress?($0, nActive)
                }
            }
            selected = Array(0..<nActive)
        } else {
            // Influence-ordered selection (circuit-tracer's loop): rows over all nCols columns,
            // logit rows first, then features in the order computed; re-rank every
            // updateInterval batches by partial influence.
            var edge = [Float](repeating: 0, count: (maxFeatures + nLogits) * nCols)
            var rowNode = [Int](repeating: 0, count: maxFeatures + nLogits)   // feature index, or nCols + rank
            var st = 0
            edge.withUnsafeMutableBufferPointer { E in
                runner.run(batches((0..<nLogits).map { (.logit(rank: $0), $0) }), into: E.baseAddress!, stride: nCols)
            }
            for r in 0..<nLogits { rowNode[r] = nCols + r }
            st = nLogits
            timings.logitRows = lap()
            var visited = [Bool](repeating: false, count: nActive)
            var nVisited = 0
            while nVisited < maxFeatures {
                let influence = partialInfluences(edge: edge, rows: st, columns: nCols + nLogits, rowNode: rowNode,
                                                  logitProbabilities: logits.targets.map(\.probability))
                let rank = stableArgsortDescending(Array(influence[0..<nActive]))
                let queueSize = min(options.updateInterval * options.batchSize, maxFeatures - nVisited)
                let pending = Array(rank.lazy.filter { !visited[$0] }.prefix(queueSize))
                let base = st
                edge.withUnsafeMutableBufferPointer { E in
                    runner.run(batches(pending.enumerated().map { (.feature(features.activeFeatures[$1]), base + $0) }),
                               into: E.baseAddress!, stride: nCols) { progress?(nVisited + $0, maxFeatures) }
                }
                for (i, f) in pending.enumerated() { rowNode[base + i] = f; visited[f] = true }
                st += pending.count
                nVisited += pending.count
            }
            // Assemble A[N, N]: selected features ascending, errors, tokens, logits.
            selected = (0..<nActive).filter { visited[$0] }
            var column = [Int](repeating: -1, count: nCols)   // edge column → node index
            for (i, f) in selected.enumerated() { column[f] = i }
            for j in nActive..<nCols { column[j] = maxFeatures + (j - nActive) }
            adjacency = [Float](repeating: 0, count: N * N)
            adjacency.withUnsafeMutableBufferPointer { A in
                edge.withUnsafeBufferPointer { E in
                    for r in 0..<st {
                        let node = rowNode[r] >= nCols ? layout.index(of: .logit(rank: rowNode[r] - nCols)) : column[rowNode[r]]
                        let src = E.baseAddress! + r * nCols, dst = A.baseAddress! + node * N
                        for j in 0..<nCols where column[j] >= 0 { dst[column[j]] = src[j] }
                    }
                }
            }
        }
        timings.featureRows = lap()
        timings.backwardFlops = runner.flops
        for v in adjacency where !v.isFinite { throw TracerError.nonFinite("adjacency matrix") }
        return AttributionGraph(inputTokens: tokens, tokenStrings: tokens.map(tokenText), activeFeatures: features.activeFeatures,
                                activationValues: features.values, selectedFeatures: selected, logitTargets: logits.targets,
                                nLayers: c.nLayers, adjacency: adjacency)
    }
}

/// circuit-tracer's `compute_partial_influences`: power iteration of the logit weights through
/// the row-normalised |edge| rows computed so far (row sums clamped at 1e-8, at most 128 steps).
///
/// - Parameters:
///   - edge: `[rows, nCols]` computed rows (only the first `rows` are read).
///   - columns: `nCols + nLogits`: the influence vector covers every node incl. logits.
///   - rowNode: node (column) index of each row: feature index, or `nCols + rank` for logits.
/// - Returns: influence per column. `[columns]`
func partialInfluences(edge: [Float], rows: Int, columns: Int, rowNode: [Int], logitProbabilities: [Float]) -> [Float] {
    let nCols = columns - logitProbabilities.count
    var normalized = [Float](repeating: 0, count: rows * nCols)
    for r in 0..<rows {
        var sum: Float = 0
        for j in 0..<nCols { let v = abs(edge[r * nCols + j]); normalized[r * nCols + j] = v; sum += v }
        let inv = 1 / max(sum, 1e-8)
        for j in 0..<nCols { normalized[r * nCols + j] *= inv }
    }
    var prod = [Float](repeating: 0, count: columns)
    for (k, p) in logitProbabilities.enumerated() { prod[nCols + k] = p }
    var influence = [Float](repeating: 0, count: columns)
    var gathered = [Float](repeating: 0, count: rows)
    for _ in 0..<128 {
        for r in 0..<rows { gathered[r] = prod[rowNode[r]] }
        // prod[nCols] = gathered[rows] · normalized[rows, nCols]; logit columns stay 0.
        prod = [Float](repeating: 0, count: columns)
        gemv(&prod, normalized, lda: nCols, trans: true, gathered, m: rows, n: nCols)
        if !prod.contains(where: { $0 != 0 }) { break }
        for j in 0..<columns { influence[j] += prod[j] }
    }
    return influence
}

/// Indices sorting `values` descending, ties by ascending index.
func stableArgsortDescending(_ values: [Float]) -> [Int] {
    values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
}
