import Foundation

extension ReportHTML {
    /// The `evaluation` section: cards, path-length and causal-agreement histograms, fidelity
    /// by layer distance (a line chart and a table), and the bridge swaps.
    static func evaluationSection(_ e: EvaluationSummary) -> String {
        var h = "<h2>Graph evaluation (\(e.prompts) prompts, \(e.features) ablations per check)</h2>\n<div class=\"cards\">"
        h += card("mean path length", e.mean_path_length.map { fmt($0) } ?? "–")
        h += card("mean causal rank correlation", e.mean_causal_rank_correlation.map { fmt($0) } ?? "–")
        h += card("causal check skipped", "\(e.causal_skipped_prompts)")
        if let r = e.seconds_per_trace_second { h += card("evaluation time per trace second", fmt(r)) }
        if let s = e.bridge_swap_success { h += card("bridge swap success", fmt(s)) }
        if let d = e.bridge_ablation_drop { h += card("bridge ablation drop of p(answer)", fmt(d)) }
        h += "</div>\n<p class=\"muted\">Path length: share of embedding → logit influence by path length, Σ k·share. Fidelity: cosine and normalised MSE between the residual change of the real model and of the local replacement model when a graph feature is ablated, by layer distance from the feature. Causal agreement: Spearman correlation between a feature's influence on the top logit and the effect of ablating it.</p>\n<div class=\"cards\">"
        h += histogramSVG(e.path_length_histogram, label: "mean path length", color: "#72b7b2")
        h += histogramSVG(e.causal_rank_correlation_histogram, label: "causal rank correlation", color: "#e45756")
        h += lineSVG(e.fidelity_cosine_by_layer_distance, label: "fidelity cosine by layer distance")
        h += "</div>\n"
        h += table(["layer distance", "prompts", "mean cosine", "mean NMSE"], e.fidelity_cosine_by_layer_distance.indices.map { d in
            ["\(d)", "\(e.fidelity_prompts_by_layer_distance[d])", e.fidelity_cosine_by_layer_distance[d].map { fmt($0) } ?? "–",
             e.fidelity_nmse_by_layer_distance[d].map { fmt($0) } ?? "–"]
        }, numeric: [0, 1, 2, 3])
        if let swaps = e.bridge_swaps {
            h += "<h3>Bridge swaps (\(swaps.count) two-hop prompts)</h3>\n"
            h += "<p class=\"muted\">The features that respond to the prompt's bridge X (corpus statistics) are ablated, then replaced by those of the next entity Y of the same family at their mean activation; success: the top token becomes Y's answer.</p>\n"
            h += table(["id", "prompt", "X → Y", "p(answer)", "ablated", "swapped top", "p", "success"], swaps.map {
                [$0.id, $0.prompt, "\($0.bridge) → \($0.target) (\($0.answer) → \($0.target_answer))",
                 $0.answer_probability.map { fmt($0) } ?? "", $0.ablated_answer_probability.map { fmt($0) } ?? "",
                 $0.swapped_top_token ?? ($0.reason ?? ""), $0.swapped_top_probability.map { fmt($0) } ?? "", $0.success ? "yes" : "no"]
            }, numeric: [3, 4, 6])
        }
        return h
    }

    /// Values on [0, 1] (nil: no point) against their index, as a polyline with dots.
    static func lineSVG(_ values: [Double?], label: String) -> String {
        let w = 440.0, h = 180.0, left = 36.0, bottom = 30.0, top = 18.0, right = 30.0
        let n = max(2, values.count)
        func x(_ k: Int) -> Double { left + (w - left - right) * Double(k) / Double(n - 1) }
        func y(_ v: Double) -> Double { h - bottom - (h - bottom - top) * min(1, max(0, v)) }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(esc(label))\">"
        s += "<text x=\"\(left)\" y=\"12\">\(esc(label))</text>"
        s += "<line x1=\(q(left)) y1=\(q(h - bottom)) x2=\(q(w - right)) y2=\(q(h - bottom)) stroke=\"#999\"/>"
        s += "<text x=\"4\" y=\(q(top + 8))>1</text><text x=\"4\" y=\(q(h - bottom))>0</text>"
        let points = values.enumerated().compactMap { k, v in v.map { (x(k), y($0), $0) } }
        if points.count > 1 {
            s += "<polyline fill=\"none\" stroke=\"#4c78a8\" stroke-width=\"2\" points=\"" + points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ") + "\"/>"
        }
        for (px, py, v) in points { s += "<circle cx=\(q(px)) cy=\(q(py)) r=\"3\" fill=\"#4c78a8\"><title>\(fmt(v))</title></circle>" }
        for k in values.indices { s += "<text x=\(q(x(k))) y=\(q(h - bottom + 14)) text-anchor=\"middle\">\(k)</text>" }
        return s + "</svg>\n"
    }
}
