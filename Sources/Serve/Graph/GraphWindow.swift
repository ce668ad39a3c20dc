import Foundation

/// What the viewer sends of a graph: never more than a budget of nodes and edges, so that a
/// 4,096-token graph (60k nodes) stays usable. The strongest nodes by |influence| are kept
/// (logits always), then the strongest edges by |weight| among them; the rest is paged
/// (`page(nodesFrom:edgesFrom:limit:)`).
public struct GraphWindow: Sendable {
    /// Default and largest node budgets of one graph answer.
    public static let defaultMaxNodes = 3_000, maxMaxNodes = 20_000
    /// Default and largest edge budgets of one graph answer.
    public static let defaultMaxEdges = 30_000, maxMaxEdges = 200_000
    /// Largest page of `/nodes` and `/edges`.
    public static let maxPage = 5_000

    public var nodes: [ServedGraph.Node]
    public var edges: [ServedGraph.Edge]
    /// Node and edge counts of the graph before the budget.
    public var totalNodes: Int, totalEdges: Int
    public var truncated: Bool { nodes.count < totalNodes || edges.count < totalEdges }

    /// `graph` cut to `maxNodes` nodes and `maxEdges` edges; edge endpoints renumbered to the
    /// kept nodes, which stay in stored order.
    public init(_ graph: ServedGraph, maxNodes: Int, maxEdges: Int) {
        totalNodes = graph.nodes.count
        totalEdges = graph.edges.count
        guard graph.nodes.count > maxNodes || graph.edges.count > maxEdges else {
            nodes = graph.nodes
            edges = graph.edges
            return
        }
        var keep = [Bool](repeating: graph.nodes.count <= maxNodes, count: graph.nodes.count)
        if graph.nodes.count > maxNodes {
            let ranked = graph.nodes.indices.sorted {
                let a = graph.nodes[$0], b = graph.nodes[$1]
                return (a.kind == .logit ? 1 : 0, abs(a.influence)) > (b.kind == .logit ? 1 : 0, abs(b.influence))
            }
            for i in ranked.prefix(maxNodes) { keep[i] = true }
        }
        var index = [Int32](repeating: -1, count: graph.nodes.count)
        nodes = []
        for (i, k) in keep.enumerated() where k { index[i] = Int32(nodes.count); nodes.append(graph.nodes[i]) }
        var inside = graph.edges.filter { index[Int($0.source)] >= 0 && index[Int($0.target)] >= 0 }
        if inside.count > maxEdges {
            inside.sort { abs($0.weight) > abs($1.weight) }
            inside.removeSubrange(maxEdges...)
        }
        edges = inside.map { .init(source: index[Int($0.source)], target: index[Int($0.target)], weight: $0.weight) }
    }
}
