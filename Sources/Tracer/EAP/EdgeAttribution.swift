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

extension EdgeAttribution {
    /// Edge Attribution Patching: one clean and one corrupt forward (packed as two segments),
    /// one backward pass on the clean run; score of edge (s, r) = `Σ_pos Δout_s · ∂L/∂in_r`.
    ///
    /// - Throws: `TracerError.invalidArgument` naming the pair when its prompts differ in length,
    ///   are empty or too long, or a token, the answer or the wrong token is outside the vocabulary.
    /// - Complexity: three forward passes' worth (the backward costs about two) plus one
    ///   `[nSenders, nPos·dModel] × [nPos·dModel, nReceivers]` product.
    public func eap(_ pair: PromptPair) throws -> PairEdgeScores {
        let runs = try pairRuns(pair)
        let dL = metric.gradient(logits: runs.cleanLogits, pair: pair, cleanLogits: runs.cleanLogits)
        let g = backward(runs.clean, dLogits: [dL])
        return PairEdgeScores(cleanMetric: runs.cleanMetric, corruptMetric: runs.corruptMetric,
                              eap: edgeScores(delta: runs.delta, gradients: g, nPos: pair.clean.count))
    }

    /// EAP-IG (Hanna et al. 2024, "inputs"): `∂L/∂in_r` averaged over `steps` runs whose embedding
    /// senders (token and position) are `corrupt + (k/steps)(clean − corrupt)`, k = 1…steps, each
    /// run's metric gradient taken at its own logits (`.kl` against the clean run's
    /// distribution). Runs are packed as segments, `maxRows` rows per forward.
    ///
    /// - Throws: as `eap(_:)`; `steps` < 1 is an invalid argument.
    public func eapIG(_ pair: PromptPair, steps: Int) throws -> PairEdgeScores {
        guard steps >= 1 else { throw TracerError.invalidArgument("pair \(pair.id): EAP-IG needs at least 1 step, got \(steps)") }
        let runs = try pairRuns(pair)
        let T = pair.clean.count, n = T * model.config.dModel
        let clean0 = runs.cleanEmbeddings, corrupt0 = runs.corruptEmbeddings
        var g = [Float](repeating: 0, count: layout.nReceivers * n)
        let perRun = max(1, Self.maxRows / T)
        var k = 1
        while k <= steps {
            let S = min(perRun, steps - k + 1)
            var input = [Float](repeating: 0, count: S * n)
            for seg in 0..<S {
                let alpha = Float(k + seg) / Float(steps)
                for i in 0..<n { input[seg * n + i] = corrupt0[i] + alpha * (clean0[i] - corrupt0[i]) }
            }
            let stepRun = run(residual: input, nSegments: S, nPos: T, record: true)
            let dL = stepRun.logits.map { metric.gradient(logits: $0, pair: pair, cleanLogits: runs.cleanLogits) }
            let gk = backward(stepRun, dLogits: dL)
            for i in g.indices { g[i] += gk[i] }
            k += S
        }
        let inv = 1 / Float(steps)
        for i in g.indices { g[i] *= inv }
        return PairEdgeScores(cleanMetric: runs.cleanMetric, corruptMetric: runs.corruptMetric,
                              eapIG: edgeScores(delta: runs.delta, gradients: g, nPos: T))
    }

    /// Exact activation patching of every edge: for each, a forward of the clean prompt from the
    /// receiver's layer on (earlier layers are the clean run's), the receiver alone reading
    /// `x + out_s(corrupt) − out_s(clean)`; the score is `L(patched) − L(clean)`. Edges are packed
    /// as segments, `maxRows` rows per forward.
    ///
    /// - Throws: as `eap(_:)`.
    /// - Complexity: one partial forward per edge.
    public func exact(_ pair: PromptPair) throws -> PairEdgeScores {
        let runs = try pairRuns(pair)
        let values = patchedMetrics(runs, pair: pair, patches: graph.edges.map { [ReceiverPatch(receiver: $0.receiver, senders: [$0.sender])] })
        return PairEdgeScores(cleanMetric: runs.cleanMetric, corruptMetric: runs.corruptMetric,
                              exact: values.map { $0 - runs.cleanMetric })
    }
}
