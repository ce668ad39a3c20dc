import Foundation
import Shared
import Storage
import Tracer

/// One prompt's outcome inside a task.
public enum PromptOutcome: Sendable {
    /// Traced: the result and its circuit-tracer/Neuronpedia graph JSON (for `circuits export`).
    case traced(id: String, prompt: String, result: TraceResult, frontendJSON: Data)
    /// Statistics only (a job without attribution): the transcoder activations of the prompt.
    case measured(id: String, prompt: String, activations: PromptActivations)
    case failed(id: String, prompt: String, reason: String)

    public var id: String {
        switch self { case let .traced(id, _, _, _), let .measured(id, _, _), let .failed(id, _, _): return id }
    }

    /// The active features and their values (positions ≥ 1), for corpus statistics; nil when failed.
    var activations: PromptActivations? {
        switch self {
        case let .traced(_, _, r, _):
            PromptActivations(activeFeatures: r.graph.activeFeatures, values: r.graph.activationValues,
                              nTokens: r.graph.inputTokens.count, seconds: r.timings.total,
                              tokens: r.graph.inputTokens, tokenStrings: r.graph.tokenStrings)
        case let .measured(_, _, a): a
        case .failed: nil
        }
    }
}

/// One prompt's transcoder activations (BOS excluded), as the statistics need them.
public struct PromptActivations: Sendable {
    public var activeFeatures: [ActiveFeature]
    public var values: [Float]
    /// Tokens, BOS included.
    public var nTokens: Int
    public var seconds: Double
    /// Token ids and their text, BOS included (for the dashboards' context windows). `[nTokens]`
    public var tokens: [Int]
    public var tokenStrings: [String]
    public init(activeFeatures: [ActiveFeature], values: [Float], nTokens: Int, seconds: Double,
                tokens: [Int] = [], tokenStrings: [String] = []) {
        self.activeFeatures = activeFeatures; self.values = values; self.nTokens = nTokens; self.seconds = seconds
        self.tokens = tokens; self.tokenStrings = tokenStrings
    }
}

/// Writes the shard of one task: every prompt's pruned graph (node table and COO edges),
/// logits, scores and timings (and, when the job keeps full graphs, its unpruned graph), the task's feature statistics, and `/meta`.
///
/// The file is written under a temporary name beside `url` and renamed when complete
/// (`AtomicFile`), so a reader never sees a partial shard, and a killed worker leaves at most a
/// hidden `.tmp` file behind. Dataset and attribute names are the schema types' of `Storage/Shard`.
public enum ShardWriter {
    public struct Meta: Sendable {
        public var jobHash: String
        public var taskID: Int
        public var workerID: String
        public var modelChecksum: String
        public var transcoderChecksum: String
        public var nLayers: Int
        public var dTranscoder: Int
        /// Targets of the pair statistics (none: no `/stats/pairs`).
        public var pairTargets: [FeatureID]
        /// Dashboard parameters (nil: no `/dashboards`), the ordinal of the task's first prompt
        /// among the corpus's valid prompts, and the feature logits (task 0 only).
        public var dashboards: DashboardParameters?
        public var firstPrompt: Int64
        public var logits: FeatureLogitTable?
        /// Whether to keep every position's activations (`/stats/activations`).
        public var activations: Bool
        /// Whether every traced prompt's unpruned graph is kept beside the pruned one
        /// (`graphs/KKKKKK/full`, `FullGraph`; job option `pruning.keep_full_graphs`).
        public var keepFullGraphs: Bool
        public init(jobHash: String, taskID: Int, workerID: String, modelChecksum: String, transcoderChecksum: String,
                    nLayers: Int, dTranscoder: Int, pairTargets: [FeatureID] = [],
                    dashboards: DashboardParameters? = nil, firstPrompt: Int64 = 0, logits: FeatureLogitTable? = nil,
                    activations: Bool = false, keepFullGraphs: Bool = false) {
            self.jobHash = jobHash; self.taskID = taskID; self.workerID = workerID
            self.modelChecksum = modelChecksum; self.transcoderChecksum = transcoderChecksum
            self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.pairTargets = pairTargets
            self.dashboards = dashboards; self.firstPrompt = firstPrompt; self.logits = logits
            self.activations = activations; self.keepFullGraphs = keepFullGraphs
        }
    }

    /// - Parameters:
    ///   - labels: the corpus label of each prompt id that has one.
    ///   - evaluation: one row per outcome (`/evaluation`), when the job evaluates graphs.
    /// - Throws: `HDF5Error` or `AtomicFileError`; `url` is then untouched.
    /// - Parameter partners: a global-weights block's partner lists, written as `/all`.
    public static func write(_ outcomes: [PromptOutcome], meta: Meta, labels: [String: String] = [:],
                             evaluation: EvaluationTable? = nil, partners: GlobalPartners? = nil, to url: URL) throws {
        precondition(evaluation.map { $0.count == outcomes.count } ?? true, "one evaluation row per prompt")
        // rename(2) is atomic: readers see no shard or a whole one. If another worker finished the
        // same task first (a lease that expired), the shards hold the same prompts; the later wins.
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try ShardMeta(jobHash: meta.jobHash, taskID: meta.taskID, workerID: meta.workerID,
                          modelChecksum: meta.modelChecksum, transcoderChecksum: meta.transcoderChecksum).write(into: f)
            try promptTable(outcomes).write(into: f, withTask: false)
            try evaluation?.write(into: f)
            for (k, outcome) in outcomes.enumerated() {
                guard case let .traced(id, prompt, result, json) = outcome else { continue }
                try shardGraph(result, id: id, prompt: prompt).write(into: f, index: k)
                try ShardGraph.writeFrontendJSON([UInt8](json), into: f, index: k)
                if meta.keepFullGraphs { try FullGraph(result.graph).write(into: f, index: k) }
            }
            try FeatureStatisticsFile.write(featureStatistics(outcomes, meta: meta), into: f)
            if !labels.isEmpty {
                var byLabel = LabelStatistics()
                for o in outcomes {
                    guard let label = labels[o.id], let a = o.activations else { continue }
                    byLabel.add(label: label, features: a.activeFeatures.map { ($0.layer, $0.index) }, values: a.values)
                }
                if !byLabel.isEmpty { try byLabel.write(into: f) }
            }
            if !meta.pairTargets.isEmpty {
                var pairs = CoactivationStatistics(targets: meta.pairTargets, dTranscoder: meta.dTranscoder)
                for a in outcomes.compactMap(\.activations) { pairs.add(activeFeatures: a.activeFeatures, values: a.values) }
                try PairStatisticsFile.write(pairs, into: f)
            }
            if let partners { try GlobalPartnersFile.write(partners, into: f) }
            if meta.activations {
                // Every measured or traced prompt's positions, in the task's prompt order.
                var store = ActivationStore(nLayers: meta.nLayers, dTranscoder: meta.dTranscoder)
                for a in outcomes.compactMap(\.activations) {
                    store.appendPrompt(activeFeatures: a.activeFeatures, values: a.values, nTokens: a.nTokens)
                }
                try ActivationStoreFile.write(store, into: f)
            }
            if let parameters = meta.dashboards {
                try FeatureDashboardsFile.write(dashboards(outcomes, meta: meta, parameters: parameters), into: f)
            }
        }
    }

    /// Writes the shard of a bridge-swap task: `/meta` and `/bridge_swap`, atomically.
    public static func write(_ swaps: BridgeSwapTable, meta: ShardMeta, to url: URL) throws {
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try meta.write(into: f)
            try swaps.write(into: f)
        }
    }

    /// One row per outcome: scores and counts of traced prompts, counts of measured ones, reasons of failed ones.
    static func promptTable(_ outcomes: [PromptOutcome]) -> PromptTable {
        var table = PromptTable()
        for o in outcomes {
            switch o {
            case let .traced(id, prompt, r, _):
                var row = PromptTable.Row(id: id, prompt: prompt, status: 1)
                row.replacement = r.scores.replacement; row.completeness = r.scores.completeness
                row.nTokens = Int64(r.graph.inputTokens.count); row.nActive = Int64(r.graph.activeFeatures.count)
                row.nodes = Int64(r.prunedNodeCount); row.edges = Int64(r.prunedEdgeCount); row.seconds = r.timings.total
                table.append(row)
            case let .measured(id, prompt, a):
                var row = PromptTable.Row(id: id, prompt: prompt, status: 1)
                row.nTokens = Int64(a.nTokens); row.nActive = Int64(a.activeFeatures.count); row.seconds = a.seconds
                table.append(row)
            case let .failed(id, prompt, reason):
                table.append(.failed(id: id, prompt: prompt, reason: reason))
            }
        }
        return table
    }

    /// The pruned graph: kept nodes as a table, kept edges as COO indices into that table.
    static func shardGraph(_ r: TraceResult, id: String, prompt: String) -> ShardGraph {
        let graph = r.graph, layout = graph.layout, n = layout.count
        let kept = (0..<n).filter { r.pruning.nodeMask[$0] }
        var local = [Int](repeating: -1, count: n)
        for (i, node) in kept.enumerated() { local[node] = i }
        var type: [Int8] = [], layer: [Int32] = [], pos: [Int32] = [], feature: [Int64] = [], activation: [Float] = []
        for node in kept {
            switch layout.node(at: node) {
            case let .feature(s):
                let a = graph.feature(selected: s)
                type.append(ShardSchema.NodeType.feature.rawValue); layer.append(Int32(a.layer)); pos.append(Int32(a.pos))
                feature.append(Int64(a.index)); activation.append(graph.activation(selected: s))
            case let .error(l, p):
                type.append(ShardSchema.NodeType.error.rawValue); layer.append(Int32(l)); pos.append(Int32(p)); feature.append(-1); activation.append(0)
            case let .token(p):
                type.append(ShardSchema.NodeType.token.rawValue); layer.append(-1); pos.append(Int32(p))
                feature.append(Int64(graph.inputTokens[p])); activation.append(0)
            case let .logit(k):
                type.append(ShardSchema.NodeType.logit.rawValue); layer.append(Int32(graph.nLayers)); pos.append(Int32(graph.inputTokens.count - 1))
                feature.append(Int64(graph.logitTargets[k].tokenId)); activation.append(graph.logitTargets[k].probability)
            }
        }
        var source: [Int32] = [], target: [Int32] = [], weight: [Float] = []
        for t in kept {
            for s in kept where r.pruning.edgeMask[t, s] {
                target.append(Int32(local[t])); source.append(Int32(local[s])); weight.append(graph.adjacency[t, s])
            }
        }
        var columns = GraphColumns()
        columns.nodeType = type; columns.nodeLayer = layer; columns.nodePos = pos; columns.nodeFeature = feature
        columns.nodeActivation = activation; columns.nodeInfluence = kept.map { r.pruning.nodeInfluence[$0] }
        columns.edgeSource = source; columns.edgeTarget = target; columns.edgeWeight = weight
        columns.inputTokens = graph.inputTokens.map(Int64.init); columns.tokenStrings = graph.tokenStrings
        columns.logitTokenIDs = graph.logitTargets.map { Int64($0.tokenId) }; columns.logitProbabilities = graph.logitProbabilities
        columns.logitTokens = graph.logitTargets.map(\.token)
        let t = r.timings
        return ShardGraph(id: id, prompt: prompt, columns: columns, nodeIndex: kept.map { Int64($0) },
                          replacementScore: r.scores.replacement, completenessScore: r.scores.completeness,
                          nNodes: n, nActiveFeatures: graph.activeFeatures.count, nEdges: r.edgeCount, nLayers: graph.nLayers,
                          timings: [t.forward, t.transcoders, t.logitRows, t.featureRows, t.pruning],   // GraphTableSchema.phases
                          timingsPhases: GraphTableSchema.phases)
    }

    /// Per-feature counts and sums over every non-BOS position of the task's traced prompts.
    static func featureStatistics(_ outcomes: [PromptOutcome], meta: Meta) -> FeatureStatistics {
        var s = FeatureStatistics(nLayers: meta.nLayers, dTranscoder: meta.dTranscoder)
        for prompt in outcomes.compactMap(\.activations) {
            s.tokensSeen += Int64(prompt.nTokens - 1)
            for (a, v) in zip(prompt.activeFeatures, prompt.values) { s.add(layer: a.layer, feature: a.index, value: v) }
        }
        return s
    }
}
