import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Graph evaluation: path lengths, fidelity and causal agreement against direct computations,
/// and constrained patching against the golden adjacency (reference README §10).
@Suite struct EvaluationTests {
    /// Path-length shares from dense float64 matrix powers of the normalised adjacency.
    @Test(arguments: referenceCases())
    func pathLengthsMatchMatrixPowers(run: ReferenceRun) throws {
        let graph = try goldenGraph(run).graph
        let n = graph.layout.count, dense = graph.adjacency.dense()
        var b = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            let s = (0..<n).reduce(0.0) { $0 + abs(Double(dense[r * n + $1])) }
            for j in 0..<n { b[r * n + j] = abs(Double(dense[r * n + j])) / max(s, 1e-10) }
        }
        var v = logitWeights(graph).map(Double.init), reached: [Double] = []
        for _ in 0..<(2 * graph.nLayers + 4) {
            var next = [Double](repeating: 0, count: n)
            for i in 0..<n where v[i] != 0 { for j in 0..<n { next[j] += v[i] * b[i * n + j] } }
            reached.append(graph.layout.tokenRange.reduce(0.0) { $0 + next[$1] })
            v = next
        }
        #expect(v.allSatisfy { $0 == 0 }, "\(run): paths longer than 2·nLayers + 4")
        let total = reached.reduce(0, +)
        let expected = reached.map { $0 / total }
        let ours = PathLengths(graph)
        #expect(ours.shares.count <= expected.count)
        for (k, e) in expected.enumerated() {
            let o = k < ours.shares.count ? ours.shares[k] : 0
            #expect(abs(o - e) <= 1e-5, "\(run): share of length \(k + 1): \(o) vs \(e)")
        }
        #expect(abs(ours.shares.reduce(0, +) - 1) <= 1e-9)
        #expect(ours.shares.first.map { $0 > 0 } == true, "\(run): direct token → logit edges carry influence")
        let mean = expected.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * $1.element }
        #expect(abs(ours.mean - mean) <= 1e-4)
    }

    /// The Neumann terms sum to the pruning's node influence.
    @Test(arguments: referenceCases())
    func neumannTermsSumToInfluence(run: ReferenceRun) throws {
        let (graph, pruning) = try goldenGraph(run)
        var total = [Float](repeating: 0, count: graph.layout.count)
        forEachNeumannTerm(graph.adjacency, start: logitWeights(graph)) { _, term in for i in term.indices { total[i] += term[i] } }
        let c = closeness(total, pruning.nodeInfluence, absScale: 1e-5, rel: 1e-4)
        #expect(c.ok, "\(run): \(c)")
    }

    @Test func spearmanCorrelationOfKnownSamples() throws {
        #expect(spearmanCorrelation([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(spearmanCorrelation([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        // d = (0, 1, −1, 0): 1 − 6·2/(4·15) = 0.8
        #expect(abs(try #require(spearmanCorrelation([1, 2, 3, 4], [1, 3, 2, 4])) - 0.8) < 1e-12)
        // Ties share their mean rank: ranks (1.5, 1.5, 3) and (1, 2, 3) → r = √3/2
        #expect(abs(try #require(spearmanCorrelation([5, 5, 7], [1, 2, 3])) - 3.0.squareRoot() / 2) < 1e-12)
        #expect(spearmanCorrelation([1, 1, 1], [1, 2, 3]) == nil)
        #expect(spearmanCorrelation([1], [1]) == nil)
    }

    /// Constrained patching over every layer moves the demeaned last-position logits by the
    /// graph's direct effects: `Σ (new − old)/old · A[logit, feature]` with circuit-tracer's own
    /// adjacency (README §10; Gemma-2's final softcap makes the relation non-linear: skipped).
    @Test(arguments: referenceCases())
    func constrainedAllChangesEqualAdjacencyColumns(run: ReferenceRun) throws {
        let m = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        guard m.model.config.finalLogitSoftcap == nil else { return }
        let graph = try goldenGraph(run).graph
        let clean = try m.cleanRun(tokens: graph.inputTokens)
        // The three feature nodes with the largest direct effect on the top logit, scaled by 3, 0 and −1.
        let top = graph.layout.index(of: .logit(rank: 0))
        let nodes = graph.layout.featureRange.sorted { abs(graph.adjacency[top, $0]) > abs(graph.adjacency[top, $1]) }.prefix(3)
        let factors: [Float] = [3, 0, -1]
        let set = zip(nodes, factors).map { node, k in
            let f = graph.feature(selected: node)
            return FeatureIntervention(layer: f.layer, position: f.pos, feature: f.index, value: k * graph.activation(selected: node))
        }
        let out = try m.intervene(clean, [set], mode: .constrained(0..<m.model.config.nLayers))[0]
        let V = m.model.config.nVocab, T = clean.nPos
        func demeaned(_ logits: [Float], _ token: Int) -> Double {
            let last = logits[((T - 1) * V)..<(T * V)].map(Double.init)
            return last[token] - last.reduce(0, +) / Double(V)
        }
        for (rank, target) in graph.logitTargets.enumerated() {
            let row = graph.layout.index(of: .logit(rank: rank))
            let predicted = zip(nodes, factors).reduce(0.0) { $0 + Double($1.1 - 1) * Double(graph.adjacency[row, $1.0]) }
            let actual = demeaned(out.logits, target.tokenId) - demeaned(clean.logits, target.tokenId)
            #expect(abs(actual - predicted) <= 2e-5 * max(1, abs(predicted)), "\(run) logit \(rank): \(actual) vs \(predicted)")
        }
    }

    /// At the ablated feature's own layer the real and the replacement model change the residual
    /// alike (the MLP input is untouched there): cosine 1, NMSE 0. Further layers diverge.
    @Test(arguments: referenceCases())
    func fidelityAtDistanceZeroIsExact(run: ReferenceRun) throws {
        let session = try TraceSession(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let trace = try session.trace(tokens: try run.array("input_tokens").ints, options: run.attributionOptions)
        let e = try session.replacement.evaluate(trace, features: 5)
        #expect(e.fidelityFeatures == min(5, trace.graph.layout.featureRange.filter { trace.pruning.nodeMask[$0] }.count))
        #expect(e.fidelityCosine.count == trace.graph.nLayers)
        let cos0 = try #require(e.fidelityCosine[0]), nmse0 = try #require(e.fidelityNMSE[0])
        #expect(abs(cos0 - 1) <= 1e-5 && nmse0 <= 1e-8, "\(run): distance 0 cosine \(cos0), NMSE \(nmse0)")
        for c in e.fidelityCosine.compactMap({ $0 }) { #expect((-1.0001...1.0001).contains(c)) }
        if let r = e.causalRankCorrelation { #expect((-1.0...1.0).contains(r)) } else { #expect(e.causalFeatures == 0) }
        #expect(abs(e.pathLengths.shares.reduce(0, +) - 1) <= 1e-9)
    }

    /// A trace that keeps its forward pass for the evaluation has the same graph, and its
    /// evaluation (from that pass) equals the one that runs the model again.
    @Test(arguments: referenceCases())
    func evaluationFromTheKeptForwardPassIsTheSame(run: ReferenceRun) throws {
        let session = try TraceSession(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tokens = try run.array("input_tokens").ints
        let plain = try session.trace(tokens: tokens, options: run.attributionOptions)
        let kept = try session.trace(tokens: tokens, options: run.attributionOptions, keepingForward: true)
        #expect(plain.forward == nil)
        let forward = try #require(kept.forward)
        #expect(forward.nPos == tokens.count && !forward.residPre.isEmpty && !forward.mlpOut.isEmpty)
        // Equal up to round-off: tests run in parallel and share the process's BLAS thread setting.
        let adjacency = closeness(kept.graph.adjacency.dense(), plain.graph.adjacency.dense(), absScale: 1e-6, rel: 1e-4)
        #expect(adjacency.ok, "\(run): \(adjacency)")
        #expect(kept.pruning.nodeMask == plain.pruning.nodeMask)
        let a = try session.replacement.evaluate(plain, features: 5), b = try session.replacement.evaluate(kept, features: 5)
        #expect(a.pathLengths.shares.count == b.pathLengths.shares.count)
        for (x, y) in zip(a.pathLengths.shares, b.pathLengths.shares) { #expect(abs(x - y) <= 1e-5, "\(run): \(x) vs \(y)") }
        #expect(a.fidelityFeatures == b.fidelityFeatures && a.causalFeatures == b.causalFeatures)
        for (x, y) in zip(a.fidelityCosine + a.fidelityNMSE, b.fidelityCosine + b.fidelityNMSE) {
            #expect((x == nil) == (y == nil))
            if let x, let y { #expect(abs(x - y) <= 1e-4 * max(1, abs(x)), "\(run): \(x) vs \(y)") }
        }
        if let x = a.causalRankCorrelation, let y = b.causalRankCorrelation { #expect(abs(x - y) <= 1e-6, "\(run): \(x) vs \(y)") }
    }
}
