/// How much of the model's computation a graph explains through features rather than errors.
public struct GraphScores: Sendable, Equatable, Codable {
    /// Token influence over token + error influence: end-to-end influence that avoids error nodes.
    public var replacement: Double
    /// Influence-weighted share of each node's normalised inputs that are not error nodes.
    public var completeness: Double

    public init(replacement: Double, completeness: Double) {
        self.replacement = replacement
        self.completeness = completeness
    }

    /// circuit-tracer's `compute_graph_scores` on the unpruned graph (one pass; see `analyze`).
    public init(_ graph: AttributionGraph) throws {
        let layout = graph.layout
        let w = logitWeights(graph)
        let pass = LayeredInfluence(adjacency: graph.adjacency, weights: w, rowOrder: LayeredInfluence.rowOrder(graph),
                                    errorRange: layout.errorRange)
        guard let pass else { self = try naiveScores(graph); return }
        self.init(influence: pass.influence, errorShare: pass.errorShare, weights: w, layout: layout)
    }

    /// The scores from node influence and each row's normalised error share.
    init(influence infl: [Float], errorShare: [Float], weights w: [Float], layout: NodeLayout) {
        let token = layout.tokenRange.reduce(0.0) { $0 + Double(infl[$1]) }
        let error = layout.errorRange.reduce(0.0) { $0 + Double(infl[$1]) }
        replacement = token / (token + error)
        var num = 0.0, den = 0.0
        for i in 0..<layout.count {
            let out = Double(infl[i]) + Double(w[i])
            num += (1 - Double(errorShare[i])) * out
            den += out
        }
        completeness = num / den
    }
}

/// The direct transcription of `compute_graph_scores` on dense matrices: the oracle for
/// `GraphScores.init(_:)` and its fallback for graphs that are not layer-ordered.
func naiveScores(_ graph: AttributionGraph) throws -> GraphScores {
    let layout = graph.layout, n = layout.count
    let w = logitWeights(graph)
    let b = normalizedAdjacency(graph.adjacency.dense(), n: n)
    let infl = try influence(normalized: b, n: n, weights: w)
    var errorShare = [Float](repeating: 0, count: n)
    for i in 0..<n { for j in layout.errorRange { errorShare[i] += b[i * n + j] } }
    return GraphScores(influence: infl, errorShare: errorShare, weights: w, layout: layout)
}
