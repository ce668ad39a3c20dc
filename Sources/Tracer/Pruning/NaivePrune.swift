/// The direct transcription of circuit-tracer's `prune_graph` on dense matrices (power-iteration
/// influence, full sort for thresholds): the oracle `analyze` is tested against, and its
/// fallback for graphs that are not layer-ordered. O(N² · path length) time, several N×N copies.
///
/// circuit-tracer's `prune_graph`: keep the nodes carrying `nodeThreshold` of the total
/// influence (tokens and logits always), then the edges carrying `edgeThreshold` of the edge
/// influence, then repeatedly drop feature/error nodes without a kept outgoing edge and feature
/// nodes without a kept incoming edge.
func naivePrune(_ graph: AttributionGraph, nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                  edgeThreshold: Double = GraphConstants.defaultEdgeThreshold) throws -> PruneResult {
    guard (0...1).contains(nodeThreshold) else { throw TracerError.invalidArgument("node threshold must be between 0 and 1 (got \(nodeThreshold))") }
    guard (0...1).contains(edgeThreshold) else { throw TracerError.invalidArgument("edge threshold must be between 0 and 1 (got \(edgeThreshold))") }
    let layout = graph.layout, n = layout.count
    let w = logitWeights(graph)
    let dense = graph.adjacency.dense()
    let nodeInfluence = try influence(normalized: normalizedAdjacency(dense, n: n), n: n, weights: w)

    var nodeMask = [Bool](repeating: false, count: n)
    let nodeCut = cumulativeThreshold(nodeInfluence, nodeThreshold)
    for i in 0..<n { nodeMask[i] = nodeInfluence[i] >= nodeCut }
    for i in layout.tokenRange.lowerBound..<n { nodeMask[i] = true }

    // Edge scores on the node-pruned matrix: B'[i, j] · (influence'[i] + w[i]).
    var pruned = dense
    for i in 0..<n where !nodeMask[i] {
        for j in 0..<n { pruned[i * n + j] = 0; pruned[j * n + i] = 0 }
    }
    var scores = normalizedAdjacency(pruned, n: n)
    var rowWeight = try influence(normalized: scores, n: n, weights: w)
    for i in 0..<n { rowWeight[i] += w[i] }
    for i in 0..<n { let s = rowWeight[i]; for j in 0..<n { scores[i * n + j] *= s } }
    let edgeCut = cumulativeThreshold(scores, edgeThreshold)
    var edgeMask = scores.map { $0 >= edgeCut }

    // Clean-up: features and errors need a kept outgoing edge, features a kept incoming edge.
    let sourcesEnd = layout.tokenRange.lowerBound    // features + errors
    func tighten() {
        for j in 0..<sourcesEnd where nodeMask[j] {
            var out = false
            for i in 0..<n where edgeMask[i * n + j] { out = true; break }
            if !out { nodeMask[j] = false }
        }
        for i in layout.featureRange where nodeMask[i] {
            if !edgeMask[(i * n)..<(i * n + n)].contains(true) { nodeMask[i] = false }
        }
    }
    var previous = nodeMask
    tighten()
    while nodeMask != previous {
        previous = nodeMask
        for i in 0..<n where !nodeMask[i] {
            for j in 0..<n { edgeMask[i * n + j] = false; edgeMask[j * n + i] = false }
        }
        tighten()
    }

    // cumulative_scores[j]: the cumulative share of sorted node influence at node j.
    let order = nodeInfluence.indices.sorted { nodeInfluence[$0] != nodeInfluence[$1] ? nodeInfluence[$0] > nodeInfluence[$1] : $0 < $1 }
    let total = nodeInfluence.reduce(0.0) { $0 + Double($1) }
    var cumulative = [Float](repeating: 0, count: n)
    var running = 0.0
    for j in order { running += Double(nodeInfluence[j]); cumulative[j] = Float(running / total) }
    // Error and token rows score 0: kept only when the edge cut is 0 (then every entry is).
    return PruneResult(nodeMask: nodeMask, edgeMask: try EdgeMask(dense: edgeMask, layout: layout, fill: 0 >= edgeCut), cumulativeScores: cumulative, nodeInfluence: nodeInfluence)
}
