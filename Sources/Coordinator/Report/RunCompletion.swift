import Foundation
import Shared
import Storage

/// The end of a corpus run, once every task is settled: the shards merged into `aggregate.h5`
/// (`Merger`), then `report.json` and `report.html` written from it (`Reporter`).
///
/// `circuits run` and `circuits coordinator` both finish through here; `circuits merge` and
/// `circuits report` redo the two halves by hand (after a `--no-merge` run, or to re-run them).
public enum RunCompletion {
    public struct Outcome: Sendable {
        public var merge: MergeSummary
        public var report: CircuitReport
        public init(merge: MergeSummary, report: CircuitReport) { self.merge = merge; self.report = report }
    }

    /// Merges the run in `layout` and writes its report.
    /// - Throws: `MergeError` naming the shard or file that cannot be merged; HDF5 and I/O errors.
    public static func finish(_ layout: RunLayout) throws -> Outcome {
        let merge = try Merger.merge(layout)
        let report = try Reporter.write(layout)
        return Outcome(merge: merge, report: report)
    }

    /// Whether the tasks of `job` merge into `aggregate.h5`: every job but a global-weights block
    /// job (`global_blocks`), whose shards `circuits global-weights OUT --all` merges into
    /// `global_weights.h5` of the run it belongs to.
    public static func mergesIntoAggregate(_ job: JobSpec) -> Bool { job.globalBlocks == nil }

    /// The lines a finished run prints on standard output:
    ///
    ///     traced 291 of 291 prompts (0 failed)
    ///       aggregate: out/demo/aggregate.h5
    ///       report:    out/demo/report.html
    ///       mean replacement score 0.8123, completeness 0.9412
    ///
    /// (an EAP job: `scored 40 of 41 pairs (1 skipped)`, and its mean total effect and top edge).
    public static func summary(_ outcome: Outcome, layout: RunLayout) -> String {
        let m = outcome.merge, r = outcome.report
        func score(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
        if let e = r.eap {
            let top = e.top_edges.first.map { "top edge \($0.edge) (mean EAP \(String(format: "%.4g", $0.eap)))" } ?? "no edge scored"
            return """
                scored \(e.pairs_scored) of \(m.promptsTotal) pairs (\(m.promptsFailed) skipped)
                  aggregate: \(layout.aggregate.path)
                  report:    \(layout.reportHTML.path)
                  mean |L(clean) − L(corrupt)| \(score(e.mean_abs_total_effect)) (\(e.metric)); \(top)
                """
        }
        return """
            traced \(m.promptsDone) of \(m.promptsTotal) prompts (\(m.promptsFailed) failed)
              aggregate: \(layout.aggregate.path)
              report:    \(layout.reportHTML.path)
              mean replacement score \(score(r.mean_replacement_score)), completeness \(score(r.mean_completeness_score))
            """
    }
}
