/// How long the paths are that carry the prompt's tokens to its logits: the share of the
/// embedding → logit influence carried by paths of each length, from powers of the normalised
/// adjacency (the pruning's `B`), weighted as the pruning weighs the logits (by probability).
///
/// Share `k` = `Σ_{t ∈ tokens} (w·Bᵏ)[t] / Σ_k Σ_{t ∈ tokens} (w·Bᵏ)[t]`; a path of length 1 is
/// a direct token → logit edge, length 2 goes through one feature or error node, and so on.
/// Computed on the whole graph (every attributed feature), not the pruned one.
public struct PathLengths: Sendable, Equatable {
    /// `shares[k − 1]`: the share of paths of length `k`. Sums to 1 (empty: no token reaches a logit).
    public var shares: [Double]

    /// `Σ k · share_k` (0 when `shares` is empty).
    public var mean: Double { shares.enumerated().reduce(0) { $0 + Double($1.offset + 1) * $1.element } }

    public init(shares: [Double]) { self.shares = shares }

    public init(_ graph: AttributionGraph) {
        let tokens = graph.layout.tokenRange
        var reached: [Double] = []
        forEachNeumannTerm(graph.adjacency, start: logitWeights(graph)) { _, term in
            reached.append(tokens.reduce(0.0) { $0 + Double(term[$1]) })
        }
        let total = reached.reduce(0, +)
        // Drop trailing lengths no token path has (terms that only reached feature or error nodes).
        while let last = reached.last, last == 0 { reached.removeLast() }
        shares = total > 0 ? reached.map { $0 / total } : []
    }
}
