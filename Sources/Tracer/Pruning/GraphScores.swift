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

    /// circuit-tracer's `compute_graph_scores` on the unpruned graph.
    public init(_ graph: AttributionGraph) throws {
        let layout = graph.layout, n = layout.count
        let w = logitWeights(graph)
        let b = normalizedAdjacency(graph.adjacency, n: n)
        let infl = try influence(normalized: b, n: n, weights: w)
        let token = layout.tokenRange.reduce(0.0) { $0 + Double(infl[$1]) }
        let error = layout.errorRange.reduce(0.0) { $0 + Double(infl[$1]) }
        replacement = token / (token + error)
        var num = 0.0, den = 0.0
        for i in 0..<n {
            var errorShare = 0.0
            for j in layout.errorRange { errorShare += Double(b[i * n + j]) }
            let out = Double(infl[i]) + Double(w[i])
            num += (1 - errorShare) * out
            den += out
        }
        completeness = num / den
    }
}
