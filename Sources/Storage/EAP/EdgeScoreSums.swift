/// Edge scores summed over prompt pairs: what a worker's shard, `circuits eap` and the merge
/// hold. Sums, not means, so that merging shards is exact addition and the mean is taken once
/// (`mean(_:)`), over every pair that was scored.
public struct EdgeScoreSums: Sendable, Equatable {
    /// The methods an edge can be scored by, as named in files and JSON.
    public enum Method: String, Sendable, CaseIterable {
        case eap
        case eapIG = "eap_ig"
        case exact
    }

    /// `sender->receiver` per edge (`ComponentGraph.name(of:)`), in the model's edge order.
    public var edges: [String]
    /// The metric (`logit-diff`, `prob`, `kl`) and EAP-IG's steps (0 when not run).
    public var metric: String
    public var igSteps: Int
    /// Pairs scored (skipped pairs not counted).
    public var pairs: Int
    /// Σ over pairs of L(clean), L(corrupt), and |L(clean) − L(corrupt)|.
    public var cleanMetric: Double
    public var corruptMetric: Double
    public var absoluteTotalEffect: Double
    /// Per method run: Σ over pairs of each edge's score, `edges.count` values.
    public var scores: [Method: [Double]]

    public init(edges: [String], metric: String, igSteps: Int, methods: [Method]) {
        self.edges = edges
        self.metric = metric
        self.igSteps = igSteps
        pairs = 0
        cleanMetric = 0
        corruptMetric = 0
        absoluteTotalEffect = 0
        scores = Dictionary(uniqueKeysWithValues: methods.map { ($0, [Double](repeating: 0, count: edges.count)) })
    }

    /// Adds one pair's metric values and per-edge scores (one array per method of this sum).
    public mutating func add(cleanMetric c: Double, corruptMetric k: Double, scores pairScores: [Method: [Double]]) throws {
        guard Set(pairScores.keys) == Set(scores.keys) else {
            throw EdgeScoreSumsError.mismatch("a pair scored by \(pairScores.keys.map(\.rawValue).sorted()), the sum by \(scores.keys.map(\.rawValue).sorted())")
        }
        for (m, s) in pairScores {
            guard s.count == edges.count else { throw EdgeScoreSumsError.mismatch("\(m.rawValue): \(s.count) scores for \(edges.count) edges") }
            for i in s.indices { scores[m]![i] += s[i] }
        }
        pairs += 1
        cleanMetric += c
        corruptMetric += k
        absoluteTotalEffect += abs(c - k)
    }

    /// Adds another sum over the same edges, metric, steps and methods (a shard to the merge).
    public mutating func add(_ other: EdgeScoreSums) throws {
        guard other.edges == edges else { throw EdgeScoreSumsError.mismatch("edge lists differ (\(other.edges.count) vs \(edges.count) edges)") }
        guard other.metric == metric, other.igSteps == igSteps else {
            throw EdgeScoreSumsError.mismatch("metric \(other.metric) with \(other.igSteps) IG steps vs \(metric) with \(igSteps)")
        }
        guard Set(other.scores.keys) == Set(scores.keys) else {
            throw EdgeScoreSumsError.mismatch("methods \(other.scores.keys.map(\.rawValue).sorted()) vs \(scores.keys.map(\.rawValue).sorted())")
        }
        for (m, s) in other.scores { for i in s.indices { scores[m]![i] += s[i] } }
        pairs += other.pairs
        cleanMetric += other.cleanMetric
        corruptMetric += other.corruptMetric
        absoluteTotalEffect += other.absoluteTotalEffect
    }

    /// The mean score of every edge over the pairs (nil when `method` was not run or no pair was scored).
    public func mean(_ method: Method) -> [Double]? {
        guard let s = scores[method], pairs > 0 else { return nil }
        return s.map { $0 / Double(pairs) }
    }
}

public enum EdgeScoreSumsError: Error, CustomStringConvertible, Equatable {
    case mismatch(String)
    public var description: String {
        switch self { case let .mismatch(why): return "edge scores do not add up: \(why)" }
    }
}
