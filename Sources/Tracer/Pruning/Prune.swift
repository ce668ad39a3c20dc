/// circuit-tracer's `prune_graph` and `compute_graph_scores`, computed together from one pass
/// over the adjacency (no N×N copies): keep the nodes carrying `nodeThreshold` of the total
/// influence (tokens and logits always), then the edges carrying `edgeThreshold` of the edge
/// influence of the node-pruned graph, then repeatedly drop feature/error nodes without a kept
/// outgoing edge and feature nodes without a kept incoming edge.
///
/// Decisions are identical to circuit-tracer on the same adjacency (tested on every golden
/// case against `naivePrune`, the direct transcription kept as the oracle).
public func analyze(_ graph: AttributionGraph, nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                    edgeThreshold: Double = GraphConstants.defaultEdgeThreshold) throws -> (pruning: PruneResult, scores: GraphScores) {
    guard (0...1).contains(nodeThreshold) else { throw TracerError.invalidArgument("node threshold must be between 0 and 1 (got \(nodeThreshold))") }
    guard (0...1).contains(edgeThreshold) else { throw TracerError.invalidArgument("edge threshold must be between 0 and 1 (got \(edgeThreshold))") }
    let layout = graph.layout, n = layout.count
    let w = logitWeights(graph)
    let order = LayeredInfluence.rowOrder(graph)
    let full = LayeredInfluence(adjacency: graph.adjacency, weights: w, rowOrder: order, errorRange: layout.errorRange)
    guard let full else {
        // Not layered (a hand-made graph): the direct transcription handles any DAG.
        return (try naivePrune(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold), try naiveScores(graph))
    }
    let nodeInfluence = full.influence
    let scores = GraphScores(influence: nodeInfluence, errorShare: full.errorShare, weights: w, layout: layout)

    var nodeMask = [Bool](repeating: false, count: n)
    let nodeCut = cumulativeThreshold(nodeInfluence, nodeThreshold)
    for i in 0..<n { nodeMask[i] = nodeInfluence[i] >= nodeCut }
    for i in layout.tokenRange.lowerBound..<n { nodeMask[i] = true }
    let kept = (0..<n).filter { nodeMask[$0] }

    // Edge scores of the node-pruned graph, B'[i, j]·(influence'[i] + w[i]), non-zero only on
    // kept × kept, computed on the fly from A's stored rows (the only rows with inputs).
    let prunedOrder = order.filter { nodeMask[$0] }
    guard let pruned = LayeredInfluence(adjacency: graph.adjacency, weights: w, rowOrder: prunedOrder, kept: nodeMask,
                                        columns: kept, errorRange: layout.errorRange) else {
        throw TracerError.invalidArgument("pruned graph lost its layer order")
    }
    let adjacency = graph.adjacency
    let rows = kept.compactMap { i in adjacency.slot(ofRow: i).map { (node: i, slot: $0) } }
    var edgeMask = EdgeMask(layout: layout, fill: false)
    var everyEntryKept = false
    adjacency.storage.withUnsafeBufferPointer { A in
        func row(_ slot: Int) -> UnsafePointer<Float> { A.baseAddress! + slot * n }
        var rowFactor = [Float](repeating: 0, count: n)   // (influence' + w) / rowsum'
        for (i, slot) in rows {
            var s: Float = 0
            for j in kept { s += abs(row(slot)[j]) }
            rowFactor[i] = (pruned.influence[i] + w[i]) / max(s, GraphConstants.rowSumFloor)
        }
        // score = |A[i, j]|·rowFactor[i] equals normalize(pruned)·(influence' + w) entry by entry.
        func forEachScore(_ body: (Float) -> Void) {
            for (i, slot) in rows where rowFactor[i] != 0 {
                let f = rowFactor[i], a = row(slot)
                for j in kept { let v = abs(a[j]) * f; if v != 0 { body(v) } }
            }
        }
        var nonzero = 0
        forEachScore { _ in nonzero += 1 }
        let cut = cumulativeThreshold(forEach: forEachScore, zeros: n * n - nonzero, threshold: edgeThreshold)
        if cut == 0 {
            // Every entry, zeros included, reaches a zero threshold.
            edgeMask = EdgeMask(layout: layout, fill: true)
            everyEntryKept = true
        } else {
            edgeMask.storage.withUnsafeMutableBufferPointer { E in
                for (i, slot) in rows where rowFactor[i] != 0 {
                    let a = row(slot), e = E.baseAddress! + slot * n
                    for j in kept where abs(a[j]) * rowFactor[i] >= cut { e[j] = true }
                }
            }
        }
    }
    // With every entry kept, every node has kept edges both ways and the clean-up changes
    // nothing. Otherwise no edge outside kept × kept survived: those nodes start cleared.
    if !everyEntryKept { cleanUp(nodeMask: &nodeMask, edgeMask: &edgeMask, layout: layout, cleared: nodeMask.map { !$0 }) }

    // cumulative_scores[j]: the cumulative share of sorted node influence at node j.
    let sorted = nodeInfluence.indices.sorted { nodeInfluence[$0] != nodeInfluence[$1] ? nodeInfluence[$0] > nodeInfluence[$1] : $0 < $1 }
    let total = nodeInfluence.reduce(0.0) { $0 + Double($1) }
    var cumulative = [Float](repeating: 0, count: n)
    var running = 0.0
    for j in sorted { running += Double(nodeInfluence[j]); cumulative[j] = Float(running / total) }
    return (PruneResult(nodeMask: nodeMask, edgeMask: edgeMask, cumulativeScores: cumulative, nodeInfluence: nodeInfluence), scores)
}

/// The pruning part of `analyze`.
public func prune(_ graph: AttributionGraph, nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                  edgeThreshold: Double = GraphConstants.defaultEdgeThreshold) throws -> PruneResult {
    try analyze(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold).pruning
}

/// The connectivity clean-up of `prune_graph`: features and errors need a kept outgoing edge,
/// features a kept incoming edge; edges of dropped nodes go; repeat until stable. Works on the
/// nodes still kept (edges elsewhere are already false) and on an edge mask whose unstored rows
/// are false.
func cleanUp(nodeMask: inout [Bool], edgeMask: inout EdgeMask, layout: NodeLayout, cleared: [Bool]) {
    precondition(!edgeMask.fill, "clean-up of an edge mask whose error and token rows are kept")
    let n = layout.count, sourcesEnd = layout.tokenRange.lowerBound
    let stored = EdgeMask.storedNodes(layout)   // row slot s holds node stored[s]
    var cleared = cleared
    var first = true
    edgeMask.storage.withUnsafeMutableBufferPointer { E in
        while true {
            // Edges of dropped nodes go (circuit-tracer does this from the second round on).
            if !first {
                let dropped = (0..<n).filter { !nodeMask[$0] && !cleared[$0] }
                for k in dropped { cleared[k] = true }
                for (s, i) in stored.enumerated() {
                    let row = E.baseAddress! + s * n
                    if !nodeMask[i] { row.update(repeating: false, count: n) } else { for k in dropped { row[k] = false } }
                }
            }
            let live = (0..<n).filter { nodeMask[$0] || !cleared[$0] }
            var isLive = [Bool](repeating: false, count: n)
            for i in live { isLive[i] = true }
            var hasOut = [Bool](repeating: false, count: n), hasIn = [Bool](repeating: false, count: n)
            for (s, i) in stored.enumerated() where isLive[i] {
                let row = E.baseAddress! + s * n
                for j in live where row[j] { hasOut[j] = true; hasIn[i] = true }
            }
            var changed = false
            for j in 0..<sourcesEnd where nodeMask[j] && !hasOut[j] { nodeMask[j] = false; changed = true }
            for i in layout.featureRange where nodeMask[i] && !hasIn[i] { nodeMask[i] = false; changed = true }
            if !changed { return }
            first = false
        }
    }
}
