import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Exact activation patching of edges against independent computations: the model's own
/// forward pass (`Transformer.forward`, `Transformer.mlp`) and hand-written final norm and
/// unembedding.
@Suite struct EAPExactTests {
    /// The metric of the final residual's last row `x` `[d]`, by hand: final norm, a plain
    /// loop for `x · W_U`, the final softcap.
    static func metric(ofFinal x: [Float], _ model: Transformer, _ metric: EAPMetric, _ pair: PromptPair, cleanLogits: [Float]) -> Double {
        let c = model.config, w = model.weights, d = c.dModel, V = c.nVocab
        var normed = [Float](repeating: 0, count: d), scale: [Float] = [0]
        normForward(out: &normed, normalized: nil, scale: &scale, x: x, weight: w.lnFinal.weight, bias: w.lnFinal.bias, rows: 1, dim: d,
                    kind: c.norm, eps: c.normEps)
        var logits = [Float](repeating: 0, count: V)
        for v in 0..<V {
            var s: Double = 0
            for i in 0..<d { s += Double(normed[i]) * Double(w.unembedding[i * V + v]) }
            logits[v] = Float(s) + (w.unembeddingBias?[v] ?? 0)
            if let cap = c.finalLogitSoftcap { logits[v] = cap * tanh(logits[v] / cap) }
        }
        return metric.value(logits: logits, pair: pair, cleanLogits: cleanLogits)
    }

    static func lastRow(_ a: [Float], _ d: Int) -> [Float] { Array(a[(a.count - d)...]) }

    /// Patching every edge into every receiver at once makes every receiver read the corrupt
    /// residual: the metric is the corrupt prompt's.
    @Test(arguments: EAPFixtures.models)
    func patchingEveryEdgeGivesTheCorruptRun(model: String) throws {
        let eng = EdgeAttribution(model: try EAPFixtures.model(model), metric: .logitDiff)
        let pair = EAPFixtures.pair(eng.model)
        let runs = try eng.pairRuns(pair)
        let g = eng.graph
        let all = g.receivers.indices.map { r in ReceiverPatch(receiver: r, senders: g.senders.indices.filter { ComponentGraph.feeds(g.senders[$0], g.receivers[r]) }) }
        let patched = eng.patchedMetrics(runs, pair: pair, patches: [all, []])
        #expect(abs(runs.cleanMetric - runs.corruptMetric) > 1e-2, "\(model): the prompts barely differ; the test would prove little")
        #expect(abs(patched[0] - runs.corruptMetric) <= 1e-4 * (1 + abs(runs.corruptMetric)), "\(model): all edges patched \(patched[0]), corrupt \(runs.corruptMetric)")
        #expect(abs(patched[1] - runs.cleanMetric) <= 1e-5 * (1 + abs(runs.cleanMetric)), "\(model): nothing patched \(patched[1]), clean \(runs.cleanMetric)")
    }

    /// Edges into `logits` and into the last MLP, recomputed from `Transformer.forward`'s records
    /// of both prompts.
    @Test(arguments: EAPFixtures.models)
    func edgesIntoLogitsAndTheLastMLPMatchAHandComputation(model name: String) throws {
        let model = try EAPFixtures.model(name)
        let c = model.config, d = c.dModel, L = c.nLayers, T = 7
        for metric in [EAPMetric.logitDiff, .prob] {
            let eng = EdgeAttribution(model: model, metric: metric)
            let pair = EAPFixtures.pair(model, nPos: T)
            let scores = try eng.exact(pair)
            let clean = try model.forward(tokens: pair.clean), corrupt = try model.forward(tokens: pair.corrupt)
            var cleanLogits = clean.lastLogits
            if let cap = c.finalLogitSoftcap { cleanLogits = cleanLogits.map { cap * tanh($0 / cap) } }
            let cleanMetric = metric.value(logits: cleanLogits, pair: pair, cleanLogits: cleanLogits)
            #expect(abs(scores.cleanMetric - cleanMetric) <= 1e-5 * (1 + abs(cleanMetric)), "\(name) \(metric): clean metric")
            // Δout of the token embeddings and of the last two MLPs (biases cancel).
            let deltas: [(ComponentGraph.Sender, [Float])] = [
                (.tokenEmbedding, zip(corrupt.tokenEmbeddings, clean.tokenEmbeddings).map { $0 - $1 }),
                (.mlp(layer: L - 1), zip(corrupt.mlpOut[L - 1], clean.mlpOut[L - 1]).map { $0 - $1 }),
                (.mlp(layer: L - 2), zip(corrupt.mlpOut[L - 2], clean.mlpOut[L - 2]).map { $0 - $1 }),
            ]
            func score(_ s: ComponentGraph.Sender, _ r: ComponentGraph.Receiver) throws -> Double {
                let e = ComponentGraph.Edge(sender: eng.graph.senders.firstIndex(of: s)!, receiver: eng.graph.receivers.firstIndex(of: r)!)
                return scores.exact![try #require(eng.graph.edges.firstIndex(of: e))]
            }
            for (s, delta) in deltas {
                // Into logits: the final norm reads residFinal + Δ.
                let x = zip(Self.lastRow(clean.residFinal, d), Self.lastRow(delta, d)).map { $0 + $1 }
                let byHand = Self.metric(ofFinal: x, model, metric, pair, cleanLogits: cleanLogits) - cleanMetric
                let ours = try score(s, .logits)
                #expect(abs(ours - byHand) <= 1e-3 * abs(byHand) + 1e-5 * (1 + abs(cleanMetric)), "\(name) \(metric) \(s)->logits: \(ours) vs \(byHand)")
                guard s != .mlp(layer: L - 1) else { continue }
                // Into the last MLP: it reads LN2(residMid + Δ); the residual goes on unpatched.
                let mid = clean.residMid[L - 1]
                let xin = zip(mid, delta).map { $0 + $1 }
                var ln2 = [Float](repeating: 0, count: T * d), s2 = [Float](repeating: 0, count: T)
                let lw = model.weights.layers[L - 1]
                normForward(out: &ln2, normalized: nil, scale: &s2, x: xin, weight: lw.ln2.weight, bias: lw.ln2.bias, rows: T, dim: d, kind: c.norm, eps: c.normEps)
                var out = model.mlp(layer: L - 1, input: ln2, nPos: T)
                if let post = lw.postMLPNorm {
                    var normed = out
                    normForward(out: &normed, normalized: nil, scale: &s2, x: out, weight: post.weight, bias: nil, rows: T, dim: d, kind: .rmsNorm, eps: c.normEps)
                    out = normed
                }
                let final = zip(Self.lastRow(mid, d), Self.lastRow(out, d)).map { $0 + $1 }
                let mlpByHand = Self.metric(ofFinal: final, model, metric, pair, cleanLogits: cleanLogits) - cleanMetric
                let mlpOurs = try score(s, .mlp(layer: L - 1))
                #expect(abs(mlpOurs - mlpByHand) <= 1e-3 * abs(mlpByHand) + 1e-5 * (1 + abs(cleanMetric)),
                        "\(name) \(metric) \(s)->m\(L - 1): \(mlpOurs) vs \(mlpByHand)")
            }
        }
    }
}
