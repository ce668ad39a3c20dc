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
    /// Each prompt's graph evaluation (`/evaluation`, same order as `prompts`), when the job evaluates.
    public var evaluation: EvaluationTable?
    /// The bridge swaps of the evaluation's second phase (`/bridge_swap`).
    public var bridgeSwaps: BridgeSwapTable?
    /// An EAP job's edge scores summed over its pairs (`/eap`).
    public var edgeScores: EdgeScoreSums?

    public init(url: URL) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        jobHash = try AggregateMeta(f).jobHash
        let table = try PromptTable(f, at: ShardSchema.prompts)
        let ids = table.id
        let labels = table.label ?? Array(repeating: "", count: ids.count)
        prompts = ids.indices.map {
            let r = table[$0]
            return Prompt(id: r.id, prompt: r.prompt, done: r.status == 1, reason: r.reason, task: Int(r.task), label: labels[$0],
                          replacement: r.replacement, completeness: r.completeness, nTokens: Int(r.nTokens), nActive: Int(r.nActive),
                          nodes: Int(r.nodes), edges: Int(r.edges), seconds: r.seconds)
        }
        labelStatistics = try LabelStatistics.read(f)
        evaluation = try EvaluationTable.read(f)
        if let evaluation, evaluation.count != ids.count {
            throw MergeError(path: url.path, reason: "\(EvaluationTable.group) has \(evaluation.count) rows for \(ids.count) prompts")
        }
        bridgeSwaps = try BridgeSwapTable.read(f)
        edgeScores = try EdgeScoreSumsFile.read(f)
        let tables = try GraphTables(f)
        guard tables.promptCount == ids.count else {
            throw MergeError(path: url.path, reason: "graph offsets do not match the prompt table")
        }
        graphs = ids.indices.map { k in
            let c = tables.prompt(k)
            let nodes = c.nodeType.indices.map {
                Node(type: ShardSchema.NodeType(rawValue: c.nodeType[$0]) ?? .feature, layer: Int(c.nodeLayer[$0]),
                     pos: Int(c.nodePos[$0]), feature: Int(c.nodeFeature[$0]))
            }
            return Graph(nodes: nodes, activation: c.nodeActivation, influence: c.nodeInfluence,
                         edges: c.edgeSource.indices.map { (Int(c.edgeSource[$0]), Int(c.edgeTarget[$0]), c.edgeWeight[$0]) },
                         tokens: c.tokenStrings, logitTokens: c.logitTokens, logitTokenIDs: c.logitTokenIDs.map(Int.init),
                         logitProbabilities: c.logitProbabilities)
        }
    }
}
