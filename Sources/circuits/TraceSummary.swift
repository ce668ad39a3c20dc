import Foundation
import Tracer

/// The short human-readable report `circuits trace` prints.
struct TraceSummary {
    let result: TraceResult
    let loadSeconds: Double
    let out: String
    let json: String?
    var evaluation: GraphEvaluation?

    var text: String {
        let g = result.graph, layout = g.layout, t = result.timings
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\n", with: "\\n") + "\"" }
        var lines: [String] = []
        lines.append("tokens           \(g.inputTokens.count) (BOS included): " + g.tokenStrings.prefix(24).map(quoted).joined(separator: " ")
                     + (g.tokenStrings.count > 24 ? " …" : ""))
        lines.append("active features  \(g.activeFeatures.count) (\(layout.nFeatures) in the graph)")
        lines.append("logits           " + g.logitTargets.map { "\(quoted($0.token)) \(String(format: "%.3f", $0.probability))" }.joined(separator: ", "))
        lines.append("nodes            \(layout.count) → \(result.prunedNodeCount) after pruning (node threshold \(result.nodeThreshold))")
        lines.append("edges            \(result.edgeCount) → \(result.prunedEdgeCount) after pruning (edge threshold \(result.edgeThreshold))")
        lines.append(String(format: "scores           replacement %.4f, completeness %.4f", result.scores.replacement, result.scores.completeness))
        lines.append(String(format: "time             load %.2fs, forward %.3fs, transcoders %.3fs, logit rows %.3fs, feature rows %.3fs, pruning %.3fs (trace %.3fs)",
                            loadSeconds, t.forward, t.transcoders, t.logitRows, t.featureRows, t.pruning, t.total))
        if let e = evaluation {
            func list(_ x: [Double?]) -> String { x.map { $0.map { String(format: "%.3f", $0) } ?? "–" }.joined(separator: " ") }
            lines.append(String(format: "path length      mean %.3f; share by length 1, 2, …: ", e.pathLengths.mean) + list(e.pathLengths.shares.prefix(8).map { $0 }))
            lines.append("fidelity         cosine by layer distance \(list(e.fidelityCosine)); NMSE \(list(e.fidelityNMSE)) (\(e.fidelityFeatures) features ablated)")
            lines.append("causal agreement " + (e.causalRankCorrelation.map { String(format: "Spearman %.3f over %d features", $0, e.causalFeatures) }
                                                ?? "skipped (fewer than 3 features in the pruned graph)"))
        }
        lines.append("wrote            \(out)" + (json.map { ", \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}
