import Foundation
import Storage

/// What `circuits bench eap` measures: EAP (two forwards and one backward per pair) over random
/// pairs on the seeded synthetic model of `circuits bench attribution` (no transcoders needed).
/// The target: 100 pairs of 16 tokens on the GPT-2-small shape in ≤ 60 s.
public struct EAPBenchmarkResult: Codable, Sendable {
    public var pairs: Int
    /// Tokens per prompt, BOS included.
    public var n_pos: Int
    public var edges: Int
    /// Wall seconds of EAP over every pair (`EAPScoring`, the same code as `circuits eap`).
    public var eap_s: Double
    public var per_pair_ms: Double
    /// Seconds to draw the model (not part of `eap_s`).
    public var setup_s: Double
    public var model: String
    public var threads: Int
    public var machine: String

    public init(pairs: Int, n_pos: Int, edges: Int, eap_s: Double, per_pair_ms: Double, setup_s: Double, model: String, threads: Int, machine: String) {
        self.pairs = pairs
        self.n_pos = n_pos
        self.edges = edges
        self.eap_s = eap_s
        self.per_pair_ms = per_pair_ms
        self.setup_s = setup_s
        self.model = model
        self.threads = threads
        self.machine = machine
    }
}

public enum EAPBenchmark {
    /// `pairs` random pairs on `model`: clean and corrupt of `promptTokens` random tokens after
    /// `bos`, answer and wrong two distinct random tokens; seeded.
    public static func randomPairs(_ pairs: Int, promptTokens: Int, nVocab: Int, bos: Int, seed: UInt64) -> [PromptPair] {
        var rng = SeededRandom(seed: seed)
        func token() -> Int { Int(rng.next() % UInt64(nVocab - 1)) }
        return (0..<pairs).map { k in
            let clean = [bos] + (0..<promptTokens).map { _ in token() }
            let corrupt = [bos] + (0..<promptTokens).map { _ in token() }
            let answer = token()
            var wrong = token()
            while wrong == answer { wrong = token() }
            return PromptPair(id: "pair-\(k)", clean: clean, corrupt: corrupt, answer: answer, wrong: wrong)
        }
    }

    /// Times EAP over `pairs` on `model` with `metric` (one untimed warm-up pair first).
    public static func run(_ model: Transformer, pairs: [PromptPair], metric: EAPMetric = .logitDiff) throws -> (seconds: Double, edges: Int) {
        let attribution = EdgeAttribution(model: model, metric: metric)
        if let first = pairs.first { _ = try attribution.eap(first) }
        let entries = pairs.enumerated().map { PromptPairFile.Entry(line: $0 + 1, id: $1.id, pair: $1, reason: nil) }
        let start = ContinuousClock.now
        let run = try EAPScoring.run(entries, attribution: attribution, igSteps: nil, exact: false)
        let seconds = (ContinuousClock.now - start).seconds
        if let bad = run.table.rows.first(where: { $0.reason != nil }) {
            throw TracerError.invalidArgument("bench eap: pair \(bad.id) failed: \(bad.reason!)")
        }
        return (seconds, attribution.graph.edges.count)
    }
}
