import Foundation
import Storage

/// `circuits eap`'s work, apart from the command line: every pair of a pair file scored by the
/// methods asked for, summed (`EdgeScoreSums`), with a per-pair table (`EAPPairTable`) and
/// each method's wall time over all pairs.
///
/// A pair that a method fails on (the engine throws) is skipped with that reason, its other
/// methods' scores discarded, and the run goes on; so are the pair file's bad lines.
public struct EAPScoring: Sendable {
    public var sums: EdgeScoreSums
    public var table: EAPPairTable
    /// Seconds spent in each method, over every pair.
    public var seconds: [EdgeScoreSums.Method: Double]

    /// Scores one pair by one method: `EdgeAttribution.eap`, `.eapIG(steps:)` or `.exact`.
    public typealias Scorer = (PromptPair, EdgeScoreSums.Method) throws -> PairEdgeScores

    /// Progress after each entry: entries done, entries in all, the entry's row, seconds so far.
    public typealias Progress = (Int, Int, EAPPairTable.Row, Double) -> Void

    /// Runs `methods` (in the order given) on every pair of `entries`.
    ///
    /// - Parameters:
    ///   - edges: the edge names, in the order the scorer's arrays use.
    ///   - metric, igSteps: recorded in the sums (`igSteps` 0 when EAP-IG is not run).
    public static func run(_ entries: [PromptPairFile.Entry], edges: [String], metric: String, igSteps: Int,
                           methods: [EdgeScoreSums.Method], scorer: Scorer, progress: Progress? = nil) throws -> EAPScoring {
        var sums = EdgeScoreSums(edges: edges, metric: metric, igSteps: igSteps, methods: methods)
        var table = EAPPairTable()
        var seconds = Dictionary(uniqueKeysWithValues: methods.map { ($0, 0.0) })
        let start = ContinuousClock.now
        for (k, entry) in entries.enumerated() {
            defer { progress?(k + 1, entries.count, table.rows[table.rows.count - 1], (ContinuousClock.now - start).seconds) }
            guard let pair = entry.pair else {
                table.rows.append(.init(line: entry.line, id: entry.id, reason: entry.reason ?? "skipped"))
                continue
            }
            var scores: [EdgeScoreSums.Method: [Double]] = [:]
            var metrics: (clean: Double, corrupt: Double)?
            var failure: String?
            for m in methods {
                let t = ContinuousClock.now
                do {
                    let r = try scorer(pair, m)
                    seconds[m]! += (ContinuousClock.now - t).seconds
                    guard let s = r[m], s.count == edges.count else {
                        failure = "\(m.rawValue) gave \(r[m]?.count ?? 0) scores for \(edges.count) edges"
                        break
                    }
                    guard s.allSatisfy(\.isFinite), r.cleanMetric.isFinite, r.corruptMetric.isFinite else {
                        failure = "\(m.rawValue): a score or the metric is not finite"
                        break
                    }
                    scores[m] = s
                    metrics = metrics ?? (r.cleanMetric, r.corruptMetric)
                } catch {
                    seconds[m]! += (ContinuousClock.now - t).seconds
                    failure = "\(m.rawValue): \(error)"
                    break
                }
            }
            if let failure {
                table.rows.append(.init(line: entry.line, id: entry.id, reason: failure))
                continue
            }
            let (c, k) = metrics ?? (.nan, .nan)
            try sums.add(cleanMetric: c, corruptMetric: k, scores: scores)
            table.rows.append(.init(line: entry.line, id: entry.id, reason: nil, cleanMetric: c, corruptMetric: k))
        }
        return EAPScoring(sums: sums, table: table, seconds: seconds)
    }

    /// `run` with `attribution`'s engine: EAP, EAP-IG with `igSteps` steps, exact patching.
    public static func run(_ entries: [PromptPairFile.Entry], attribution: EdgeAttribution, igSteps: Int?,
                           exact: Bool, progress: Progress? = nil) throws -> EAPScoring {
        var methods: [EdgeScoreSums.Method] = [.eap]
        if igSteps != nil { methods.append(.eapIG) }
        if exact { methods.append(.exact) }
        let g = attribution.graph
        return try run(entries, edges: g.edges.map(g.name(of:)), metric: attribution.metric.rawValue, igSteps: igSteps ?? 0,
                       methods: methods, scorer: { pair, m in
                           switch m {
                           case .eap: return try attribution.eap(pair)
                           case .eapIG: return try attribution.eapIG(pair, steps: igSteps ?? 1)
                           case .exact: return try attribution.exact(pair)
                           }
                       }, progress: progress)
    }
}

extension PairEdgeScores {
    /// The scores of `method`.
    public subscript(method: EdgeScoreSums.Method) -> [Double]? {
        switch method {
        case .eap: return eap
        case .eapIG: return eapIG
        case .exact: return exact
        }
    }
}
