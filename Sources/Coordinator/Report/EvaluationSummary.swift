import Foundation
import Storage

/// `report.json`'s `evaluation`: the graph evaluation of every prompt aggregated (path lengths,
/// perturbation fidelity by layer distance, causal agreement), and the bridge swaps of the
/// two-hop prompts. Means are over the prompts that have the metric (NaN per-prompt values are
/// missing data, not zeros).
public struct EvaluationSummary: Codable, Sendable {
    /// One two-hop prompt's bridge swap.
    public struct BridgeSwapEntry: Codable, Sendable {
        public var id: String
        public var prompt: String
        /// X → Y, and their answers.
        public var bridge: String, target: String, answer: String, target_answer: String
        public var status: String           // "done" | "failed"
        public var reason: String?
        public var answer_probability: Double?
        public var ablated_answer_probability: Double?
        public var swapped_top_token: String?
        public var swapped_top_probability: Double?
        public var success: Bool
        public var bridge_features: Int, target_features: Int
    }

    /// N, features ablated per check.
    public var features: Int
    /// Prompts evaluated (traced, and their evaluation ran).
    public var prompts: Int
    public var mean_path_length: Double?
    /// Mean path length per prompt, bins of 0.25 from 1.
    public var path_length_histogram: CircuitReport.Histogram
    /// Mean over prompts of the share of influence on paths of length k = index + 1.
    public var mean_path_length_shares: [Double]
    /// Mean over prompts of the per-prompt fidelity cosine at layer distance = index (null: no data).
    public var fidelity_cosine_by_layer_distance: [Double?]
    public var fidelity_nmse_by_layer_distance: [Double?]
    /// Prompts with fidelity data at each layer distance.
    public var fidelity_prompts_by_layer_distance: [Int]
    public var mean_causal_rank_correlation: Double?
    /// On [−1, 1], 20 bins.
    public var causal_rank_correlation_histogram: CircuitReport.Histogram
    /// Evaluated prompts whose causal check was skipped (fewer than 3 features in the pruned graph).
    public var causal_skipped_prompts: Int
    /// Mean evaluation time per evaluated prompt, and its ratio to their mean trace time.
    public var mean_seconds: Double?
    public var seconds_per_trace_second: Double?
    /// Two-hop prompts planned for the bridge swap (nil: no bridge swap in this job).
    public var bridge_swap_prompts: Int?
    /// Share of them whose swapped top token is Y's answer (a swap that failed to run counts as unsuccessful).
    public var bridge_swap_success: Double?
    /// Mean over the swaps that ran of p(answer) − p(answer | X's features ablated).
    public var bridge_ablation_drop: Double?
    public var bridge_swaps: [BridgeSwapEntry]?

    /// - Parameter traceSeconds: each row's trace time (`/prompts` `seconds`), when at hand.
    public init(_ table: EvaluationTable, swaps: BridgeSwapTable?, traceSeconds: [Double]? = nil) {
        features = table.features
        let evaluated = table.rows.filter(\.isEvaluated)
        prompts = evaluated.count
        let lengths = evaluated.map(\.pathLengthMean)
        mean_path_length = Self.mean(lengths)
        let longest = max(2, (lengths.max() ?? 1).rounded(.up))
        path_length_histogram = CircuitReport.histogram(lengths, lower: 1, upper: longest, bins: Int((longest - 1) * 4))
        let K = evaluated.map(\.pathLengthShares.count).max() ?? 0
        mean_path_length_shares = (0..<K).map { k in
            Self.mean(evaluated.map { k < $0.pathLengthShares.count ? $0.pathLengthShares[k] : 0 }) ?? 0
        }
        fidelity_cosine_by_layer_distance = (0..<table.nLayers).map { d in Self.mean(evaluated.map { $0.fidelityCosine[d] }) }
        fidelity_nmse_by_layer_distance = (0..<table.nLayers).map { d in Self.mean(evaluated.map { $0.fidelityNMSE[d] }) }
        fidelity_prompts_by_layer_distance = (0..<table.nLayers).map { d in evaluated.filter { $0.fidelityCosine[d].isFinite }.count }
        let correlations = evaluated.map(\.causalRankCorrelation)
        mean_causal_rank_correlation = Self.mean(correlations)
        causal_rank_correlation_histogram = CircuitReport.histogram(correlations, lower: -1, upper: 1)
        causal_skipped_prompts = correlations.filter { !$0.isFinite }.count
        mean_seconds = Self.mean(evaluated.map(\.seconds))
        if let traceSeconds, traceSeconds.count == table.count {
            let timed = zip(table.rows, traceSeconds).filter { $0.0.isEvaluated && $0.0.seconds.isFinite && $0.1.isFinite }
            let traced = timed.map(\.1).reduce(0, +)
            seconds_per_trace_second = traced > 0 ? timed.map(\.0.seconds).reduce(0, +) / traced : nil
        }
        if let swaps { add(swaps) }
    }

    /// Sets the bridge-swap fields from the merged swaps.
    mutating func add(_ swaps: BridgeSwapTable) {
        let rows = swaps.rows, ran = rows.filter { $0.status == 1 }
        bridge_swap_prompts = rows.count
        bridge_swap_success = rows.isEmpty ? nil : Double(rows.filter { $0.success == 1 }.count) / Double(rows.count)
        bridge_ablation_drop = Self.mean(ran.map { $0.answerProbability - $0.ablatedAnswerProbability })
        bridge_swaps = rows.map { r in
            let done = r.status == 1
            return BridgeSwapEntry(id: r.id, prompt: r.prompt, bridge: r.bridge, target: r.target, answer: r.answer, target_answer: r.targetAnswer,
                                   status: done ? "done" : "failed", reason: done ? nil : r.reason,
                                   answer_probability: done ? r.answerProbability : nil,
                                   ablated_answer_probability: done ? r.ablatedAnswerProbability : nil,
                                   swapped_top_token: done ? r.swappedTopToken : nil, swapped_top_probability: done ? r.swappedTopProbability : nil,
                                   success: r.success == 1, bridge_features: Int(r.bridgeFeatures), target_features: Int(r.targetFeatures))
        }
    }

    /// Mean of the finite values; nil when there is none.
    static func mean(_ values: [Double]) -> Double? {
        let finite = values.filter(\.isFinite)
        return finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
    }
}
