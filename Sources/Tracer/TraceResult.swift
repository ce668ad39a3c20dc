import Foundation

/// Everything one traced prompt produces.
public struct TraceResult: Sendable {
    public var graph: AttributionGraph
    public var pruning: PruneResult
    public var scores: GraphScores
    public var timings: PhaseTimings
    /// Node thresholds used for pruning.
    public var nodeThreshold: Double
    public var edgeThreshold: Double
    /// The attribution's forward pass, every intermediate, kept when asked
    /// (`TraceSession.trace(…, keepingForward: true)`) so that checking the graph by
    /// intervention (`ReplacementModel.evaluate`) starts from it instead of running the model
    /// again; nil otherwise (it is as large as the prompt's activations).
    public var forward: ForwardRecord? = nil

    /// Edges with a non-zero weight in the unpruned graph.
    public var edgeCount: Int { graph.adjacency.count { $0 != 0 } }
    public var prunedNodeCount: Int { pruning.nodeMask.reduce(0) { $1 ? $0 + 1 : $0 } }
    public var prunedEdgeCount: Int { pruning.edgeMask.count { $0 } }
}
