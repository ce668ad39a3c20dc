import Foundation
import Storage

/// The JSON API (docs/serve-api.md).
extension Viewer {
    func api(_ path: [String], _ r: ViewerRequest) throws -> ViewerResponse {
        let c = catalog.current()
        let write = r.method == "POST" || r.method == "DELETE"
        if write && !(path.count == 2 && path[0] == "supernodes") {
            throw ServeError.methodNotAllowed("\(r.method) \(r.path): only /api/supernodes/{id} takes writes")
        }
        switch (path.first ?? "", path.count) {
        case ("", 0), ("info", 1):
            return try .json(APIInfo(c))
        case ("report", 1):
            guard let report = c.report else { throw ServeError.notFound("no corpus report: this viewer serves traced graphs, not a run folder") }
            return try .json(report)
        case ("prompts", 1):
            let offset = try r.int("offset", default: 0, in: 0...Int.max), limit = try r.int("limit", default: 1000, in: 1...10_000)
            return try .json(GraphPage(id: "prompts", total: c.prompts.count, offset: offset,
                                       items: Array(c.prompts.dropFirst(offset).prefix(limit))))
        case ("graph", 2):
            let g = try view(path[1], r, c)
            let w = GraphWindow(g, maxNodes: try r.int("max_nodes", default: GraphWindow.defaultMaxNodes, in: 1...GraphWindow.maxMaxNodes),
                                maxEdges: try r.int("max_edges", default: GraphWindow.defaultMaxEdges, in: 0...GraphWindow.maxMaxEdges))
            return try .json(GraphAnswer(g, window: w))
        case ("graph", 3) where path[2] == "nodes" || path[2] == "edges":
            let g = try view(path[1], r, c)
            let offset = try r.int("offset", default: 0, in: 0...Int.max), limit = try r.int("limit", default: 1000, in: 1...GraphWindow.maxPage)
            if path[2] == "nodes" {
                return try .json(GraphPage(id: g.id, total: g.nodes.count, offset: offset,
                                           items: g.nodes.dropFirst(offset).prefix(limit).map(GraphAnswer.NodeJSON.init)))
            }
            return try .json(GraphPage(id: g.id, total: g.edges.count, offset: offset,
                                       items: g.edges.dropFirst(offset).prefix(limit).map { GraphAnswer.EdgeJSON(edge: $0) }))
        case ("feature", 2), ("feature", 3):
            let text = path.dropFirst().joined(separator: "/")
            guard let id = FeatureID(lenient: text) else { throw ServeError.badRequest("'\(text)' is not a feature id (write L0/F197)") }
            return try catalog.cachedAnswer("feature \(id)") { try .json(try FeatureReport(id, catalog: $0)) }
        case ("features", 1):
            let offset = try r.int("offset", default: 0, in: 0...Int.max), limit = try r.int("limit", default: 100, in: 1...10_000)
            let all = c.features.byPrompts
            return try .json(GraphPage(id: "features", total: all.count, offset: offset,
                                       items: all.dropFirst(offset).prefix(limit).map { SearchResults.FeatureHit(feature: $0.feature.description, graph_prompts: $0.prompts) }))
        case ("search", 1):
            return try .json(try SearchResults(r.query["q"] ?? "", catalog: c))
        case ("supernodes", 2):
            _ = try c.graph(path[1])
            switch r.method {
            case "POST":
                let s: SupernodeStore.Supernode
                do { s = try JSONDecoder().decode(SupernodeStore.Supernode.self, from: r.body) } catch {
                    throw ServeError.badRequest("body must be {\"name\": \"…\", \"nodes\": [\"L0/F1@2\", …]}")
                }
                return try .json(try supernodes.save(s, in: path[1]))
            case "DELETE":
                guard let name = r.query["name"] else { throw ServeError.badRequest("DELETE needs ?name=") }
                return try .json(try supernodes.delete(name, in: path[1]))
            default:
                return try .json(try supernodes.supernodes(of: path[1]))
            }
        default:
            throw ServeError.notFound("no API endpoint at \(r.path); see /api/info")
        }
    }

    /// Graph `id` at the request's thresholds (its stored pruning without them).
    private func view(_ id: String, _ r: ViewerRequest, _ c: Catalog) throws -> ServedGraph {
        let g = try c.graph(id)
        let node = try r.threshold("node_threshold"), edge = try r.threshold("edge_threshold")
        guard node != nil || edge != nil else { return g }
        return try catalog.repruned(g, nodeThreshold: node ?? 1, edgeThreshold: edge ?? 1)
    }
}

/// `/api/info`: what is served and the endpoints.
struct APIInfo: Encodable {
    var kind: Catalog.Kind, title: String
    var prompts: Int, graphs: Int, features_in_graphs: Int
    /// Graphs whose unpruned graph is at hand (a `graph.h5`, or a run that keeps full graphs):
    /// their thresholds move both ways.
    var full_graphs: Int
    var global_weights: Bool
    var supernodes_file: String
    var endpoints = [
        "GET /api/info", "GET /api/report", "GET /api/prompts?offset=&limit=",
        "GET /api/graph/{id}?node_threshold=&edge_threshold=&max_nodes=&max_edges=",
        "GET /api/graph/{id}/nodes?offset=&limit=", "GET /api/graph/{id}/edges?offset=&limit=",
        "GET /api/feature/L{layer}/F{index}", "GET /api/features?offset=&limit=", "GET /api/search?q=",
        "GET|POST /api/supernodes/{id}", "DELETE /api/supernodes/{id}?name=",
    ]
    init(_ c: Catalog) {
        kind = c.kind; title = c.title; prompts = c.prompts.count; graphs = c.graphs.count
        full_graphs = c.graphs.count { $0.repruneBothWays }
        features_in_graphs = c.features.occurrences.count; global_weights = c.globalWeights != nil
        supernodes_file = c.folder.appendingPathComponent(SupernodeStore.fileName).path
    }
}
