import Foundation
import Shared
import Storage

/// `aggregate.h5` read back for reporting.
public struct Aggregate: Sendable {
    public struct Prompt: Sendable {
        public var id: String, prompt: String, done: Bool, reason: String, task: Int
        /// The corpus label ("" when none).
        public var label: String = ""
        public var replacement: Double, completeness: Double, nTokens: Int, nActive: Int, nodes: Int, edges: Int, seconds: Double
    }
    public struct Node: Sendable, Hashable {
        public var type: ShardSchema.NodeType
        public var layer: Int, pos: Int, feature: Int
    }
    public struct Graph: Sendable {
        public var nodes: [Node]
        public var activation: [Float]
        public var influence: [Float]
        public var edges: [(source: Int, target: Int, weight: Float)]
        public var tokens: [String]
        public var logitTokens: [String]
        public var logitTokenIDs: [Int]
        public var logitProbabilities: [Float]
    }

    public var jobHash: String
    public var prompts: [Prompt]
    /// Per-label feature statistics (`/stats/labels`), when the corpus has labels.
    public var labelStatistics: LabelStatistics?
    /// The graph of each prompt (empty for failed prompts), same order as `prompts`.
    public var graphs: [Graph]

    public init(url: URL) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        jobHash = try f.stringAttribute("job_hash")
        let table = try PromptTable(f, at: "prompts")
        let ids = table.id
        let labels = f.exists("prompts/label") ? try f.readStrings(at: "prompts/label") : Array(repeating: "", count: ids.count)
        prompts = ids.indices.map {
            let r = table[$0]
            return Prompt(id: r.id, prompt: r.prompt, done: r.status == 1, reason: r.reason, task: Int(r.task), label: labels[$0],
                          replacement: r.replacement, completeness: r.completeness, nTokens: Int(r.nTokens), nActive: Int(r.nActive),
                          nodes: Int(r.nodes), edges: Int(r.edges), seconds: r.seconds)
        }
        labelStatistics = try LabelStatistics.read(f)
        let g = "graphs"
        let type = try f.read(Int8.self, at: "\(g)/node_type").values, layer = try f.read(Int32.self, at: "\(g)/node_layer").values
        let pos = try f.read(Int32.self, at: "\(g)/node_pos").values, feat = try f.read(Int64.self, at: "\(g)/node_feature").values
        let act = try f.read(Float.self, at: "\(g)/node_activation").values, infl = try f.read(Float.self, at: "\(g)/node_influence").values
        let es = try f.read(Int32.self, at: "\(g)/edge_source").values, et = try f.read(Int32.self, at: "\(g)/edge_target").values
        let ew = try f.read(Float.self, at: "\(g)/edge_weight").values
        let tokens = try f.readStrings(at: "\(g)/token_strings"), logitTokens = try f.readStrings(at: "\(g)/logit_tokens")
        let logitP = try f.read(Float.self, at: "\(g)/logit_probabilities").values
        let logitIDs = try f.read(Int64.self, at: "\(g)/logit_token_ids").values.map(Int.init)
        let no = try f.read(Int64.self, at: "\(g)/node_offset").values.map(Int.init)
        let eo = try f.read(Int64.self, at: "\(g)/edge_offset").values.map(Int.init)
        let to = try f.read(Int64.self, at: "\(g)/token_offset").values.map(Int.init)
        let lo = try f.read(Int64.self, at: "\(g)/logit_offset").values.map(Int.init)
        guard no.count == ids.count + 1, eo.count == ids.count + 1 else {
            throw MergeError(path: url.path, reason: "graph offsets do not match the prompt table")
        }
        graphs = ids.indices.map { k in
            let nodes = (no[k]..<no[k + 1]).map {
                Node(type: ShardSchema.NodeType(rawValue: type[$0]) ?? .feature, layer: Int(layer[$0]), pos: Int(pos[$0]), feature: Int(feat[$0]))
            }
            return Graph(nodes: nodes, activation: Array(act[no[k]..<no[k + 1]]), influence: Array(infl[no[k]..<no[k + 1]]),
                         edges: (eo[k]..<eo[k + 1]).map { (Int(es[$0]), Int(et[$0]), ew[$0]) },
                         tokens: Array(tokens[to[k]..<to[k + 1]]), logitTokens: Array(logitTokens[lo[k]..<lo[k + 1]]),
                         logitTokenIDs: Array(logitIDs[lo[k]..<lo[k + 1]]),
                         logitProbabilities: Array(logitP[lo[k]..<lo[k + 1]]))
        }
    }
}
