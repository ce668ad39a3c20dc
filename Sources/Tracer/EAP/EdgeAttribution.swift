import Foundation

/// Edge scores of one prompt pair on one model: Edge Attribution Patching (first order), its
/// integrated-gradients variant, and exact activation patching of every edge (the ground truth).
///
/// Sign convention, for every method: the change of the metric when the edge's sender output
/// is replaced by its corrupt value in the clean run, `L(patched) − L(clean)`:
/// - EAP: `Σ_pos (out_s(corrupt) − out_s(clean)) · ∂L/∂in_r` at the clean run.
/// - EAP-IG (`steps` = K): the same difference times the mean of `∂L/∂in_r` over K runs whose
///   embeddings are `corrupt + (k/K)(clean − corrupt)`, k = 1…K (Hanna et al. 2024, "inputs").
/// - Exact: a full forward of the clean prompt where receiver r's input alone has sender s's
///   clean output replaced by its corrupt one.
public struct EdgeAttribution: Sendable {
    public let model: Transformer
    public let metric: EAPMetric
    public let graph: ComponentGraph

    public init(model: Transformer, metric: EAPMetric) {
        self.model = model
        self.metric = metric
        graph = ComponentGraph(config: model.config)
    }
}

/// What one pair gives: per-edge scores in `graph.edges` order, and the metric on both prompts.
public struct PairEdgeScores: Sendable {
    /// L on the clean and the corrupt prompt.
    public var cleanMetric: Double
    public var corruptMetric: Double
    /// Per edge, `graph.edges.count` each; nil when not asked for.
    public var eap: [Double]?
    public var eapIG: [Double]?
    public var exact: [Double]?

    public init(cleanMetric: Double, corruptMetric: Double, eap: [Double]? = nil, eapIG: [Double]? = nil, exact: [Double]? = nil) {
        self.cleanMetric = cleanMetric
        self.corruptMetric = corruptMetric
        self.eap = eap
        self.eapIG = eapIG
        self.exact = exact
    }
}

// The engine (to be written): each returns the metric on both prompts and the one method's
// per-edge scores. A pair whose prompts differ in length, or whose tokens are out of range,
// throws `TracerError.invalidArgument` naming the pair.
extension EdgeAttribution {
    public func eap(_ pair: PromptPair) throws -> PairEdgeScores { throw TracerError.invalidArgument("EAP is not implemented yet") }
    public func eapIG(_ pair: PromptPair, steps: Int) throws -> PairEdgeScores { throw TracerError.invalidArgument("EAP-IG is not implemented yet") }
    public func exact(_ pair: PromptPair) throws -> PairEdgeScores { throw TracerError.invalidArgument("exact patching is not implemented yet") }
}
