import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

/// The demo model's planted two-hop facts, told by intervention: the features that respond to a
/// prompt's bridge entity (corpus label statistics, `LabelStatistics.responding`) carry it.
/// Ablating them takes the answer away; setting another entity's instead gives that entity's
/// answer (issue 14, item 4; the plan built here independently of the coordinator's).
@Suite struct BridgeSwapTests {
    struct Fact: Decodable { var id: String; var intermediate: String; var answer: String; var family: String }

    struct Totals { var prompts = 0, successes = 0, drop = 0.0 }

    /// Every two-hop prompt of the demo corpus swapped to the next entity of its family.
    static func swapAll(transcoders: String) throws -> Totals {
        let root = repositoryRoot.appendingPathComponent("models/demo")
        let session = try TraceSession(modelDirectory: root.appendingPathComponent("model"),
                                       transcoderDirectory: root.appendingPathComponent(transcoders))
        let corpus = try Corpus.load(repositoryRoot.appendingPathComponent("jobs/demo_corpus.jsonl"))
        let facts = try JSONDecoder().decode([Fact].self, from: Data(contentsOf: root.appendingPathComponent("facts.json")))

        // Label statistics of the corpus, as workers gather them.
        var stats = LabelStatistics()
        for p in corpus.prompts {
            guard let label = p.label else { continue }
            let record = try session.replacement.model.forward(tokens: try session.tokens(for: p.text))
            let f = try FeatureActivations(record: record, transcoders: session.replacement.transcoders)
            stats.add(label: label, features: f.activeFeatures.map { ($0.layer, $0.index) }, values: f.values)
        }

        let byID = Dictionary(uniqueKeysWithValues: facts.map { ($0.id, $0) })
        func answerToken(_ word: String) throws -> Int { try session.tokens(for: " " + word)[1] }
        var totals = Totals()
        for p in corpus.prompts {
            guard let fact = byID[p.id], let x = p.label else { continue }
            // Y: the next distinct bridge of the family, in facts.json order, wrapping around.
            let family = facts.filter { $0.family == fact.family }
            var bridges: [String] = []
            for f in family where !bridges.contains(f.intermediate) { bridges.append(f.intermediate) }
            let y = bridges[(bridges.firstIndex(of: x)! + 1) % bridges.count]
            let target = stats.responding(to: y).map { id -> (feature: FeatureID, value: Float) in
                let e = stats.entries[y]![id]!
                return (id, Float(e.sumMaxActivation / Double(e.activePrompts)))
            }
            let swap = BridgeSwap(bridgeFeatures: stats.responding(to: x), targetFeatures: target,
                                  answerToken: try answerToken(fact.answer),
                                  targetAnswerToken: try answerToken(family.first { $0.intermediate == y }!.answer))
            let outcome = try session.replacement.bridgeSwap(try session.replacement.cleanRun(tokens: try session.tokens(for: p.text)), swap)
            totals.prompts += 1
            totals.successes += outcome.success ? 1 : 0
            totals.drop += outcome.answerProbability - outcome.ablatedAnswerProbability
        }
        return totals
    }

    @Test func cltSwapsTheBridgeEntity() throws {
        let t = try Self.swapAll(transcoders: "clt")
        #expect(t.prompts == 142)
        let success = Double(t.successes) / Double(t.prompts), drop = t.drop / Double(t.prompts)
        // Issue 14's target for the main job (the CLT): at least 0.8 of the two-hop prompts.
        #expect(success >= 0.8, "bridge swap success \(success)")
        #expect(drop >= 0.5, "mean drop of the answer's probability \(drop)")
    }

    @Test func pltAblationLowersTheAnswer() throws {
        let t = try Self.swapAll(transcoders: "plt")
        let success = Double(t.successes) / Double(t.prompts), drop = t.drop / Double(t.prompts)
        // The PLT carries the entities less cleanly (measured 0.72 / 0.23); what must hold: the
        // ablation lowers the answer on average and the swap works more often than not.
        #expect(drop > 0.1, "mean drop of the answer's probability \(drop)")
        #expect(success > 0.5, "bridge swap success \(success)")
    }
}
