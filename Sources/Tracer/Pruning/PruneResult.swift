/// The outcome of `prune(_:nodeThreshold:edgeThreshold:)`: circuit-tracer's `PruneResult`
/// plus the node influence it was computed from.
public struct PruneResult: Sendable {
    /// Kept nodes. `[N]`
    public var nodeMask: [Bool]
    /// Kept edges, `[target, source]`.
    public var edgeMask: EdgeMask
    /// Cumulative share of the sorted node influence at each node. `[N]`
    public var cumulativeScores: [Float]
    /// Node influence on the logits, `w·(B + B² + …)`. `[N]`
    public var nodeInfluence: [Float]

    public init(nodeMask: [Bool], edgeMask: EdgeMask, cumulativeScores: [Float], nodeInfluence: [Float]) {
        self.nodeMask = nodeMask
        self.edgeMask = edgeMask
        self.cumulativeScores = cumulativeScores
        self.nodeInfluence = nodeInfluence
    }
}
