import Foundation

// Export: a pruned attribution graph -> the frontend graph JSON that circuit-tracer's
// `create_graph_files` writes (`<slug>.json` + `graph-metadata.json`), read by Neuronpedia and
// circuit-tracer's local graph viewer. Sits after pruning in the data flow:
// load → forward → transcoders → attribute → prune → **export**.

/// What a graph document says about itself beyond the graph: the caller's part of the
/// `metadata` object (`prompt_tokens` come from the graph).
public struct GraphJSONMetadata: Equatable, Sendable {
    /// The graph's name: the document is written to `<slug>.json`, and `graph-metadata.json`
    /// holds one entry per slug.
    public var slug: String
    /// The transcoder set's identifier, the `scan` field of the transcoder `config.yaml`
    /// (circuit-tracer refuses to write a graph without one).
    public var scan: String
    /// Individual transcoder names when `scan` stands for a custom list; empty otherwise.
    public var transcoderList: [String]
    /// The decoded prompt, BOS text included (circuit-tracer's `Graph.input_string`).
    public var prompt: String
    /// The node threshold the graph was pruned with (recorded, not applied).
    public var nodeThreshold: Double?
    /// The frontend schema version; circuit-tracer 0.5.0 writes 1.
    public var schemaVersion: Int?

    public init(slug: String, scan: String, prompt: String, nodeThreshold: Double?,
                transcoderList: [String] = [], schemaVersion: Int? = 1) {
        self.slug = slug
        self.scan = scan
        self.transcoderList = transcoderList
        self.prompt = prompt
        self.nodeThreshold = nodeThreshold
        self.schemaVersion = schemaVersion
    }
}

/// Writes and names frontend graph documents, reproducing circuit-tracer 0.5.0's
/// `create_graph_files` (`circuit_tracer/utils/create_graph_files.py`, `frontend/graph_models.py`).
///
/// **Nodes written**, in node order (`NodeLayout`): every node kept by the prune node mask that
/// is the source or target of at least one written link, plus every token and logit node. A
/// link is written for every kept edge (`edgeMask[target, source]`) whose two ends are kept
/// nodes, in row-major order of the edge mask: by target, then by source.
///
/// **Node fields** per kind (`L` = layer, `P` = position, `F` = transcoder feature index,
/// `T` = token id, `V` = logit vocabulary id, `nPos`, `nLayers`):
///
/// | kind    | `node_id`          | `feature`          | `layer`        | `ctx_idx`  | `feature_type`             | `jsNodeId`       |
/// | ------- | ------------------ | ------------------ | -------------- | ---------- | -------------------------- | ---------------- |
/// | feature | `L_F_P`            | Cantor pair (L, F) | `L`            | `P`        | `cross layer transcoder`   | `L_F-0`          |
/// | error   | `L_-1_P` (*)       | -1                 | `L`            | `P`        | `mlp reconstruction error` | `L_P-0`          |
/// | token   | `E_T_P`            | `P`                | `E`            | `P`        | `embedding`                | `E_T-P`          |
/// | logit   | `{nLayers+1}_V_{nPos-1}` | `V`          | `nLayers + 1`  | `nPos − 1` | `logit`                    | `L_V-{nPos-1}`   |
///
/// Cantor pairing: `(L + F)(L + F + 1)/2 + F`. Every kind is labelled `cross layer transcoder`,
/// per-layer transcoders included. `influence` is the prune cumulative score (null for logits);
/// `activation` is the feature's activation (null otherwise); logits carry `token_prob` (the
/// full-softmax probability), `is_target_logit` (rank 0 only) and `clerp`
/// `Output "<token>" (p=<prob, 3 decimals>)`; every other `clerp` is empty; `run_idx` and
/// `reverse_ctx_idx` are 0. Floats are the float32 values widened to double.
///
/// (*) **The one deliberate difference from 0.5.0**: it names error nodes `0_L_P`, which
/// collides with the feature `0_F_P` of layer 0 whenever `F == L` (two nodes `0_0_11` in a
/// graph, links that cannot be told apart). Error nodes here are `L_-1_P`, the form upstream
/// adopted (feature index −1 never names a real feature), so node ids are unique. Their
/// `jsNodeId` stays 0.5.0's `L_P-0` (jsNodeIds are not unique in 0.5.0 for features either).
public enum GraphJSON {
    /// `feature_type` of each node kind.
    public static let featureType = "cross layer transcoder"
    public static let errorType = "mlp reconstruction error"
    public static let embeddingType = "embedding"
    public static let logitType = "logit"

    /// The index file `writeFiles` keeps beside the graph documents.
    public static let indexFileName = "graph-metadata.json"

    // MARK: Building the document

    /// The graph document of `graph` pruned by `pruning`.
    ///
    /// - Parameters:
    ///   - graph: the full attribution graph (its adjacency supplies the link weights).
    ///   - pruning: masks and cumulative scores of `prune(graph, …)`.
    ///   - metadata: the caller's part of the `metadata` object.
    /// - Throws: `TracerError.invalidArgument` when the pruning or the token strings do not
    ///   match the graph's node count or positions.
    /// - Complexity: O(K²) over the K kept nodes.
    public static func document(_ graph: AttributionGraph, pruning: PruneResult,
                                metadata: GraphJSONMetadata) throws -> FrontendGraph {
        let layout = graph.layout
        let n = layout.count
        guard pruning.nodeMask.count == n, pruning.edgeMask.layout == layout, pruning.cumulativeScores.count == n else {
            throw TracerError.invalidArgument(
                "graph JSON '\(metadata.slug)': prune result has node mask \(pruning.nodeMask.count), edge mask over "
                + "\(pruning.edgeMask.layout.count), cumulative scores \(pruning.cumulativeScores.count) nodes; the graph has "
                + "N = \(n) nodes; prune the same graph you export")
        }
        guard graph.tokenStrings.count == layout.nPos else {
            throw TracerError.invalidArgument(
                "graph JSON '\(metadata.slug)': \(graph.tokenStrings.count) token strings for \(layout.nPos) positions")
        }

        var ids: [String?] = Array(repeating: nil, count: n)
        func id(_ i: Int) -> String {
            if let s = ids[i] { return s }
            let s = nodeID(layout.node(at: i), in: graph)
            ids[i] = s
            return s
        }

        // Links: kept edges between kept nodes, row-major in [target, source].
        var links: [FrontendLink] = []
        var linked = [Bool](repeating: false, count: n)
        let kept = (0..<n).filter { pruning.nodeMask[$0] }
        for target in kept {
            for source in kept where pruning.edgeMask[target, source] {
                linked[source] = true
                linked[target] = true
                links.append(FrontendLink(source: id(source), target: id(target), weight: Double(graph.adjacency[target, source])))
            }
        }

        var nodes: [FrontendNode] = []
        for i in 0..<n where pruning.nodeMask[i] {
            let node = layout.node(at: i)
            switch node {
            case .feature, .error: guard linked[i] else { continue }
            case .token, .logit: break
            }
            nodes.append(frontendNode(node, in: graph, influence: Double(pruning.cumulativeScores[i]), id: id(i)))
        }
        return FrontendGraph(metadata: graphMetadataEntry(graph, metadata: metadata), nodes: nodes, links: links)
    }

    /// The `<slug>.json` document of `graph` pruned by `pruning`, byte for byte as
    /// `create_graph_files` writes it (but for error node ids; see `GraphJSON`).
    public static func encode(_ graph: AttributionGraph, pruning: PruneResult,
                              metadata: GraphJSONMetadata) throws -> Data {
        encode(try document(graph, pruning: pruning, metadata: metadata))
    }

    /// `document` as pydantic's `model_dump_json(indent=2)` writes it.
    public static func encode(_ document: FrontendGraph) -> Data {
        Data(document.json.rendered(.pydantic).utf8)
    }

    /// The entry `graph-metadata.json` holds for this graph: the document's `metadata` object.
    public static func graphMetadataEntry(_ graph: AttributionGraph, metadata: GraphJSONMetadata) -> FrontendMetadata {
        FrontendMetadata(slug: metadata.slug, scan: metadata.scan, transcoderList: metadata.transcoderList,
                         promptTokens: graph.tokenStrings, prompt: metadata.prompt,
                         nodeThreshold: metadata.nodeThreshold, schemaVersion: metadata.schemaVersion)
    }

    /// `graph-metadata.json` with `entry` added: any entry with the same slug is removed, `entry`
    /// is appended, everything else (other entries, unknown keys, their order) is kept.
    /// Written as Python's `json.dump(…, indent=2)` (ASCII-only, Python float repr).
    ///
    /// - Parameter existing: the current file, or nil to start from `{"graphs": []}`.
    /// - Throws: `TracerError.malformedFile` when `existing` is not JSON or has no `graphs` list.
    public static func updatedGraphIndex(_ existing: Data?, adding entry: FrontendMetadata,
                                         source: String = GraphJSON.indexFileName) throws -> Data {
        var members: [(String, JSONValue)] = [("graphs", .array([]))]
        if let existing {
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(existing) } catch {
                throw TracerError.malformedFile(source, "invalid JSON: \(error)")
            }
            guard case let .object(m) = parsed else { throw TracerError.malformedFile(source, "not a JSON object") }
            members = m
        }
        guard let slot = members.firstIndex(where: { $0.0 == "graphs" }), case let .array(graphs) = members[slot].1 else {
            throw TracerError.malformedFile(source, "no \"graphs\" list")
        }
        var kept = graphs.filter { $0["slug"] != .string(entry.slug) }
        kept.append(entry.json)
        members[slot].1 = .array(kept)
        return Data(JSONValue.object(members).rendered(.python).utf8)
    }

    /// Writes `<slug>.json` into `folder` (created if missing) and adds or replaces the graph's
    /// entry in `folder/graph-metadata.json`, as `create_graph_files` does.
    ///
    /// - Returns: the URL of the graph document.
    /// - Throws: `TracerError.invalidArgument` for a slug that is not a plain file name or a
    ///   `folder` that is a file; `.malformedFile` for an unreadable `graph-metadata.json`;
    ///   the file system's error when a write fails.
    @discardableResult
    public static func writeFiles(_ graph: AttributionGraph, pruning: PruneResult,
                                  metadata: GraphJSONMetadata, to folder: URL) throws -> URL {
        try checkSlug(metadata.slug)
        return try write(try document(graph, pruning: pruning, metadata: metadata), to: folder)
    }

    /// Writes `document` into `folder` (created if missing) as `<slug>.json`, the slug being
    /// `document.metadata.slug`, and adds or replaces its entry in `folder/graph-metadata.json`.
    ///
    /// - Returns: the URL of the graph document.
    /// - Throws: as `writeFiles`.
    @discardableResult
    public static func write(_ document: FrontendGraph, to folder: URL) throws -> URL {
        try checkSlug(document.metadata.slug)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TracerError.invalidArgument("graph JSON output \(folder.path) exists and is not a folder")
            }
        } else {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let graphURL = folder.appendingPathComponent(document.metadata.slug + ".json")
        try encode(document).write(to: graphURL, options: .atomic)

        let indexURL = folder.appendingPathComponent(indexFileName)
        let existing = fm.fileExists(atPath: indexURL.path) ? try Data(contentsOf: indexURL) : nil
        try updatedGraphIndex(existing, adding: document.metadata, source: indexURL.path).write(to: indexURL, options: .atomic)
        return graphURL
    }

    /// - Throws: `TracerError.invalidArgument` unless `slug` is a plain file name.
    static func checkSlug(_ slug: String) throws {
        guard !slug.isEmpty, !slug.contains("/"), slug != ".", slug != ".." else {
            throw TracerError.invalidArgument("graph slug '\(slug)' must be a plain file name (no '/')")
        }
    }

    // MARK: Nodes

    /// The `node_id` of `node` (unique within a graph; see `GraphJSON` for the forms).
    public static func nodeID(_ node: Node, in graph: AttributionGraph) -> String {
        switch node {
        case let .feature(selected):
            let f = graph.feature(selected: selected)
            return "\(f.layer)_\(f.index)_\(f.pos)"
        case let .error(layer, pos):
            return "\(layer)_-1_\(pos)"
        case let .token(pos):
            return "E_\(graph.inputTokens[pos])_\(pos)"
        case let .logit(rank):
            return "\(graph.nLayers + 1)_\(graph.logitTargets[rank].tokenId)_\(graph.inputTokens.count - 1)"
        }
    }

    /// Cantor pairing `(x + y)(x + y + 1)/2 + y`: the `feature` number of feature `y` of layer `x`.
    public static func cantorPairing(_ x: Int, _ y: Int) -> Int { (x + y) * (x + y + 1) / 2 + y }

    private static func frontendNode(_ node: Node, in graph: AttributionGraph, influence: Double, id: String) -> FrontendNode {
        switch node {
        case let .feature(selected):
            let f = graph.feature(selected: selected)
            return FrontendNode(nodeId: id, feature: cantorPairing(f.layer, f.index), layer: String(f.layer),
                                ctxIdx: f.pos, featureType: featureType, jsNodeId: "\(f.layer)_\(f.index)-0",
                                influence: influence, activation: Double(graph.activation(selected: selected)))
        case let .error(layer, pos):
            return FrontendNode(nodeId: id, feature: -1, layer: String(layer), ctxIdx: pos, featureType: errorType,
                                jsNodeId: "\(layer)_\(pos)-0", influence: influence)
        case let .token(pos):
            let token = graph.inputTokens[pos]
            return FrontendNode(nodeId: id, feature: pos, layer: "E", ctxIdx: pos, featureType: embeddingType,
                                jsNodeId: "E_\(token)-\(pos)", influence: influence)
        case let .logit(rank):
            let target = graph.logitTargets[rank]
            let p = Double(target.probability)
            let lastPos = graph.inputTokens.count - 1
            return FrontendNode(nodeId: id, feature: target.tokenId, layer: String(graph.nLayers + 1), ctxIdx: lastPos,
                                featureType: logitType, tokenProb: p, isTargetLogit: rank == 0,
                                jsNodeId: "L_\(target.tokenId)-\(lastPos)",
                                clerp: "Output \"\(target.token)\" (p=\(String(format: "%.3f", p)))")
        }
    }
}
