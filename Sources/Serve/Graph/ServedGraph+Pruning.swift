import Foundation
import Storage
import Tracer
import Coordinator

/// Building served graphs from what is stored, and re-pruning them at other thresholds.
///
/// Both ways go through Tracer's `analyze` (circuit-tracer's `prune_graph`):
/// - a `graph.h5` holds the unpruned adjacency, so thresholds move both ways;
/// - so does a corpus run whose job keeps full graphs (`pruning.keep_full_graphs`): the unpruned
///   graph is read from the prompt's shard (`FullGraphSource`) and pruned exactly as a `graph.h5`;
/// - otherwise a corpus run stores pruned graphs only: the stored graph is rebuilt as an
///   attribution graph (its feature and logit nodes, every error and token node, its edges) and
///   pruned again, so thresholds there only tighten; 1 and 1 show everything stored.
extension ServedGraph {
    /// Entries above which a stored graph is not rebuilt for re-pruning (rows × N floats).
    public static let maxRepruneEntries = 64 << 20

    /// A prompt's stored graph of a merged run.
    public init(aggregate g: Aggregate.Graph, prompt: Aggregate.Prompt, nLayers: Int) {
        id = prompt.id
        self.prompt = prompt.prompt
        self.nLayers = nLayers
        tokens = g.tokens
        logitTokens = g.logitTokens
        replacementScore = prompt.replacement
        completenessScore = prompt.completeness
        nodes = g.nodes.indices.map {
            let n = g.nodes[$0]
            return Node(kind: Kind(n.type), layer: n.layer, pos: n.pos, feature: n.feature, activation: g.activation[$0], influence: g.influence[$0])
        }
        edges = g.edges.map { Edge(source: Int32($0.source), target: Int32($0.target), weight: $0.weight) }
        full = nil
    }

    /// A `graph.h5` of `circuits trace`: the graph as its stored pruning keeps it.
    public init(trace: TraceResult, prompt: String, id: String) {
        self.id = id
        self.prompt = prompt
        nLayers = trace.graph.nLayers
        tokens = trace.graph.tokenStrings
        logitTokens = trace.graph.logitTargets.map(\.token)
        replacementScore = trace.scores.replacement
        completenessScore = trace.scores.completeness
        full = trace.graph
        nodeThreshold = trace.nodeThreshold
        edgeThreshold = trace.edgeThreshold
        nodes = []
        edges = []
        let all = Self.nodeRecords(trace.graph, influence: trace.pruning.nodeInfluence)
        (nodes, edges) = Self.select(trace.graph.adjacency, all: all, nodeMask: trace.pruning.nodeMask, edgeMask: trace.pruning.edgeMask)
    }

    /// This graph pruned at `nodeThreshold` / `edgeThreshold` (fractions of influence kept,
    /// circuit-tracer's meaning): from the unpruned graph when there is one (held, or read from
    /// the run's shard), else from the stored pruned graph.
    ///
    /// - Throws: `ServeError` when a threshold is outside [0, 1], the graph is too large to
    ///   rebuild (`maxRepruneEntries`), or its shard cannot be read.
    public func repruned(nodeThreshold: Double, edgeThreshold: Double) throws -> ServedGraph {
        for (name, t) in [("node_threshold", nodeThreshold), ("edge_threshold", edgeThreshold)] where !(0...1).contains(t) {
            throw ServeError.badRequest("\(name) must be a number between 0 and 1 (got \(t))")
        }
        var out = self
        out.nodeThreshold = nodeThreshold
        out.edgeThreshold = edgeThreshold
        if let full = try full ?? fullSource?.load() {
            let p = try prune(full, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
            let all = Self.nodeRecords(full, influence: p.nodeInfluence)
            (out.nodes, out.edges) = Self.select(full.adjacency, all: all, nodeMask: p.nodeMask, edgeMask: p.edgeMask)
            return out
        }
        let (graph, back) = try rebuilt()
        let p = try prune(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
        // Keep the stored records (influence on the unpruned graph) of the nodes pruning keeps.
        var newIndex = [Int32](repeating: -1, count: nodes.count)
        out.nodes = []
        for (i, keep) in p.nodeMask.enumerated() where keep && back[i] >= 0 {
            newIndex[back[i]] = Int32(out.nodes.count)
            out.nodes.append(nodes[back[i]])
        }
        var position = [Int](repeating: -1, count: nodes.count)   // stored index → rebuilt index
        for (i, s) in back.enumerated() where s >= 0 { position[s] = i }
        out.edges = edges.compactMap { e in
            let s = newIndex[Int(e.source)], t = newIndex[Int(e.target)]
            guard s >= 0, t >= 0, p.edgeMask[position[Int(e.target)], position[Int(e.source)]] else { return nil }
            return Edge(source: s, target: t, weight: e.weight)
        }
        return out
    }

    /// The stored pruned graph as an attribution graph: its feature nodes (sorted), every error
    /// and token node, its logit nodes; `back[i]` is the stored row of rebuilt node i (−1 for
    /// error and token nodes the stored graph does not hold).
    func rebuilt() throws -> (graph: AttributionGraph, back: [Int]) {
        let nPos = tokens.count
        let features = nodes.indices.filter { nodes[$0].kind == .feature }.sorted {
            (nodes[$0].layer, nodes[$0].pos, nodes[$0].feature) < (nodes[$1].layer, nodes[$1].pos, nodes[$1].feature)
        }
        let logits = nodes.indices.filter { nodes[$0].kind == .logit }
        let layout = NodeLayout(nFeatures: features.count, nLayers: nLayers, nPos: nPos, nLogits: logits.count)
        let n = layout.count
        guard (features.count + logits.count) * n <= Self.maxRepruneEntries else {
            throw ServeError.tooLarge("graph '\(id)' has \(nodes.count) stored nodes; re-pruning rebuilds a [\(features.count + logits.count), \(n)] matrix, over the viewer's limit of \(Self.maxRepruneEntries) entries; view it at its stored thresholds")
        }
        var back = [Int](repeating: -1, count: n)
        var position = [Int](repeating: -1, count: nodes.count)
        for (k, s) in features.enumerated() { back[k] = s }
        for (r, s) in logits.enumerated() { back[layout.logitRange.lowerBound + r] = s }
        for (s, node) in nodes.enumerated() {
            switch node.kind {
            case .error where (0..<nLayers).contains(node.layer) && (0..<nPos).contains(node.pos):
                back[layout.index(of: .error(layer: node.layer, pos: node.pos))] = s
            case .token where (0..<nPos).contains(node.pos):
                back[layout.index(of: .token(pos: node.pos))] = s
            default: break
            }
        }
        for (i, s) in back.enumerated() where s >= 0 { position[s] = i }
        var adjacency = Adjacency(layout: layout)
        for e in edges {
            let t = position[Int(e.target)], s = position[Int(e.source)]
            guard t >= 0, s >= 0, let slot = adjacency.slot(ofRow: t) else { continue }
            adjacency.storage[slot * n + s] = e.weight
        }
        let active = features.map { ActiveFeature(layer: nodes[$0].layer, pos: nodes[$0].pos, index: nodes[$0].feature) }
        let graph = AttributionGraph(
            inputTokens: (0..<nPos).map { p in nodes.first { $0.kind == .token && $0.pos == p }?.feature ?? 0 },
            tokenStrings: tokens, activeFeatures: active, activationValues: features.map { nodes[$0].activation },
            selectedFeatures: Array(active.indices),
            logitTargets: logits.map { LogitTarget(tokenId: nodes[$0].feature, token: "", probability: nodes[$0].activation) },
            nLayers: nLayers, adjacency: adjacency)
        return (graph, back)
    }

    /// A record for every node of `graph`, in circuit-tracer's node order.
    static func nodeRecords(_ graph: AttributionGraph, influence: [Float]) -> [Node] {
        let layout = graph.layout
        return (0..<layout.count).map { i in
            switch layout.node(at: i) {
            case let .feature(selected):
                let f = graph.feature(selected: selected)
                return Node(kind: .feature, layer: f.layer, pos: f.pos, feature: f.index, activation: graph.activation(selected: selected), influence: influence[i])
            case let .error(layer, pos):
                return Node(kind: .error, layer: layer, pos: pos, feature: -1, activation: 0, influence: influence[i])
            case let .token(pos):
                return Node(kind: .token, layer: -1, pos: pos, feature: graph.inputTokens[pos], activation: 0, influence: influence[i])
            case let .logit(rank):
                let t = graph.logitTargets[rank]
                return Node(kind: .logit, layer: graph.nLayers, pos: layout.nPos - 1, feature: t.tokenId, activation: t.probability, influence: influence[i])
            }
        }
    }

    /// The nodes of `nodeMask` and the non-zero edges of `edgeMask` between them.
    static func select(_ adjacency: Adjacency, all: [Node], nodeMask: [Bool], edgeMask: EdgeMask) -> ([Node], [Edge]) {
        var index = [Int32](repeating: -1, count: all.count)
        var kept: [Node] = []
        for (i, keep) in nodeMask.enumerated() where keep { index[i] = Int32(kept.count); kept.append(all[i]) }
        var edges: [Edge] = []
        let n = all.count
        for t in TargetRows<Float>.storedNodes(adjacency.layout) where index[t] >= 0 {
            adjacency.withRow(t) { row in
                for s in 0..<n where index[s] >= 0 && row[s] != 0 && edgeMask[t, s] {
                    edges.append(Edge(source: index[s], target: index[t], weight: row[s]))
                }
            }
        }
        return (kept, edges)
    }
}
