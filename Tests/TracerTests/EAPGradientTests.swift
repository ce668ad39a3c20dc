import Foundation
import Testing
import TestSupport
@testable import Tracer

/// EAP's first-order term against central finite differences of the real forward pass: for an
/// edge (s, r), `score = Δout_s · ∂L/∂in_r` must equal `d/dt L(clean with in_r = x + t·Δout_s)`
/// at t = 0, on every model, for receivers of every kind and every metric.
@Suite struct EAPGradientTests {
    /// Step of the central differences. The metric is float32: its round-off (~1e-6 relative)
    /// divided by h stays well under the tolerance; the truncation error is cancelled to O(h⁴).
    static let h: Float = 1e-2

    struct Check: CustomStringConvertible {
        var edge: String, analytic: Double, numeric: Double
        var description: String { "\(edge): analytic \(analytic), finite difference \(numeric)" }
    }

    /// The edges checked on `model`: receivers of every kind (queries, keys, values, MLPs, logits;
    /// first and last layers) with senders of every kind feeding them.
    static func edges(_ eng: EdgeAttribution) -> [(ComponentGraph.Sender, ComponentGraph.Receiver)] {
        let c = eng.model.config, L = c.nLayers, H = c.nHeads, KV = c.nKVHeads
        let e: [(ComponentGraph.Sender, ComponentGraph.Receiver)] = [
            (.tokenEmbedding, .query(layer: 0, head: 0)),
            (.tokenEmbedding, .key(layer: 0, kvHead: KV - 1)),
            (.tokenEmbedding, .value(layer: 0, kvHead: 0)),
            (.head(layer: 0, head: 1), .mlp(layer: 0)),
            (.head(layer: 0, head: H - 1), .query(layer: L - 1, head: H - 1)),
            (.mlp(layer: 0), .key(layer: L - 1, kvHead: 0)),
            (.head(layer: L - 2, head: 0), .value(layer: L - 1, kvHead: KV - 1)),
            (.mlp(layer: L - 2), .mlp(layer: L - 1)),
            (.tokenEmbedding, .mlp(layer: L - 1)),
            (.mlp(layer: L - 1), .logits),
            (.head(layer: L - 1, head: 0), .logits),
            (.tokenEmbedding, .logits),
        ]
        return e
    }

    /// L of runs from `input` `[T, d]` in which receiver `r` reads `x + t·v` (v `[T, d]`), one
    /// per t: the direction is put in the place of an embedding sender's corrupt output, which
    /// no run recomputes.
    static func metricAlong(_ eng: EdgeAttribution, input: [Float], nPos T: Int, receiver r: Int, direction v: [Float], ts: [Float],
                            pair: PromptPair, cleanLogits: [Float]) -> [Double] {
        let n = T * eng.model.config.dModel, nS = eng.layout.nSenders
        var corrupt = [Float](repeating: 0, count: nS * n)
        for i in 0..<n { corrupt[i] = v[i] }
        let patch = EAPPatch(clean: [Float](repeating: 0, count: nS * n), corrupt: corrupt,
                             segments: ts.map { [ReceiverPatch(receiver: r, senders: [0], alpha: $0)] })
        let out = eng.run(residual: Array((0..<ts.count).map { _ in input }.joined()), nSegments: ts.count, nPos: T, patch: patch)
        return out.logits.map { eng.metric.value(logits: $0, pair: pair, cleanLogits: cleanLogits) }
    }

    /// `d/dt L(x + t·v at receiver r)` at t = 0: central differences at h and h/2 combined by
    /// Richardson extrapolation, `(4·D(h/2) − D(h)) / 3`, which cancels the h² term (the KL of
    /// the Llama case curves enough for plain `D(h)` to be 1 % off).
    static func derivative(_ eng: EdgeAttribution, input: [Float], nPos T: Int, receiver r: Int, direction v: [Float],
                           pair: PromptPair, cleanLogits: [Float]) -> Double {
        let f = metricAlong(eng, input: input, nPos: T, receiver: r, direction: v, ts: [h, -h, h / 2, -h / 2], pair: pair, cleanLogits: cleanLogits)
        let dh = (f[0] - f[1]) / Double(2 * h), dh2 = (f[2] - f[3]) / Double(h)
        return (4 * dh2 - dh) / 3
    }

    static func expectClose(_ checks: [Check], _ what: String) {
        // Relative 1e-2, plus an absolute 1e-3 of the largest score checked (edges far smaller
        // than the model's main ones are compared at that scale).
        let scale = checks.map { abs($0.analytic) }.max() ?? 0
        #expect(scale > 1e-6, "\(what): every checked score is ~0, the test would prove nothing")
        for ch in checks {
            #expect(abs(ch.analytic - ch.numeric) <= 1e-2 * abs(ch.numeric) + 1e-3 * scale, "\(what) \(ch)")
        }
    }

    /// The checks of `metric` on `model` at the clean prompt: EAP's scores against differences.
    static func cleanChecks(_ name: String, metric: EAPMetric) throws -> [Check] {
        let eng = EdgeAttribution(model: try EAPFixtures.model(name), metric: metric)
        let pair = EAPFixtures.pair(eng.model)
        let scores = try eng.eap(pair).eap!
        let runs = try eng.pairRuns(pair)
        let T = pair.clean.count, n = T * eng.model.config.dModel
        return try edges(eng).map { s, r in
            let si = eng.graph.senders.firstIndex(of: s)!, ri = eng.graph.receivers.firstIndex(of: r)!
            let e = try #require(eng.graph.edges.firstIndex(of: ComponentGraph.Edge(sender: si, receiver: ri)), "no edge \(s)->\(r)")
            let v = Array(runs.delta[(si * n)..<((si + 1) * n)])
            return Check(edge: eng.graph.name(of: eng.graph.edges[e]), analytic: scores[e],
                         numeric: derivative(eng, input: runs.cleanEmbeddings, nPos: T, receiver: ri, direction: v, pair: pair, cleanLogits: runs.cleanLogits))
        }
    }

    @Test(arguments: EAPFixtures.models)
    func logitDiffGradientMatchesFiniteDifferences(model: String) throws {
        Self.expectClose(try Self.cleanChecks(model, metric: .logitDiff), "\(model) logit-diff")
    }

    @Test(arguments: EAPFixtures.models)
    func probGradientMatchesFiniteDifferences(model: String) throws {
        Self.expectClose(try Self.cleanChecks(model, metric: .prob), "\(model) prob")
    }

    /// KL's gradient is 0 at the clean run, so it is checked where EAP-IG takes it: at the run
    /// halfway between the corrupt and the clean embeddings.
    @Test(arguments: EAPFixtures.models)
    func klGradientMatchesFiniteDifferencesBetweenThePrompts(model: String) throws {
        let eng = EdgeAttribution(model: try EAPFixtures.model(model), metric: .kl)
        let pair = EAPFixtures.pair(eng.model)
        let runs = try eng.pairRuns(pair)
        let T = pair.clean.count, n = T * eng.model.config.dModel
        let input = zip(runs.cleanEmbeddings, runs.corruptEmbeddings).map { 0.5 * ($0 + $1) }
        let half = eng.run(residual: input, nSegments: 1, nPos: T, record: true)
        let g = eng.backward(half, dLogits: [EAPMetric.kl.gradient(logits: half.logits[0], pair: pair, cleanLogits: runs.cleanLogits)])
        let checks = Self.edges(eng).map { s, r in
            let si = eng.graph.senders.firstIndex(of: s)!, ri = eng.graph.receivers.firstIndex(of: r)!
            let v = Array(runs.delta[(si * n)..<((si + 1) * n)])
            var analytic = 0.0
            for i in 0..<n { analytic += Double(v[i]) * Double(g[ri * n + i]) }
            return Check(edge: "\(eng.graph.name(of: s))->\(eng.graph.name(of: r))", analytic: analytic,
                         numeric: Self.derivative(eng, input: input, nPos: T, receiver: ri, direction: v, pair: pair, cleanLogits: runs.cleanLogits))
        }
        Self.expectClose(checks, "\(model) kl")
    }

    /// EAP-IG with one step takes its gradient at the clean run: it is EAP.
    @Test func oneStepIGIsEAP() throws {
        let eng = EdgeAttribution(model: try EAPFixtures.model("demo"), metric: .logitDiff)
        let pair = EAPFixtures.pair(eng.model)
        let a = try eng.eap(pair), b = try eng.eapIG(pair, steps: 1)
        let c = closeness(b.eapIG!.map(Float.init), a.eap!.map(Float.init), absScale: 1e-5, rel: 1e-4)
        #expect(c.ok, "\(c)")
        #expect(abs(a.cleanMetric - b.cleanMetric) < 1e-5 && a.corruptMetric == b.corruptMetric)
        #expect(throws: TracerError.invalidArgument("pair seed-1: EAP-IG needs at least 1 step, got 0")) { try eng.eapIG(pair, steps: 0) }
    }
}
