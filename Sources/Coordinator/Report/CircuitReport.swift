import Foundation
import Shared
import Storage

/// The numbers of `report.json` (and of `report.html`, which draws them).
public struct CircuitReport: Codable, Sendable {
    public struct PromptEntry: Codable, Sendable {
        public var id: String
        public var status: String           // "done" | "failed"
        public var reason: String?
        public var replacement_score: Double?
        public var completeness_score: Double?
        public var n_tokens: Int?
        public var n_pruned_nodes: Int?
        public var n_pruned_edges: Int?
        public var seconds: Double?
    }
    public struct RecurringFeature: Codable, Sendable {
        public var layer: Int, feature: Int
        /// Prompts whose pruned graph holds this feature (at any position).
        public var prompts: Int
        public var mean_activation: Double
        public var mean_influence: Double
    }
    public struct RecurringEdge: Codable, Sendable {
        public var source: String, target: String
        public var prompts: Int
        public var mean_weight: Double
    }
    public struct Path: Codable, Sendable {
        /// Node labels from the embedding to the logit: `tok "Dallas"`, `L3/F117`, `err L2`, `logit "Austin"`.
        public var nodes: [String]
        public var prompts: Int
        /// Mean over those prompts of the path's strength: the product, along the path, of each
        /// edge's share of its target's total |incoming weight| in the pruned graph.
        public var mean_strength: Double
    }
    /// One label's concept features and how often they appear in its implicit prompts' graphs.
    ///
    /// A feature *responds* to a label as `LabelStatistics.responding` decides from the corpus
    /// statistics (`LabelStatistics.respondingRule`).
    public struct LabelRecovery: Codable, Sendable {
        public var label: String
        public var prompts: Int
        public var responding_features: [String]
        /// Traced prompts of this label that do not name it.
        public var implicit_prompts: Int
        /// Of those, the prompts whose pruned graph holds a responding feature.
        public var recovered: Int
    }
    public struct Histogram: Codable, Sendable {
        public var lower: Double, upper: Double
        public var counts: [Int]
    }

    public var job_hash: String
    public var prompts_total: Int
    public var prompts_done: Int
    public var prompts_failed: Int
    public var mean_replacement_score: Double?
    public var mean_completeness_score: Double?
    public var replacement_histogram: Histogram
    public var completeness_histogram: Histogram
    public var recurring_features: [RecurringFeature]
    public var recurring_edges: [RecurringEdge]
    public var top_paths: [Path]
    public var prompts: [PromptEntry]
    /// Share of the labelled prompts whose label is implicit (not a word of the prompt, as the
    /// bridge entity of a two-hop fact) whose pruned graph holds a feature that responds to the
    /// label; nil without labels. See `LabelRecovery`.
    public var planted_circuit_recovery: Double?
    public var label_recovery: [LabelRecovery]?
    /// From `global_weights.h5`, when `circuits global-weights` has run.
    public var global_weights: GlobalWeightsSummary?
    /// Graph evaluation and bridge swaps, when the job has an `evaluation` section.
    public var evaluation: EvaluationSummary?
    /// The dashboard of every feature the report names, when the run has dashboards (`DashboardSummary`).
    public var feature_dashboards: [DashboardSummary]?
    /// The edges between the dashboards' histogram bins (`ActivationHistogram`).
    public var histogram_edges: [Double]?
    /// An EAP job's edge scores (`EAPSummary`): top edges and circuits; nil for other jobs.
    public var eap: EAPSummary?

    /// Builds the report from a merged run.
    public init(_ a: Aggregate, top: Int = 25) {
        job_hash = a.jobHash
        prompts_total = a.prompts.count
        prompts_done = a.prompts.filter(\.done).count
        prompts_failed = prompts_total - prompts_done
        // Statistics-only prompts are done but have no graph (NaN scores).
        let done = a.prompts.filter { $0.done && $0.replacement.isFinite }
        mean_replacement_score = done.isEmpty ? nil : done.map(\.replacement).reduce(0, +) / Double(done.count)
        mean_completeness_score = done.isEmpty ? nil : done.map(\.completeness).reduce(0, +) / Double(done.count)
        replacement_histogram = Self.histogram(done.map(\.replacement))
        completeness_histogram = Self.histogram(done.map(\.completeness))
        prompts = a.prompts.map {
            $0.done ? PromptEntry(id: $0.id, status: "done", reason: nil, replacement_score: $0.replacement,
                                  completeness_score: $0.completeness, n_tokens: $0.nTokens, n_pruned_nodes: $0.nodes,
                                  n_pruned_edges: $0.edges, seconds: $0.seconds)
                : PromptEntry(id: $0.id, status: "failed", reason: $0.reason, replacement_score: nil, completeness_score: nil,
                              n_tokens: nil, n_pruned_nodes: nil, n_pruned_edges: nil, seconds: nil)
        }

        // Recurrence: features by (layer, feature); edges by their endpoint labels; once per prompt.
        var featurePrompts: [[Int]: (count: Int, act: Double, infl: Double)] = [:]
        var edgePrompts: [String: (source: String, target: String, count: Int, weight: Double)] = [:]
        var pathStats: [[String]: (count: Int, strength: Double)] = [:]
        for g in a.graphs where !g.nodes.isEmpty {
            var seen = Set<[Int]>()
            for (i, n) in g.nodes.enumerated() where n.type == .feature {
                let key = [n.layer, n.feature]
                guard seen.insert(key).inserted else { continue }
                var e = featurePrompts[key] ?? (0, 0, 0)
                e.count += 1; e.act += Double(g.activation[i]); e.infl += Double(g.influence[i])
                featurePrompts[key] = e
            }
            var seenEdges = Set<String>()
            for edge in g.edges {
                let s = Self.label(g.nodes[edge.source], g), t = Self.label(g.nodes[edge.target], g)
                let key = s + " → " + t
                guard seenEdges.insert(key).inserted else { continue }
                var e = edgePrompts[key] ?? (s, t, 0, 0)
                e.count += 1; e.weight += Double(edge.weight)
                edgePrompts[key] = e
            }
            if let path = Self.strongestPath(g) {
                var e = pathStats[path.labels] ?? (0, 0)
                e.count += 1; e.strength += path.strength
                pathStats[path.labels] = e
            }
        }
        recurring_features = featurePrompts.map {
            RecurringFeature(layer: $0.key[0], feature: $0.key[1], prompts: $0.value.count,
                             mean_activation: $0.value.act / Double($0.value.count), mean_influence: $0.value.infl / Double($0.value.count))
        }.sorted { ($0.prompts, $0.mean_influence) > ($1.prompts, $1.mean_influence) }.prefix(top).map { $0 }
        recurring_edges = edgePrompts.values.map {
            RecurringEdge(source: $0.source, target: $0.target, prompts: $0.count, mean_weight: $0.weight / Double($0.count))
        }.sorted { ($0.prompts, abs($0.mean_weight)) > ($1.prompts, abs($1.mean_weight)) }.prefix(top).map { $0 }
        if let stats = a.labelStatistics {
            var entries: [LabelRecovery] = [], implicit = 0, recovered = 0
            for label in stats.prompts.keys.sorted() {
                let responding = Set(stats.responding(to: label))
                var e = LabelRecovery(label: label, prompts: Int(stats.prompts[label] ?? 0),
                                      responding_features: responding.sorted().map(\.description), implicit_prompts: 0, recovered: 0)
                for (p, g) in zip(a.prompts, a.graphs) where p.done && p.label == label && !g.nodes.isEmpty {
                    let words = Set(p.prompt.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
                    guard !words.contains(label.lowercased()) else { continue }
                    e.implicit_prompts += 1
                    if g.nodes.contains(where: { $0.type == .feature && responding.contains(FeatureID(layer: $0.layer, feature: $0.feature)) }) {
                        e.recovered += 1
                    }
                }
                implicit += e.implicit_prompts; recovered += e.recovered
                entries.append(e)
            }
            label_recovery = entries
            planted_circuit_recovery = implicit > 0 ? Double(recovered) / Double(implicit) : nil
        }
        evaluation = a.evaluation.map { EvaluationSummary($0, swaps: a.bridgeSwaps, traceSeconds: a.prompts.map(\.seconds)) }
        top_paths = pathStats.map { Path(nodes: $0.key, prompts: $0.value.count, mean_strength: $0.value.strength / Double($0.value.count)) }
            .sorted { ($0.prompts, $0.mean_strength) > ($1.prompts, $1.mean_strength) }.prefix(top).map { $0 }
        let skipped = prompts_failed
        eap = a.edgeScores.map { EAPSummary($0, skipped: skipped) }
    }

    /// A position-free label, so that the same feature or token recurs across prompts.
    static func label(_ n: Aggregate.Node, _ g: Aggregate.Graph) -> String {
        switch n.type {
        case .feature: return "L\(n.layer)/F\(n.feature)"
        case .error: return "err L\(n.layer)"
        case .token: return "tok \(quote(n.pos < g.tokens.count ? g.tokens[n.pos] : "#\(n.feature)"))"
        case .logit:
            // Logit nodes carry their token id in `feature`.
            let text = g.logitTokenIDs.firstIndex(of: n.feature).map { g.logitTokens[$0] } ?? "#\(n.feature)"
            return "logit \(quote(text))"
        }
    }

    static func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\n", with: "\\n") + "\"" }

    /// The strongest embedding → logit path of a pruned graph: maximise the product of each
    /// edge's share of its target's |incoming| weight (dynamic programming over the DAG,
    /// targets processed in order of decreasing layer).
    static func strongestPath(_ g: Aggregate.Graph) -> (labels: [String], strength: Double)? {
        let n = g.nodes.count
        var incoming = [Double](repeating: 0, count: n)
        for e in g.edges { incoming[e.target] += abs(Double(e.weight)) }
        var out = [[(Int, Double)]](repeating: [], count: n)     // source → (target, share)
        for e in g.edges where incoming[e.target] > 0 { out[e.source].append((e.target, abs(Double(e.weight)) / incoming[e.target])) }
        // best[i]: strongest path from node i to any logit; computed from the top layer down.
        func rank(_ node: Aggregate.Node) -> Int {
            switch node.type { case .logit: return Int.max; case .token: return -1; default: return node.layer }
        }
        let order = (0..<n).sorted { rank(g.nodes[$0]) > rank(g.nodes[$1]) }
        var best = [Double](repeating: 0, count: n), next = [Int](repeating: -1, count: n)
        for i in order {
            if g.nodes[i].type == .logit { best[i] = 1; continue }
            for (t, share) in out[i] where share * best[t] > best[i] { best[i] = share * best[t]; next[i] = t }
        }
        guard let start = (0..<n).filter({ g.nodes[$0].type == .token && best[$0] > 0 }).max(by: { best[$0] < best[$1] }) else { return nil }
        var labels: [String] = [], i = start
        while i >= 0 { labels.append(label(g.nodes[i], g)); i = next[i] }
        return (labels, best[start])
    }

    /// Counts of the finite `values` in `bins` equal bins on [lower, upper] (outliers in the end bins).
    static func histogram(_ values: [Double], lower: Double = 0, upper: Double = 1, bins: Int = 20) -> Histogram {
        let bins = max(1, bins)
        var counts = [Int](repeating: 0, count: bins)
        for v in values where v.isFinite { counts[min(bins - 1, max(0, Int((v - lower) / (upper - lower) * Double(bins))))] += 1 }
        return Histogram(lower: lower, upper: upper, counts: counts)
    }
}
