// Tests of Sources/Tracer/EAP/EAPScoring.swift with a scripted scorer: sums over the scored pairs
// only, skipped lines and engine failures in the table with their reasons, methods in order.
import Foundation
import Storage
import Testing
@testable import Tracer

@Suite struct EAPScoringTests {
    static let edges = ["input->m0", "m0->logits", "input->logits"]

    static func pair(_ id: String, _ k: Int) -> PromptPair {
        PromptPair(id: id, clean: [0, k], corrupt: [0, k + 1], answer: 1, wrong: 2)
    }

    /// Per pair k and method: scores k·(1, 2, 3) + method offset; metric (k, −k).
    static func scores(_ p: PromptPair, _ m: EdgeScoreSums.Method) -> PairEdgeScores {
        let k = Double(p.clean[1]), off: Double = m == .eap ? 0 : m == .eapIG ? 0.5 : 10
        let s = [k + off, 2 * k + off, 3 * k + off]
        switch m {
        case .eap: return PairEdgeScores(cleanMetric: k, corruptMetric: -k, eap: s)
        case .eapIG: return PairEdgeScores(cleanMetric: k, corruptMetric: -k, eapIG: s)
        case .exact: return PairEdgeScores(cleanMetric: k, corruptMetric: -k, exact: s)
        }
    }

    @Test func sumsTheScoredPairsAndRecordsEveryLine() throws {
        let entries: [PromptPairFile.Entry] = [
            .init(line: 1, id: "a", pair: Self.pair("a", 1), reason: nil),
            .init(line: 2, id: "line-2", pair: nil, reason: "not a JSON object"),
            .init(line: 3, id: "b", pair: Self.pair("b", 2), reason: nil),
            .init(line: 4, id: "c", pair: Self.pair("c", 4), reason: nil),   // exact fails on it
        ]
        var calls: [String] = [], progress: [(Int, Int, String)] = []
        let run = try EAPScoring.run(entries, edges: Self.edges, metric: "logit-diff", igSteps: 3, methods: [.eap, .eapIG, .exact],
                                 scorer: { p, m in
                                     calls.append("\(p.id):\(m.rawValue)")
                                     if p.id == "c", m == .exact { throw TracerError.invalidArgument("pair c: boom") }
                                     return Self.scores(p, m)
                                 }, progress: { done, total, row, _ in progress.append((done, total, row.id)) })
        #expect(calls == ["a:eap", "a:eap_ig", "a:exact", "b:eap", "b:eap_ig", "b:exact", "c:eap", "c:eap_ig", "c:exact"])
        #expect(progress.map(\.0) == [1, 2, 3, 4] && progress.allSatisfy { $0.1 == 4 } && progress.map(\.2) == ["a", "line-2", "b", "c"])
        // Pairs a (k = 1) and b (k = 2) only: Σk = 3.
        #expect(run.sums.pairs == 2)
        #expect(run.sums.scores[.eap] == [3, 6, 9] && run.sums.scores[.eapIG] == [4, 7, 10] && run.sums.scores[.exact] == [23, 26, 29])
        #expect(run.sums.cleanMetric == 3 && run.sums.corruptMetric == -3 && run.sums.absoluteTotalEffect == 6)
        #expect(run.sums.metric == "logit-diff" && run.sums.igSteps == 3 && run.sums.edges == Self.edges)
        #expect(run.table.rows.map(\.line) == [1, 2, 3, 4])
        #expect(run.table.rows.map(\.reason) == [nil, "not a JSON object", nil, "exact: pair c: boom"])
        #expect(run.table.rows[2].cleanMetric == 2 && run.table.rows[2].corruptMetric == -2 && run.table.rows[3].cleanMetric.isNaN)
        #expect(Set(run.seconds.keys) == [.eap, .eapIG, .exact] && run.seconds.values.allSatisfy { $0 >= 0 })
    }

    /// A scorer giving the wrong number of scores, or a non-finite one, skips the pair.
    @Test func badScoresSkipThePair() throws {
        let entries: [PromptPairFile.Entry] = [.init(line: 1, id: "a", pair: Self.pair("a", 1), reason: nil),
                                               .init(line: 2, id: "b", pair: Self.pair("b", 2), reason: nil)]
        let run = try EAPScoring.run(entries, edges: Self.edges, metric: "prob", igSteps: 0, methods: [.eap], scorer: { p, _ in
            p.id == "a" ? PairEdgeScores(cleanMetric: 1, corruptMetric: 0, eap: [1, 2]) : PairEdgeScores(cleanMetric: 1, corruptMetric: 0, eap: [1, .nan, 2])
        })
        #expect(run.sums.pairs == 0)
        #expect(run.table.rows.map(\.reason) == ["eap gave 2 scores for 3 edges", "eap: a score or the metric is not finite"])
    }

    /// The benchmark's pairs: seeded, the shape asked for, answer ≠ wrong, ids in range.
    @Test func benchmarkPairsAreSeededAndWellFormed() {
        let a = EAPBenchmark.randomPairs(20, promptTokens: 16, nVocab: 50, bos: 49, seed: 7)
        #expect(a == EAPBenchmark.randomPairs(20, promptTokens: 16, nVocab: 50, bos: 49, seed: 7))
        #expect(a != EAPBenchmark.randomPairs(20, promptTokens: 16, nVocab: 50, bos: 49, seed: 8))
        for p in a {
            #expect(p.clean.count == 17 && p.corrupt.count == 17 && p.clean[0] == 49 && p.corrupt[0] == 49)
            #expect(p.answer != p.wrong && (p.clean + p.corrupt + [p.answer, p.wrong]).allSatisfy { (0..<50).contains($0) })
        }
    }
}
