import Foundation

/// `/api/graph/{id}`: a graph window as JSON. Edges are `[source, target, weight]` triples over
/// the indices of `nodes`.
public struct GraphAnswer: Encodable, Sendable {
    public struct NodeJSON: Encodable, Sendable {
        public var key: String, kind: ServedGraph.Kind
        public var layer: Int, pos: Int, feature: Int
        public var activation: Float, influence: Float
        init(_ n: ServedGraph.Node) {
            key = n.key; kind = n.kind; layer = n.layer; pos = n.pos; feature = n.feature
            activation = n.activation; influence = n.influence
        }
    }
    public struct EdgeJSON: Encodable, Sendable {
        public var edge: ServedGraph.Edge
        public func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(edge.source); try c.encode(edge.target); try c.encode(edge.weight)
        }
    }

    public var id: String, prompt: String
    public var tokens: [String], logit_tokens: [String]
    public var n_layers: Int
    public var replacement_score: Double?, completeness_score: Double?
    /// The thresholds of this view (nil: the run's stored pruning, thresholds not recorded).
    public var node_threshold: Double?, edge_threshold: Double?
    /// "both": re-pruned from the unpruned graph (a `graph.h5`, or a corpus run that keeps full
    /// graphs); "tighten": from the stored pruned graph (other corpus runs).
    public var repruning: String
    /// Where the unpruned graph is read from: "graph.h5", "shard" (`pruning.keep_full_graphs`),
    /// or nil when only the pruned graph is stored.
    public var unpruned_source: String?
    public var total_nodes: Int, total_edges: Int, truncated: Bool
    public var nodes: [NodeJSON]
    public var edges: [EdgeJSON]

    public init(_ g: ServedGraph, window w: GraphWindow) {
        id = g.id; prompt = g.prompt; tokens = g.tokens; logit_tokens = g.logitTokens; n_layers = g.nLayers
        replacement_score = PromptSummary.finite(g.replacementScore)
        completeness_score = PromptSummary.finite(g.completenessScore)
        node_threshold = g.nodeThreshold; edge_threshold = g.edgeThreshold
        repruning = g.repruneBothWays ? "both" : "tighten"
        unpruned_source = g.unprunedSource
        total_nodes = w.totalNodes; total_edges = w.totalEdges; truncated = w.truncated
        nodes = w.nodes.map(NodeJSON.init)
        edges = w.edges.map { EdgeJSON(edge: $0) }
    }
}

/// `/api/graph/{id}/nodes` and `/edges`: one page of a graph view, in stored order.
public struct GraphPage<Item: Encodable & Sendable>: Encodable, Sendable {
    public var id: String
    public var total: Int, offset: Int
    public var items: [Item]
}
