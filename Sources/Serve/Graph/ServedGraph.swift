import Foundation
import Storage
import Tracer

/// One prompt's graph as the viewer holds it: the pruned nodes and edges it shows, and, for a
/// `graph.h5` of `circuits trace`, the whole attribution graph it can be re-pruned from (for a
/// corpus run that keeps full graphs, where to read it: `fullSource`).
///
/// Node order is the stored order (the aggregate's rows, or circuit-tracer's node order for a
/// `graph.h5`); `key` names a node stably across re-prunings (`L2/F117@5`, `E1@3`, `T@0`,
/// `logit 42`), and supernodes refer to nodes by key.
public struct ServedGraph: Sendable {
    public enum Kind: String, Codable, Sendable { case feature, error, token, logit }

    public struct Node: Codable, Sendable, Equatable {
        public var kind: Kind
        /// Layer (tokens −1, logits `nLayers`), token position, and the feature index (tokens
        /// and logits: their token id; errors −1).
        public var layer: Int, pos: Int, feature: Int
        /// Feature activation; logits: probability; else 0.
        public var activation: Float
        /// Influence on the logits in the unpruned graph.
        public var influence: Float

        public var key: String {
            switch kind {
            case .feature: return "L\(layer)/F\(feature)@\(pos)"
            case .error: return "E\(layer)@\(pos)"
            case .token: return "T@\(pos)"
            case .logit: return "logit \(feature)"
            }
        }
    }

    public struct Edge: Sendable, Equatable {
        public var source: Int32, target: Int32
        /// `A[target, source]`: the direct effect of source on target.
        public var weight: Float
    }

    public var id: String
    public var prompt: String
    public var nLayers: Int
    public var tokens: [String]
    public var logitTokens: [String]
    public var replacementScore: Double, completenessScore: Double
    public var nodes: [Node]
    public var edges: [Edge]
    /// The unpruned graph (a `graph.h5`), or nil when only the pruned graph is stored (corpus runs).
    public var full: AttributionGraph?
    /// Thresholds the stored pruning used (nil when the run does not record them).
    public var nodeThreshold: Double?, edgeThreshold: Double?
    /// A corpus run's shard holding the unpruned graph (job option `pruning.keep_full_graphs`),
    /// read when the graph is re-pruned; nil when only the pruned graph is stored.
    public var fullSource: FullGraphSource? = nil

    /// Whether thresholds can loosen as well as tighten: the unpruned graph is at hand or stored.
    public var repruneBothWays: Bool { full != nil || fullSource != nil }

    /// Where the unpruned graph comes from: "graph.h5", "shard", or nil (only the pruned graph).
    public var unprunedSource: String? { full != nil ? "graph.h5" : fullSource != nil ? "shard" : nil }

    /// Feature nodes of `feature` (any position).
    public func nodes(of feature: FeatureID) -> [Int] {
        nodes.indices.filter { nodes[$0].kind == .feature && nodes[$0].layer == feature.layer && nodes[$0].feature == feature.feature }
    }
}

extension ServedGraph.Kind {
    init(_ t: ShardSchema.NodeType) {
        switch t {
        case .feature: self = .feature
        case .error: self = .error
        case .token: self = .token
        case .logit: self = .logit
        }
    }
}
