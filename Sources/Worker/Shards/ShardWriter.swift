import Foundation
import Shared
import Storage
import Tracer

/// A shard could not be written.
public struct ShardError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "shard \(path): \(reason)" }
}

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
                              nTokens: r.graph.inputTokens.count, seconds: r.timings.total)
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
    public init(activeFeatures: [ActiveFeature], values: [Float], nTokens: Int, seconds: Double) {
        self.activeFeatures = activeFeatures; self.values = values; self.nTokens = nTokens; self.seconds = seconds
    }
}

/// Writes the shard of one task: every prompt's pruned graph (node table and COO edges),
/// logits, scores and timings, the task's feature statistics, and `/meta`.
///
/// The file is written under a temporary name beside `url` and renamed when complete, so a
/// reader never sees a partial shard, and a killed worker leaves at most a `.tmp` file behind.
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
        public init(jobHash: String, taskID: Int, workerID: String, modelChecksum: String, transcoderChecksum: String,
                    nLayers: Int, dTranscoder: Int, pairTargets: [FeatureID] = []) {
            self.jobHash = jobHash; self.taskID = taskID; self.workerID = workerID
            self.modelChecksum = modelChecksum; self.transcoderChecksum = transcoderChecksum
            self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.pairTargets = pairTargets
        }
    }

    /// - Parameter labels: the corpus label of each prompt id that has one.
    public static func write(_ outcomes: [PromptOutcome], meta: Meta, labels: [String: String] = [:], to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            let f = try HDF5File.create(tmp)
            try writeMeta(meta, into: f)
            try writePromptTable(outcomes, into: f)
            for (k, outcome) in outcomes.enumerated() {
                guard case let .traced(id, prompt, result, json) = outcome else { continue }
                let group = ShardSchema.graphGroupName(index: k)
                try writeGraph(result, id: id, prompt: prompt, group: group, into: f)
                try f.write([UInt8](json), shape: [json.count], at: "\(group)/\(ShardSchema.frontendJSON)", compression: json.count > 4096 ? 4 : nil)
            }
            try writeFeatureStatistics(outcomes, meta: meta, into: f)
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
            f.close()
            // rename(2) is atomic: readers see no shard or a whole one. If another worker finished the
            // same task first (a lease that expired), the shards hold the same prompts; the later wins.
            guard rename(tmp.path, url.path) == 0 else {
                throw ShardError(path: url.path, reason: "cannot rename \(tmp.lastPathComponent): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    static func writeMeta(_ meta: Meta, into f: HDF5File) throws {
        try f.createGroup(ShardSchema.meta)
        let m = ShardSchema.meta
        try f.setAttribute("job_hash", meta.jobHash, at: m)
        try f.setAttribute("task_id", Int64(meta.taskID), at: m)
        try f.setAttribute("worker_id", meta.workerID, at: m)
        try f.setAttribute("model_checksum", meta.modelChecksum, at: m)
        try f.setAttribute("transcoder_checksum", meta.transcoderChecksum, at: m)
        try f.setAttribute("format_version", Int64(ShardSchema.formatVersion), at: m)
        try f.setAttribute("circuits_version", CircuitsVersion.string, at: m)
        try f.setAttribute("created", ISO8601DateFormatter().string(from: Date()), at: m)
    }

    static func writePromptTable(_ outcomes: [PromptOutcome], into f: HDF5File) throws {
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
        try table.write(into: f, withTask: false)
    }

    /// The pruned graph: kept nodes as a table, kept edges as COO indices into that table.
    static func writeGraph(_ r: TraceResult, id: String, prompt: String, group g: String, into f: HDF5File) throws {
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
        let m = kept.count, e = source.count
        let z = m * 8 > 4096 ? 4 : nil, ze = e * 4 > 4096 ? 4 : nil
        try f.createGroup(g)
        try f.setAttribute("id", id, at: g)
        try f.setAttribute("prompt", prompt, at: g)
        try f.write(type, shape: [m], at: "\(g)/node_type", compression: z)
        try f.write(layer, shape: [m], at: "\(g)/node_layer", compression: z)
        try f.write(pos, shape: [m], at: "\(g)/node_pos", compression: z)
        try f.write(feature, shape: [m], at: "\(g)/node_feature", compression: z)
        try f.write(activation, shape: [m], at: "\(g)/node_activation", compression: z)
        try f.write(kept.map { r.pruning.nodeInfluence[$0] }, shape: [m], at: "\(g)/node_influence", compression: z)
        try f.write(kept.map { Int64($0) }, shape: [m], at: "\(g)/node_index", compression: z)
        try f.write(source, shape: [e], at: "\(g)/edge_source", compression: ze)
        try f.write(target, shape: [e], at: "\(g)/edge_target", compression: ze)
        try f.write(weight, shape: [e], at: "\(g)/edge_weight", compression: ze)
        try f.write(graph.inputTokens.map(Int64.init), shape: [graph.inputTokens.count], at: "\(g)/input_tokens")
        try f.writeStrings(graph.tokenStrings, at: "\(g)/token_strings")
        try f.write(graph.logitTargets.map { Int64($0.tokenId) }, shape: [graph.logitTargets.count], at: "\(g)/logit_token_ids")
        try f.write(graph.logitProbabilities, shape: [graph.logitTargets.count], at: "\(g)/logit_probabilities")
        try f.writeStrings(graph.logitTargets.map(\.token), at: "\(g)/logit_tokens")
        try f.setAttribute("replacement_score", r.scores.replacement, at: g)
        try f.setAttribute("completeness_score", r.scores.completeness, at: g)
        try f.setAttribute("n_nodes", Int64(n), at: g)
        try f.setAttribute("n_active_features", Int64(graph.activeFeatures.count), at: g)
        try f.setAttribute("n_edges", Int64(r.edgeCount), at: g)
        try f.setAttribute("n_layers", Int64(graph.nLayers), at: g)
        let t = r.timings
        try f.setAttribute("timings_s", [t.forward, t.transcoders, t.logitRows, t.featureRows, t.pruning], at: g)
        try f.setAttribute("timings_phases", ["forward", "transcoders", "logit_rows", "feature_rows", "pruning"], at: g)
    }

    /// Per-feature counts and sums over every non-BOS position of the task's traced prompts.
    static func writeFeatureStatistics(_ outcomes: [PromptOutcome], meta: Meta, into f: HDF5File) throws {
        let count = meta.nLayers * meta.dTranscoder
        var active = [Int64](repeating: 0, count: count)
        var sum = [Double](repeating: 0, count: count), sumSq = [Double](repeating: 0, count: count)
        var tokens: Int64 = 0
        for prompt in outcomes.compactMap(\.activations) {
            tokens += Int64(prompt.nTokens - 1)
            for (a, v) in zip(prompt.activeFeatures, prompt.values) {
                let k = a.layer * meta.dTranscoder + a.index
                active[k] += 1
                sum[k] += Double(v)
                sumSq[k] += Double(v) * Double(v)
            }
        }
        let s = ShardSchema.featureStats
        try f.createGroup(s)
        try f.setAttribute("tokens_seen", tokens, at: s)
        try f.write(active, shape: [meta.nLayers, meta.dTranscoder], at: "\(s)/active_count", compression: 4)
        try f.write(sum, shape: [meta.nLayers, meta.dTranscoder], at: "\(s)/sum_activation", compression: 4)
        try f.write(sumSq, shape: [meta.nLayers, meta.dTranscoder], at: "\(s)/sum_sq_activation", compression: 4)
    }
}
