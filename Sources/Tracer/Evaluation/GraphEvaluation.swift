/// How well one attribution graph holds up when checked against the model: the length of its
/// paths, the fidelity of its replacement model to the real one under perturbation, and the
/// agreement of its influence ranking with the effects of ablations.
public struct GraphEvaluation: Sendable, Equatable {
    public var pathLengths: PathLengths
    /// Perturbation fidelity per layer distance `0..<nLayers`: over the ablated features that
    /// reach that distance, the mean cosine similarity between the change of the residual stream
    /// in the real model (`iterative`) and in the local replacement model (`replacement`), at
    /// the layer `distance` after the feature's (its residual after that block), at the
    /// positions from the feature's on. nil where no ablation changed the residual there.
    public var fidelityCosine: [Double?]
    /// Likewise, the mean normalised MSE `‖Δreal − Δreplacement‖² / ‖Δreal‖²`.
    public var fidelityNMSE: [Double?]
    /// Features ablated for the fidelity check (the most influential of the pruned graph).
    public var fidelityFeatures: Int
    /// Spearman correlation between the pruning's influence of the pruned graph's features on
    /// the top logit and |change of the top logit's demeaned logit| when each is ablated alone
    /// (`iterative`); nil when the graph has fewer than 3 features (or a ranking is constant).
    public var causalRankCorrelation: Double?
    /// Features ranked for the causal check (0 when skipped).
    public var causalFeatures: Int
}

extension ReplacementModel {
    /// Evaluates `trace` (a graph of this model) with `features` ablations per check.
    ///
    /// - Parameters:
    ///   - features: N, the number of features ablated for each check (the most influential
    ///     of the pruned graph overall for fidelity; on the top logit for causal agreement).
    ///   - clean: the clean run of the graph's tokens, when already at hand; else made from
    ///     the trace's forward pass when it kept it (`TraceResult.forward`), else run.
    /// - Complexity: two batched intervened passes, each ablation recomputing the positions
    ///   from its feature's on (at most `2N · nPos` rows in all), the clean run unless given or
    ///   kept by the trace, and the Neumann series of the graph twice.
    public func evaluate(_ trace: TraceResult, features n: Int, clean: CleanRun? = nil) throws -> GraphEvaluation {
        guard n >= 1 else { throw TracerError.invalidArgument("evaluation features is \(n); it must be at least 1") }
        let graph = trace.graph, layout = graph.layout, L = model.config.nLayers, T = graph.inputTokens.count
        let clean = try clean ?? trace.forward.map { try cleanRun(tokens: graph.inputTokens, record: $0) } ?? cleanRun(tokens: graph.inputTokens)
        let kept = layout.featureRange.filter { trace.pruning.nodeMask[$0] }

        /// The `n` kept feature nodes with the largest `score`, ties by node index.
        func strongest(_ score: [Float]) -> [Int] {
            Array(kept.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }.prefix(n))
        }
        let fidelityNodes = strongest(trace.pruning.nodeInfluence)
        var topLogitInfluence = [Float](repeating: 0, count: layout.count)
        if kept.count >= 3, !graph.logitTargets.isEmpty {
            var start = [Float](repeating: 0, count: layout.count)
            start[layout.index(of: .logit(rank: 0))] = 1
            forEachNeumannTerm(graph.adjacency, start: start) { _, term in
                for i in layout.featureRange { topLogitInfluence[i] += term[i] }
            }
        }
        let causalNodes = kept.count >= 3 && !graph.logitTargets.isEmpty ? strongest(topLogitInfluence) : []

        func ablation(_ node: Int) -> [FeatureIntervention] {
            let f = graph.feature(selected: node)
            return [FeatureIntervention(layer: f.layer, position: f.pos, feature: f.index, value: 0)]
        }
        let realNodes = Array(Set(fidelityNodes + causalNodes)).sorted()
        let real = try intervene(clean, realNodes.map(ablation), mode: .iterative, recording: .residuals)
        let realOf = Dictionary(uniqueKeysWithValues: zip(realNodes, real))
        let replaced = try intervene(clean, fidelityNodes.map(ablation), mode: .replacement, recording: .residuals)

        // Fidelity: the two residual changes, per layer distance, from the feature's position on.
        let d = model.config.dModel
        let cleanResiduals = (0..<L).map { $0 + 1 < L ? clean.record.residPre[$0 + 1] : clean.record.residFinal }
        var cosines = [[Double]](repeating: [], count: L), errors = [[Double]](repeating: [], count: L)
        for (node, replacement) in zip(fidelityNodes, replaced) {
            let f = graph.feature(selected: node), r = realOf[node]!
            for m in f.layer..<L {
                var dot = 0.0, realSq = 0.0, replSq = 0.0, diffSq = 0.0
                for i in (f.pos * d)..<(T * d) {
                    let a = Double(r.residuals[m][i] - cleanResiduals[m][i])
                    let b = Double(replacement.residuals[m][i] - cleanResiduals[m][i])
                    dot += a * b; realSq += a * a; replSq += b * b; diffSq += (a - b) * (a - b)
                }
                guard realSq > 0 else { continue }
                errors[m - f.layer].append(diffSq / realSq)
                if replSq > 0 { cosines[m - f.layer].append(dot / (realSq * replSq).squareRoot()) }
            }
        }
        func mean(_ x: [Double]) -> Double? { x.isEmpty ? nil : x.reduce(0, +) / Double(x.count) }

        // Causal agreement: influence on the top logit against the ablation's effect on it.
        var correlation: Double?
        if !causalNodes.isEmpty {
            let V = model.config.nVocab, top = graph.logitTargets[0].tokenId
            func demeanedTop(_ logits: [Float]) -> Double {
                let last = logits[((T - 1) * V)...]
                return Double(last[last.startIndex + top]) - last.reduce(0.0) { $0 + Double($1) } / Double(V)
            }
            let before = demeanedTop(clean.logits)
            let effects = causalNodes.map { abs(demeanedTop(realOf[$0]!.logits) - before) }
            correlation = spearmanCorrelation(causalNodes.map { Double(topLogitInfluence[$0]) }, effects)
        }
        return GraphEvaluation(pathLengths: PathLengths(graph), fidelityCosine: cosines.map(mean), fidelityNMSE: errors.map(mean),
                               fidelityFeatures: fidelityNodes.count, causalRankCorrelation: correlation,
                               causalFeatures: causalNodes.count)
    }
}
