import Foundation
import Storage

/// `/api/feature/L{layer}/F{index}`: what the viewer knows of one feature.
public struct FeatureReport: Codable, Sendable {
    /// The feature at one position of one traced graph.
    public struct Context: Codable, Sendable {
        public var prompt_id: String
        public var tokens: [String]
        public var pos: Int
        public var activation: Float
        public var influence: Float
    }
    public struct LabelEntry: Codable, Sendable {
        public var label: String
        /// Prompts of the label where the feature is active anywhere, of all the label's prompts.
        public var active_prompts: Int64, label_prompts: Int64
        /// Mean over the active prompts of the feature's peak activation.
        public var mean_peak_activation: Double
        public var responding: Bool
    }
    public struct CorpusStatistics: Codable, Sendable {
        /// Share of corpus positions (BOS excluded) where the feature is active; mean activation
        /// over those positions.
        public var density: Double, mean_active_activation: Double?
        public var active_count: Int64, tokens_seen: Int64
    }
    public struct Recurrence: Codable, Sendable {
        public var prompts: Int, mean_activation: Double, mean_influence: Double
    }
    public struct Partners: Codable, Sendable {
        public var upstream: GlobalWeightPartners.Ranked?, downstream: GlobalWeightPartners.Ranked?
    }
    public struct Histogram: Codable, Sendable {
        public var lower: Float, upper: Float, counts: [Int]
    }

    public var feature: String
    public var layer: Int, index: Int
    /// circuit-tracer feature JSON from the dashboard source, or nil (see `dashboard_note`).
    public var dashboard: JSONValue?
    public var dashboard_note: String?
    /// Traced prompts whose pruned graph holds the feature.
    public var graph_prompts: Int
    /// Its strongest positions in those graphs, by activation (at most 50).
    public var contexts: [Context]
    /// Activations of every occurrence in the graphs.
    public var graph_activation_histogram: Histogram?
    public var corpus: CorpusStatistics?
    public var labels: [LabelEntry]
    /// The report's recurrence numbers, when the feature is among its recurring features.
    public var recurring: Recurrence?
    /// From `global_weights.h5`, when it exists (nil partners: the feature is not in it).
    public var global_weights: Partners?

    /// - Throws: `ServeError.notFound` when no graph or statistic knows the feature.
    public init(_ id: FeatureID, catalog c: Catalog, contexts limit: Int = 50) throws {
        feature = id.description
        layer = id.layer
        index = id.feature
        let occurrences = c.features.occurrences[id] ?? []
        let stats = c.featureStatistics.flatMap { s -> CorpusStatistics? in
            guard s.shape.count == 2, (0..<s.shape[0]).contains(id.layer), (0..<s.shape[1]).contains(id.feature) else { return nil }
            let k = id.layer * s.shape[1] + id.feature
            let n = s.activeCount[k]
            return CorpusStatistics(density: s.tokensSeen > 0 ? Double(n) / Double(s.tokensSeen) : 0,
                                    mean_active_activation: n > 0 ? s.sumActivation[k] / Double(n) : nil, active_count: n, tokens_seen: s.tokensSeen)
        }
        guard !occurrences.isEmpty || stats != nil else {
            throw ServeError.notFound("feature \(id) is in no graph and no statistics of this \(c.kind == .run ? "run" : "folder")")
        }
        corpus = stats
        if let data = try c.dashboards.dashboard(for: id) {
            dashboard = try JSONDecoder().decode(JSONValue.self, from: data)
        } else {
            dashboard_note = c.dashboards.absenceNote
        }
        graph_prompts = Set(occurrences.map(\.graph)).count
        let ranked = occurrences.sorted { c.graphs[$0.graph].nodes[$0.node].activation > c.graphs[$1.graph].nodes[$1.node].activation }
        contexts = ranked.prefix(limit).map {
            let g = c.graphs[$0.graph], n = g.nodes[$0.node]
            return Context(prompt_id: g.id, tokens: g.tokens, pos: n.pos, activation: n.activation, influence: n.influence)
        }
        let acts = occurrences.map { c.graphs[$0.graph].nodes[$0.node].activation }
        if let lo = acts.min(), let hi = acts.max() {
            let bins = 20, width = max(hi - lo, 1e-6) / Float(bins)
            var counts = [Int](repeating: 0, count: bins)
            for a in acts { counts[min(bins - 1, Int((a - lo) / width))] += 1 }
            graph_activation_histogram = Histogram(lower: lo, upper: lo + width * Float(bins), counts: counts)
        }
        labels = []
        if let ls = c.labelStatistics {
            for label in ls.prompts.keys.sorted() {
                guard let e = ls.entries[label]?[id], e.activePrompts > 0 else { continue }
                labels.append(LabelEntry(label: label, active_prompts: e.activePrompts, label_prompts: ls.prompts[label] ?? 0,
                                         mean_peak_activation: e.sumMaxActivation / Double(e.activePrompts),
                                         responding: ls.responding(to: label).contains(id)))
            }
            labels.sort { ($0.responding ? 1 : 0, $0.active_prompts) > ($1.responding ? 1 : 0, $1.active_prompts) }
        }
        recurring = c.report?.recurring_features.first { $0.layer == id.layer && $0.feature == id.feature }
            .map { Recurrence(prompts: $0.prompts, mean_activation: $0.mean_activation, mean_influence: $0.mean_influence) }
        global_weights = c.globalWeights.map { Partners(upstream: $0.upstream(of: id), downstream: $0.downstream(of: id)) }
    }
}
