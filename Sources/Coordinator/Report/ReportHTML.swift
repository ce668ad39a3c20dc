import Foundation
import Storage

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) drawing
/// the numbers of `report.json`.
public enum ReportHTML {
    /// The page's head and opening body tag: its title and the report's style sheet, plus `css`.
    static func pageHead(title: String, css: String = "") -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
        h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.fail{color:#b00}.muted{color:#777}
        .cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
        .card b{display:block;font-size:1.4em}svg text{font:11px system-ui,sans-serif}code{font-size:12px}
        \(css)
        </style></head><body>

        """
    }

    public static func render(_ r: CircuitReport, title: String) -> String {
        if let e = r.eap { return renderEAP(r, e, title: title) }
        var h = pageHead(title: title, css: dashboardCSS) + """
        <h1>\(esc(title))</h1>
        <p class="muted">job \(esc(String(r.job_hash.prefix(16)))) · circuits attribution graphs, pruned (node and edge influence thresholds)</p>
        <div class="cards">
        \(card("prompts", "\(r.prompts_total)"))\(card("traced", "\(r.prompts_done)"))\(card("failed", "\(r.prompts_failed)"))
        \(card("mean replacement score", r.mean_replacement_score.map { fmt($0) } ?? "–"))
        \(card("mean completeness score", r.mean_completeness_score.map { fmt($0) } ?? "–"))
        </div>

        """
        h += "<h2>Score distributions</h2>\n<div class=\"cards\">"
        h += histogramSVG(r.replacement_histogram, label: "replacement score", color: "#4c78a8")
        h += histogramSVG(r.completeness_histogram, label: "completeness score", color: "#f58518")
        h += "</div>\n"

        h += "<h2>Features that recur across prompts</h2>\n"
        h += "<p class=\"muted\">Transcoder features in the most pruned graphs (once per prompt, any position).</p>\n"
        h += barsSVG(r.recurring_features.prefix(20).map { ("L\($0.layer)/F\($0.feature)", Double($0.prompts)) }, max: Double(max(1, r.prompts_done)), unit: "prompts")
        h += table(["feature", "prompts", "mean activation", "mean influence", "top contexts"], r.recurring_features.map {
            ["L\($0.layer)/F\($0.feature)", "\($0.prompts)", fmt($0.mean_activation), fmt($0.mean_influence), summary("L\($0.layer)/F\($0.feature)", r)]
        }, numeric: [1, 2, 3], link: { featureLink($0, r) })

        h += "<h2>Edges that recur across prompts</h2>\n"
        h += barsSVG(r.recurring_edges.prefix(20).map { ("\($0.source) → \($0.target)", Double($0.prompts)) }, max: Double(max(1, r.prompts_done)), unit: "prompts")
        h += table(["source", "target", "prompts", "mean weight"], r.recurring_edges.map {
            [$0.source, $0.target, "\($0.prompts)", fmt($0.mean_weight)]
        }, numeric: [2, 3], link: { featureLink($0, r) })

        h += "<h2>Strongest embedding → logit paths</h2>\n"
        h += "<p class=\"muted\">Per prompt, the path from a token embedding to a target logit that maximises the product of each edge's share of its target's incoming |weight|; identical paths are counted across prompts.</p>\n"
        h += table(["path", "prompts", "mean strength"], r.top_paths.map {
            [$0.nodes.joined(separator: " → "), "\($0.prompts)", fmt($0.mean_strength)]
        }, numeric: [1, 2], link: { linkFeatures($0, r) })

        if let labels = r.label_recovery {
            h += "<h2>Concepts in the graphs</h2>\n"
            h += "<p class=\"muted\">Prompts carry a label (a concept they are about). " + LabelStatistics.respondingRule + " Recovery: share of the prompts that do not name their label (implicit, as the bridge of a two-hop fact) whose pruned graph holds a responding feature"
            h += r.planted_circuit_recovery.map { ": <b>\(fmt($0))</b>.</p>\n" } ?? ".</p>\n"
            h += table(["label", "prompts", "responding features", "implicit prompts", "recovered"], labels.map {
                [$0.label, "\($0.prompts)", $0.responding_features.prefix(8).joined(separator: " ") + ($0.responding_features.count > 8 ? " …" : ""),
                 "\($0.implicit_prompts)", "\($0.recovered)"]
            }, numeric: [1, 3, 4], link: { linkFeatures($0, r) })
        }

        if let e = r.evaluation { h += evaluationSection(e) }

        if let g = r.global_weights {
            h += "<h2>Global weights (\(g.targets.count) targets, \(g.tokens_seen) tokens)</h2>\n"
            h += "<p class=\"muted\">Per target feature: its strongest sources by |TWERA| = |V·E[a_s·a_t]/E[a_t]| beside the raw virtual weight V, and the largest virtual weights the co-activation filter removed (never active together in the corpus).</p>\n"
            func rows(_ targets: [GlobalWeightsSummary.Target]) -> [[String]] {
                targets.flatMap { t in
                    t.top_sources.map { [t.target, $0.source, fmt($0.twera), fmt($0.era), fmt($0.virtual_weight), "\($0.coactivation_count)", "kept"] }
                        + t.removed_by_filter.map { [t.target, $0.source, "0", "0", fmt($0.virtual_weight), "0", "removed"] }
                }
            }
            h += table(["target", "source", "TWERA", "ERA", "V", "co-active", "filter"], rows(g.targets), numeric: [2, 3, 4, 5])
            if let all = g.all_features, !all.isEmpty {
                h += "<h3>Whole dictionary (--all): the \(all.count) features with the strongest upstream |TWERA|</h3>\n"
                h += table(["feature", "source", "TWERA", "ERA", "V", "co-active", "filter"], rows(all), numeric: [2, 3, 4, 5])
            }
        }

        h += dashboardsSection(r)

        let failed = r.prompts.filter { $0.status != "done" }
        h += "<h2>Failed prompts (\(failed.count))</h2>\n"
        h += failed.isEmpty ? "<p class=\"muted\">None.</p>\n" : table(["id", "reason"], failed.map { [$0.id, $0.reason ?? ""] }, numeric: [], rowClass: "fail")

        h += "<h2>Prompts</h2>\n"
        h += table(["id", "status", "tokens", "nodes", "edges", "replacement", "completeness", "seconds"], r.prompts.map {
            [$0.id, $0.status, $0.n_tokens.map(String.init) ?? "", $0.n_pruned_nodes.map(String.init) ?? "",
             $0.n_pruned_edges.map(String.init) ?? "", $0.replacement_score.map { fmt($0) } ?? "",
             $0.completeness_score.map { fmt($0) } ?? "", $0.seconds.map { String(format: "%.2f", $0) } ?? ""]
        }, numeric: [2, 3, 4, 5, 6, 7])
        h += "</body></html>\n"
        return h
    }

    static func card(_ label: String, _ value: String) -> String {
        "<div class=\"card\"><b>\(esc(value))</b>\(esc(label))</div>"
    }

    static func fmt(_ x: Double) -> String {
        guard x.isFinite else { return "–" }
        return abs(x) >= 1000 || (abs(x) < 0.001 && x != 0) ? String(format: "%.3g", x) : String(format: "%.4f", x)
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// - Parameter link: renders a cell's text as HTML (escaping it); `esc` by default.
    static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int>, rowClass: String? = nil,
                      link: (String) -> String = esc) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">None.</p>\n" }
        var t = "<table><tr>" + header.enumerated().map { "<th\(numeric.contains($0.offset) ? " class=\"n\"" : "")>\(esc($0.element))</th>" }.joined() + "</tr>\n"
        for row in rows {
            t += "<tr\(rowClass.map { " class=\"\($0)\"" } ?? "")>" + row.enumerated().map {
                "<td\(numeric.contains($0.offset) ? " class=\"n\"" : "")>\(link($0.element))</td>"
            }.joined() + "</tr>\n"
        }
        return t + "</table>\n"
    }

    /// A histogram on [lower, upper] as bars.
    static func histogramSVG(_ hist: CircuitReport.Histogram, label: String, color: String) -> String {
        let w = 440.0, h = 180.0, left = 36.0, bottom = 30.0, top = 18.0
        let peak = Double(max(1, hist.counts.max() ?? 1))
        let bw = (w - left - 30) / Double(max(1, hist.counts.count))
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(esc(label)) histogram\">"
        s += "<text x=\"\(left)\" y=\"12\">\(esc(label)) (prompts per bin)</text>"
        for (k, c) in hist.counts.enumerated() where c > 0 {
            let bh = (h - bottom - top) * Double(c) / peak
            s += "<rect x=\(q(left + Double(k) * bw + 1)) y=\(q(h - bottom - bh)) width=\(q(bw - 2)) height=\(q(bh)) fill=\"\(color)\"><title>\(c)</title></rect>"
        }
        s += "<line x1=\(q(left)) y1=\(q(h - bottom)) x2=\(q(w - 30)) y2=\(q(h - bottom)) stroke=\"#999\"/>"
        for t in 0...4 {
            let x = left + (w - left - 30) * Double(t) / 4
            s += "<text x=\(q(x)) y=\(q(h - bottom + 14)) text-anchor=\"middle\">\(String(format: "%g", hist.lower + (hist.upper - hist.lower) * Double(t) / 4))</text>"
        }
        s += "<text x=\"4\" y=\(q(top + 8))>\(Int(peak))</text><text x=\"4\" y=\(q(h - bottom))>0</text>"
        return s + "</svg>\n"
    }

    /// Horizontal bars: label, value out of `max`.
    static func barsSVG(_ items: [(String, Double)], max: Double, unit: String) -> String {
        guard !items.isEmpty else { return "" }
        let rowH = 18.0, labelW = 330.0, barW = 500.0
        let h = rowH * Double(items.count) + 8
        var s = "<svg width=\"\(Int(labelW + barW + 70))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"recurrence (\(unit))\">"
        for (k, (label, v)) in items.enumerated() {
            let y = Double(k) * rowH + 4
            let short = label.count > 52 ? String(label.prefix(51)) + "…" : label
            s += "<text x=\(q(labelW - 6)) y=\(q(y + 12)) text-anchor=\"end\">\(esc(short))</text>"
            s += "<rect x=\(q(labelW)) y=\(q(y + 2)) width=\(q(barW * v / max)) height=\(q(rowH - 5)) fill=\"#54a24b\"><title>\(esc(label)): \(Int(v)) \(unit)</title></rect>"
            s += "<text x=\(q(labelW + barW * v / max + 4)) y=\(q(y + 12))>\(Int(v))</text>"
        }
        return s + "</svg>\n"
    }

    static func q(_ x: Double) -> String { "\"" + String(format: "%.1f", x) + "\"" }
}
