import Foundation
import Storage
import Testing
@testable import Serve

/// A stored pruned graph of `nPos` tokens on `nLayers` layers: per layer and position `perCell`
/// features, each fed by every node one layer below at the same position and by the token,
/// and two logits fed by the top layer.
func layeredGraph(nLayers: Int = 3, nPos: Int = 4, perCell: Int = 2) -> ServedGraph {
    var nodes: [ServedGraph.Node] = [], edges: [ServedGraph.Edge] = []
    for p in 0..<nPos { nodes.append(.init(kind: .token, layer: -1, pos: p, feature: 100 + p, activation: 0, influence: 0.1)) }
    var below = (0..<nPos).map { [$0] }
    for l in 0..<nLayers {
        var here = [[Int]](repeating: [], count: nPos)
        for p in 0..<nPos {
            for k in 0..<perCell {
                let i = nodes.count
                nodes.append(.init(kind: .feature, layer: l, pos: p, feature: 10 * k + p, activation: Float(1 + k), influence: Float(k + 1) / Float(l + 2)))
                for s in below[p] { edges.append(.init(source: Int32(s), target: Int32(i), weight: Float(k + 1) * (s % 3 == 0 ? -0.5 : 1))) }
                edges.append(.init(source: Int32(p), target: Int32(i), weight: 0.05))
                here[p].append(i)
            }
        }
        below = here
    }
    for r in 0..<2 {
        let i = nodes.count
        nodes.append(.init(kind: .logit, layer: nLayers, pos: nPos - 1, feature: 7 + r, activation: 0.5 / Float(r + 1), influence: 0))
        for p in 0..<nPos { for s in below[p] { edges.append(.init(source: Int32(s), target: Int32(i), weight: Float(p + 1))) } }
    }
    return ServedGraph(id: "g", prompt: "a b c", nLayers: nLayers, tokens: (0..<nPos).map { "t\($0)" }, logitTokens: ["x", "y"],
                       replacementScore: 0.5, completenessScore: 0.9, nodes: nodes, edges: edges, full: nil)
}

struct ServedGraphTests {
    @Test func keysAreStable() {
        let g = layeredGraph()
        #expect(Set(g.nodes.map(\.key)).count == g.nodes.count)
        #expect(g.nodes[0].key == "T@0" && g.nodes.last?.key == "logit 8")
    }

    @Test func rePruningAStoredGraphOnlyTightens() throws {
        let g = layeredGraph()
        let all = try g.repruned(nodeThreshold: 1, edgeThreshold: 1)
        #expect(all.nodes.count <= g.nodes.count && all.nodes.count > 0)
        var last = all.nodes.count
        for t in [0.9, 0.6, 0.3] {
            let p = try g.repruned(nodeThreshold: t, edgeThreshold: t)
            #expect(p.nodes.count <= last, "threshold \(t)")
            #expect(p.edges.allSatisfy { Int($0.source) < p.nodes.count && Int($0.target) < p.nodes.count })
            // Every kept edge is a stored edge between the same nodes, with its weight.
            let stored = Set(g.edges.map { "\(g.nodes[Int($0.source)].key)>\(g.nodes[Int($0.target)].key)=\($0.weight)" })
            #expect(p.edges.allSatisfy { stored.contains("\(p.nodes[Int($0.source)].key)>\(p.nodes[Int($0.target)].key)=\($0.weight)") })
            last = p.nodes.count
        }
        #expect(last < all.nodes.count)
        #expect(throws: ServeError.self) { try g.repruned(nodeThreshold: 1.5, edgeThreshold: 1) }
    }

    /// A 4,096-token graph of 60k nodes is cut to the budget: logits kept, strongest first.
    @Test func largeGraphsAreWindowed() {
        let g = layeredGraph(nLayers: 4, nPos: 4096, perCell: 3)
        #expect(g.nodes.count > 50_000)
        let w = GraphWindow(g, maxNodes: GraphWindow.defaultMaxNodes, maxEdges: GraphWindow.defaultMaxEdges)
        #expect(w.nodes.count == GraphWindow.defaultMaxNodes && w.edges.count <= GraphWindow.defaultMaxEdges && w.truncated)
        #expect(w.nodes.filter { $0.kind == .logit }.count == 2)
        let weakestKept = w.nodes.filter { $0.kind != .logit }.map { abs($0.influence) }.min() ?? 0
        let keptKeys = Set(w.nodes.map(\.key))
        #expect(g.nodes.filter { !keptKeys.contains($0.key) }.allSatisfy { abs($0.influence) <= weakestKept })
        #expect(w.edges.allSatisfy { Int($0.source) < w.nodes.count && Int($0.target) < w.nodes.count })
        let small = GraphWindow(layeredGraph(), maxNodes: 1000, maxEdges: 1000)
        #expect(!small.truncated)
    }
}
