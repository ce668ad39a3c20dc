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
    let full = graph.adjacency.withUnsafeBufferPointer {
        LayeredInfluence(adjacency: $0.baseAddress!, n: n, weights: w, rowOrder: order, errorRange: layout.errorRange)
    }
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
    // kept × kept, computed on the fly from A.
    let prunedOrder = order.filter { nodeMask[$0] }
    var edgeMask = [Bool](repeating: false, count: n * n)
    var everyEntryKept = false
    try graph.adjacency.withUnsafeBufferPointer { A in
        let a = A.baseAddress!
        guard let pruned = LayeredInfluence(adjacency: a, n: n, weights: w, rowOrder: prunedOrder, kept: nodeMask,
                                            columns: kept, errorRange: layout.errorRange) else {
            throw TracerError.invalidArgument("pruned graph lost its layer order")
        }
        var rowFactor = [Float](repeating: 0, count: n)   // (influence' + w) / rowsum'
        for i in kept {
            var s: Float = 0
            for j in kept { s += abs(a[i * n + j]) }
            rowFactor[i] = (pruned.influence[i] + w[i]) / max(s, GraphConstants.rowSumFloor)
        }
        // score = |A[i, j]|·rowFactor[i] equals normalize(pruned)·(influence' + w) entry by entry.
        func forEachScore(_ body: (Float) -> Void) {
            for i in kept where rowFactor[i] != 0 {
                let f = rowFactor[i]
                for j in kept { let v = abs(a[i * n + j]) * f; if v != 0 { body(v) } }
            }
        }
        var nonzero = 0
        forEachScore { _ in nonzero += 1 }
        let cut = cumulativeThreshold(forEach: forEachScore, zeros: n * n - nonzero, threshold: edgeThreshold)
        if cut == 0 {
            // Every entry, zeros included, reaches a zero threshold.
            for k in 0..<(n * n) { edgeMask[k] = true }
            everyEntryKept = true
        } else {
            for i in kept where rowFactor[i] != 0 {
                for j in kept where abs(a[i * n + j]) * rowFactor[i] >= cut { edgeMask[i * n + j] = true }
            }
        }
    }
    // With a positive edge threshold no edge outside kept × kept survived: those nodes start cleared.
    cleanUp(nodeMask: &nodeMask, edgeMask: &edgeMask, layout: layout,
            cleared: everyEntryKept ? [Bool](repeating: false, count: n) : nodeMask.map { !$0 })

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
/// nodes still kept (edges elsewhere are already false unless the edge threshold was 0).
func cleanUp(nodeMask: inout [Bool], edgeMask: inout [Bool], layout: NodeLayout, cleared: [Bool]) {
    let n = layout.count, sourcesEnd = layout.tokenRange.lowerBound
    var cleared = cleared
    var first = true
    while true {
        // Edges of dropped nodes go (circuit-tracer does this from the second round on).
        if !first {
            for k in 0..<n where !nodeMask[k] && !cleared[k] {
                cleared[k] = true
                for j in 0..<n { edgeMask[k * n + j] = false; edgeMask[j * n + k] = false }
            }
        }
        let live = (0..<n).filter { nodeMask[$0] || !cleared[$0] }
        var hasOut = [Bool](repeating: false, count: n), hasIn = [Bool](repeating: false, count: n)
        for i in live { for j in live where edgeMask[i * n + j] { hasOut[j] = true; hasIn[i] = true } }
        var changed = false
        for j in 0..<sourcesEnd where nodeMask[j] && !hasOut[j] { nodeMask[j] = false; changed = true }
        for i in layout.featureRange where nodeMask[i] && !hasIn[i] { nodeMask[i] = false; changed = true }
        if !changed { return }
        first = false
    }
}
