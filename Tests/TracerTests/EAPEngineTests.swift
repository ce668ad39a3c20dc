import Foundation
import Testing
import TestSupport
@testable import Tracer

/// The engine's pieces: node index arithmetic, sender outputs against the model's own forward
/// pass, and the validation of prompt pairs.
@Suite struct EAPEngineTests {
    /// `EAPLayout`'s indices are the positions of the nodes in `ComponentGraph`'s lists.
    @Test(arguments: [(3, 4, 2, true), (2, 4, 4, false), (1, 1, 1, true)])
    func layoutMatchesTheGraph(nLayers: Int, nHeads: Int, nKVHeads: Int, learned: Bool) {
        let g = ComponentGraph(nLayers: nLayers, nHeads: nHeads, nKVHeads: nKVHeads, learnedPositions: learned)
        let lay = EAPLayout(nLayers: nLayers, nHeads: nHeads, nKVHeads: nKVHeads, nEmbeddingSenders: learned ? 2 : 1)
        #expect(lay.nSenders == g.senders.count && lay.nReceivers == g.receivers.count)
        for l in 0..<nLayers {
            for h in 0..<nHeads {
                #expect(g.senders[lay.head(l, h)] == .head(layer: l, head: h))
                #expect(g.receivers[lay.query(l, h)] == .query(layer: l, head: h))
                #expect(lay.layer(ofSender: lay.head(l, h)) == l && lay.layer(ofReceiver: lay.query(l, h)) == l)
            }
            for k in 0..<nKVHeads {
                #expect(g.receivers[lay.key(l, k)] == .key(layer: l, kvHead: k))
                #expect(g.receivers[lay.value(l, k)] == .value(layer: l, kvHead: k))
            }
            #expect(g.senders[lay.mlpSender(l)] == .mlp(layer: l) && g.receivers[lay.mlpReceiver(l)] == .mlp(layer: l))
        }
        #expect(g.receivers[lay.logits] == .logits && lay.layer(ofReceiver: lay.logits) == nLayers)
        #expect(lay.layer(ofSender: 0) == nil)
    }

    /// The senders' outputs plus the biases (`b_O`, `b_out`) sum to the residual before and in
    /// the middle of every layer and after the last, as `Transformer.forward` records them.
    @Test(arguments: EAPFixtures.models)
    func sendersSumToTheResidual(model name: String) throws {
        let model = try EAPFixtures.model(name)
        let eng = EdgeAttribution(model: model, metric: .logitDiff)
        let c = model.config, d = c.dModel, pair = EAPFixtures.pair(model), T = pair.clean.count, n = T * d, lay = eng.layout
        let rec = try model.forward(tokens: pair.clean)
        let runs = try eng.pairRuns(pair)
        var sum = [Float](repeating: 0, count: n)
        func add(_ s: Int) { for i in 0..<n { sum[i] += runs.cleanSenders[s * n + i] } }
        func addBias(_ b: [Float]?) { if let b { for i in 0..<n { sum[i] += b[i % d] } } }
        func check(_ what: String, _ expected: [Float]) {
            let cl = closeness(sum, expected, absScale: 1e-5, rel: 1e-4)
            #expect(cl.ok, "\(name) \(what): \(cl)")
        }
        for s in 0..<lay.nEmbeddingSenders { add(s) }
        for l in 0..<c.nLayers {
            check("resid_pre \(l)", rec.residPre[l])
            for h in 0..<c.nHeads { add(lay.head(l, h)) }
            addBias(model.weights.layers[l].bO)
            check("resid_mid \(l)", rec.residMid[l])
            add(lay.mlpSender(l))
            addBias(model.weights.layers[l].bOut)
        }
        check("resid_final", rec.residFinal)
        var logits = rec.lastLogits
        if let cap = c.finalLogitSoftcap { logits = logits.map { cap * tanh($0 / cap) } }
        #expect(closeness(runs.cleanLogits, logits, absScale: 1e-5, rel: 1e-4).ok, "\(name): logits")
    }

    @Test func badPairsAreRejectedNamingThePairAndTheReason() throws {
        let eng = EdgeAttribution(model: try EAPFixtures.model("demo"), metric: .logitDiff)
        let V = eng.model.config.nVocab
        let good = PromptPair(id: "p7", clean: [1, 2, 3], corrupt: [1, 4, 3], answer: 5, wrong: 6)
        var shorter = good; shorter.corrupt = [1, 4]
        var badToken = good; badToken.corrupt = [1, V, 3]
        var badAnswer = good; badAnswer.answer = -1
        var empty = good; empty.clean = []; empty.corrupt = []
        let cases: [(PromptPair, String)] = [
            (shorter, "pair p7: the clean prompt has 3 tokens and the corrupt one 2; a pair's prompts must have the same length"),
            (badToken, "pair p7: corrupt token 1 (id \(V)) is outside the vocabulary (size \(V))"),
            (badAnswer, "pair p7: the answer token (id -1) is outside the vocabulary (size \(V))"),
            (empty, "pair p7: a prompt is empty"),
        ]
        for (pair, message) in cases {
            #expect(throws: TracerError.invalidArgument(message)) { try eng.eap(pair) }
            #expect(throws: TracerError.invalidArgument(message)) { try eng.eapIG(pair, steps: 2) }
            #expect(throws: TracerError.invalidArgument(message)) { try eng.exact(pair) }
        }
        _ = try eng.eap(good)
    }
}
