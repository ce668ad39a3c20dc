import Foundation

// The documents of circuit-tracer's frontend (`circuit_tracer/frontend/graph_models.py`), as
// `create_graph_files` writes them and the Neuronpedia / local graph viewer reads them. Decoding
// accepts every document circuit-tracer writes; fields pydantic gives defaults to may be absent.

/// A `<slug>.json` graph document: `{metadata, qParams, nodes, links}`.
public struct FrontendGraph: Codable, Equatable, Sendable {
    public var metadata: FrontendMetadata
    public var qParams: FrontendQParams
    public var nodes: [FrontendNode]
    public var links: [FrontendLink]

    public init(metadata: FrontendMetadata, qParams: FrontendQParams = FrontendQParams(),
                nodes: [FrontendNode], links: [FrontendLink]) {
        self.metadata = metadata
        self.qParams = qParams
        self.nodes = nodes
        self.links = links
    }

    /// Reads a `<slug>.json` document.
    /// - Throws: `TracerError.fileNotFound` or `.malformedFile` (with the decoder's reason).
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TracerError.fileNotFound(url.path, what: "graph JSON") }
        self = try FrontendGraph.decode(data, source: url.path)
    }

    /// Decodes a `<slug>.json` document.
    public static func decode(_ data: Data, source: String = "<memory>") throws -> FrontendGraph {
        do { return try JSONDecoder().decode(FrontendGraph.self, from: data) } catch {
            throw TracerError.malformedFile(source, "not a frontend graph document: \(error)")
        }
    }
}

/// The `metadata` object of a graph document, also one entry of `graph-metadata.json`.
public struct FrontendMetadata: Codable, Equatable, Sendable {
    public var slug: String
    /// The transcoder set's identifier (`scan` of the transcoder `config.yaml`).
    public var scan: String
    public var transcoderList: [String]
    /// The decoded text of every attributed token, BOS first.
    public var promptTokens: [String]
    /// The decoded prompt, BOS text included (circuit-tracer's `Graph.input_string`).
    public var prompt: String
    public var nodeThreshold: Double?
    public var schemaVersion: Int?

    public init(slug: String, scan: String, transcoderList: [String] = [], promptTokens: [String],
                prompt: String, nodeThreshold: Double?, schemaVersion: Int? = 1) {
        self.slug = slug
        self.scan = scan
        self.transcoderList = transcoderList
        self.promptTokens = promptTokens
        self.prompt = prompt
        self.nodeThreshold = nodeThreshold
        self.schemaVersion = schemaVersion
    }

    enum CodingKeys: String, CodingKey {
        case slug, scan, prompt
        case transcoderList = "transcoder_list"
        case promptTokens = "prompt_tokens"
        case nodeThreshold = "node_threshold"
        case schemaVersion = "schema_version"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        slug = try c.decode(String.self, forKey: .slug)
        scan = try c.decode(String.self, forKey: .scan)
        transcoderList = try c.decode([String].self, forKey: .transcoderList)
        promptTokens = try c.decode([String].self, forKey: .promptTokens)
        prompt = try c.decode(String.self, forKey: .prompt)
        nodeThreshold = try c.decodeIfPresent(Double.self, forKey: .nodeThreshold)
        // pydantic's default is 1 when the key is absent; an explicit null stays nil.
        schemaVersion = c.contains(.schemaVersion) ? try c.decodeIfPresent(Int.self, forKey: .schemaVersion) : 1
    }

    var json: JSONValue {
        .object([
            ("slug", .string(slug)),
            ("scan", .string(scan)),
            ("transcoder_list", .array(transcoderList.map(JSONValue.string))),
            ("prompt_tokens", .array(promptTokens.map(JSONValue.string))),
            ("prompt", .string(prompt)),
            ("node_threshold", .double(nodeThreshold)),
            ("schema_version", schemaVersion.map(JSONValue.int) ?? .null),
        ])
    }
}

/// The viewer's initial query state (`qParams`); `create_graph_files` always writes the defaults.
public struct FrontendQParams: Codable, Equatable, Sendable {
    public var pinnedIds: [String]
    public var supernodes: [[String]]
    public var linkType: String
    public var clickedId: String
    public var sgPos: String

    public init(pinnedIds: [String] = [], supernodes: [[String]] = [], linkType: String = "both",
                clickedId: String = "", sgPos: String = "") {
        self.pinnedIds = pinnedIds
        self.supernodes = supernodes
        self.linkType = linkType
        self.clickedId = clickedId
        self.sgPos = sgPos
    }

    enum CodingKeys: String, CodingKey {
        case pinnedIds, supernodes, linkType, clickedId
        case sgPos = "sg_pos"
    }

    var json: JSONValue {
        .object([
            ("pinnedIds", .array(pinnedIds.map(JSONValue.string))),
            ("supernodes", .array(supernodes.map { .array($0.map(JSONValue.string)) })),
            ("linkType", .string(linkType)),
            ("clickedId", .string(clickedId)),
            ("sg_pos", .string(sgPos)),
        ])
    }
}

/// One node of a graph document. What each field holds per node kind: `GraphJSON`.
public struct FrontendNode: Codable, Equatable, Sendable {
    public var nodeId: String
    public var feature: Int
    public var layer: String
    public var ctxIdx: Int
    public var featureType: String
    public var tokenProb: Double
    public var isTargetLogit: Bool
    public var runIdx: Int
    public var reverseCtxIdx: Int
    public var jsNodeId: String
    public var clerp: String
    public var influence: Double?
    public var activation: Double?

    public init(nodeId: String, feature: Int, layer: String, ctxIdx: Int, featureType: String,
                tokenProb: Double = 0, isTargetLogit: Bool = false, runIdx: Int = 0, reverseCtxIdx: Int = 0,
                jsNodeId: String? = nil, clerp: String = "", influence: Double? = nil, activation: Double? = nil) {
        self.nodeId = nodeId
        self.feature = feature
        self.layer = layer
        self.ctxIdx = ctxIdx
        self.featureType = featureType
        self.tokenProb = tokenProb
        self.isTargetLogit = isTargetLogit
        self.runIdx = runIdx
        self.reverseCtxIdx = reverseCtxIdx
        self.jsNodeId = jsNodeId ?? nodeId
        self.clerp = clerp
        self.influence = influence
        self.activation = activation
    }

    enum CodingKeys: String, CodingKey {
        case feature, layer, clerp, influence, activation, jsNodeId
        case nodeId = "node_id"
        case ctxIdx = "ctx_idx"
        case featureType = "feature_type"
        case tokenProb = "token_prob"
        case isTargetLogit = "is_target_logit"
        case runIdx = "run_idx"
        case reverseCtxIdx = "reverse_ctx_idx"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            nodeId: try c.decode(String.self, forKey: .nodeId),
            feature: try c.decode(Int.self, forKey: .feature),
            layer: try c.decode(String.self, forKey: .layer),
            ctxIdx: try c.decode(Int.self, forKey: .ctxIdx),
            featureType: try c.decode(String.self, forKey: .featureType),
            tokenProb: try c.decodeIfPresent(Double.self, forKey: .tokenProb) ?? 0,
            isTargetLogit: try c.decodeIfPresent(Bool.self, forKey: .isTargetLogit) ?? false,
            runIdx: try c.decodeIfPresent(Int.self, forKey: .runIdx) ?? 0,
            reverseCtxIdx: try c.decodeIfPresent(Int.self, forKey: .reverseCtxIdx) ?? 0,
            jsNodeId: try c.decodeIfPresent(String.self, forKey: .jsNodeId),
            clerp: try c.decodeIfPresent(String.self, forKey: .clerp) ?? "",
            influence: try c.decodeIfPresent(Double.self, forKey: .influence),
            activation: try c.decodeIfPresent(Double.self, forKey: .activation))
    }

    var json: JSONValue {
        .object([
            ("node_id", .string(nodeId)),
            ("feature", .int(feature)),
            ("layer", .string(layer)),
            ("ctx_idx", .int(ctxIdx)),
            ("feature_type", .string(featureType)),
            ("token_prob", .double(tokenProb)),
            ("is_target_logit", .bool(isTargetLogit)),
            ("run_idx", .int(runIdx)),
            ("reverse_ctx_idx", .int(reverseCtxIdx)),
            ("jsNodeId", .string(jsNodeId)),
            ("clerp", .string(clerp)),
            ("influence", .double(influence)),
            ("activation", .double(activation)),
        ])
    }
}

/// One edge of a graph document: `weight` is the adjacency entry `A[target, source]`.
public struct FrontendLink: Codable, Equatable, Sendable {
    public var source: String
    public var target: String
    public var weight: Double

    public init(source: String, target: String, weight: Double) {
        self.source = source
        self.target = target
        self.weight = weight
    }

    var json: JSONValue { .object([("source", .string(source)), ("target", .string(target)), ("weight", .double(weight))]) }
}

/// `graph-metadata.json`: the index of the graphs in a frontend folder.
public struct FrontendGraphIndex: Codable, Equatable, Sendable {
    public var graphs: [FrontendMetadata]

    public init(graphs: [FrontendMetadata]) { self.graphs = graphs }

    /// Reads a `graph-metadata.json`.
    /// - Throws: `TracerError.fileNotFound` or `.malformedFile`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TracerError.fileNotFound(url.path, what: "graph metadata index") }
        do { self = try JSONDecoder().decode(FrontendGraphIndex.self, from: data) } catch {
            throw TracerError.malformedFile(url.path, "not a graph-metadata.json document: \(error)")
        }
    }
}

extension FrontendGraph {
    var json: JSONValue {
        .object([
            ("metadata", metadata.json),
            ("qParams", qParams.json),
            ("nodes", .array(nodes.map(\.json))),
            ("links", .array(links.map(\.json))),
        ])
    }
}
