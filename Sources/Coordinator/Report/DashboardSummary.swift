import Foundation
import Storage

/// A feature's dashboard as `report.json` carries it (and `report.html` draws it): frequency,
/// activation moments, histogram, top contexts, promoted and suppressed logits, and how often it
/// fires in the prompts of each label.
public struct DashboardSummary: Codable, Sendable {
    public struct Context: Codable, Sendable {
        public var prompt_id: String
        public var position: Int
        public var activation: Double
        /// The window's tokens and the feature's activation at each; `index`: the activating token.
        public var tokens: [String]
        public var activations: [Double]
        public var index: Int
    }
    public struct LabelShare: Codable, Sendable {
        public var label: String
        /// Prompts of the label in which the feature is active (anywhere), of `prompts`.
        public var active_prompts: Int
        public var prompts: Int
    }
    public var feature: String
    public var active_count: Int
    public var frequency: Double
    public var mean_activation: Double
    public var max_activation: Double
    /// Counts per `ActivationHistogram` bin (`histogram_edges`: the edges between them).
    public var histogram: [Int]
    /// One line: the tokens the top contexts activate on, most frequent first.
    public var summary: String
    public var top_contexts: [Context]
    public var top_logits: [String]
    public var bottom_logits: [String]
    /// Labels whose prompts activate the feature, most active share first (at most 5).
    public var labels: [LabelShare]

    /// Contexts kept in the report per feature.
    public static let contexts = 8

    public init(_ d: FeatureDashboard, labels stats: LabelStatistics?) {
        feature = d.feature.description
        active_count = Int(d.activeCount)
        frequency = d.frequency
        mean_activation = d.meanActivation
        max_activation = Double(d.maxActivation)
        histogram = d.histogram.map(Int.init)
        let top = d.groups.first?.contexts ?? []
        top_contexts = top.prefix(Self.contexts).map {
            Context(prompt_id: $0.promptID, position: Int($0.example.position), activation: Double($0.example.activation),
                    tokens: $0.tokens, activations: $0.example.activations.map(Double.init), index: $0.index)
        }
        summary = Self.summary(top)
        top_logits = d.topLogits.map(\.token)
        bottom_logits = d.bottomLogits.map(\.token)
        var shares: [LabelShare] = []
        if let stats {
            let id = d.feature
            for (label, n) in stats.prompts where n > 0 {
                if let e = stats.entries[label]?[id], e.activePrompts > 0 {
                    shares.append(LabelShare(label: label, active_prompts: Int(e.activePrompts), prompts: Int(n)))
                }
            }
        }
        labels = Array(shares.sorted {
            (Double($0.active_prompts) / Double($0.prompts), $1.label) > (Double($1.active_prompts) / Double($1.prompts), $0.label)
        }.prefix(5))
    }

    /// `on "texas" ×12, "austin" ×5 · e.g. …the capital of [texas] is`: the activating tokens of
    /// the top contexts by count, then the best context with the activating token in brackets.
    static func summary(_ top: [FeatureDashboard.Context]) -> String {
        guard let best = top.first else { return "never active" }
        var counts: [String: Int] = [:]
        for c in top { counts[c.tokens[c.index], default: 0] += 1 }
        let tokens = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3)
            .map { "\"\($0.key.trimmingCharacters(in: .whitespaces))\" ×\($0.value)" }
        return "on " + tokens.joined(separator: ", ") + " · e.g. " + excerpt(best)
    }

    /// The window's text with the activating token in brackets.
    static func excerpt(_ c: FeatureDashboard.Context) -> String {
        "…" + c.tokens.enumerated().map { $0.offset == c.index ? "[\($0.element)]" : $0.element }.joined(separator: " ")
    }
}

extension CircuitReport {
    /// Every feature the report names (recurring features, features of the recurring edges and
    /// strongest paths, features responding to labels), by id.
    var namedFeatures: [FeatureID] {
        var names = recurring_features.map { "L\($0.layer)/F\($0.feature)" }
        names += recurring_edges.flatMap { [$0.source, $0.target] }
        names += top_paths.flatMap(\.nodes)
        names += (label_recovery ?? []).flatMap(\.responding_features)
        return Set(names.compactMap(FeatureID.init(parsing:))).sorted()
    }

    /// Adds the dashboard of every feature the report names (`feature_dashboards`).
    public mutating func attachDashboards(_ run: RunDashboards) throws {
        feature_dashboards = try namedFeatures.map { DashboardSummary(try run.dashboard($0), labels: run.labels) }
        histogram_edges = ActivationHistogram.edges
    }
}
