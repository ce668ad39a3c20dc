import Foundation
import Storage

/// The dashboards part of `report.html`: a section per named feature (top contexts with the
/// activating token highlighted and every token shaded by the feature's activation, the
/// histogram over `ActivationHistogram`'s bins, promoted and suppressed logits, label shares),
/// and links to it from every table that names the feature.
extension ReportHTML {
    static let dashboardCSS = """
    .ctx{font:12px ui-monospace,monospace;white-space:pre-wrap;margin:1px 0}.ctx .hit{outline:2px solid #d62728;font-weight:bold}
    .dash{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1em 0}.dash h3{margin:.2em 0;font-size:1.05em}
    .logits span{display:inline-block;margin:0 .4em .2em 0;padding:0 .3em;border-radius:3px}.up{background:#dbeafe}.down{background:#fde2e2}
    """

    /// The anchor of a feature's dashboard.
    static func anchor(_ feature: String) -> String { "dash-" + feature.replacingOccurrences(of: "/", with: "-") }

    /// `feature` as a link to its dashboard when the report has one, else as text (escaped).
    static func featureLink(_ feature: String, _ r: CircuitReport) -> String {
        guard r.feature_dashboards?.contains(where: { $0.feature == feature }) == true else { return esc(feature) }
        return "<a href=\"#\(anchor(feature))\">\(esc(feature))</a>"
    }

    /// The one-line summary of a feature's top contexts ("" without dashboards).
    static func summary(_ feature: String, _ r: CircuitReport) -> String {
        r.feature_dashboards?.first { $0.feature == feature }?.summary ?? ""
    }

    static func dashboardsSection(_ r: CircuitReport) -> String {
        guard let dashboards = r.feature_dashboards, !dashboards.isEmpty else { return "" }
        var h = "<h2>Feature dashboards (\(dashboards.count))</h2>\n"
        h += "<p class=\"muted\">Every feature this report names, from the whole corpus: its top-activating contexts (the activating token outlined, every token shaded by the feature's activation there), its activation histogram (log-spaced half-octave bins), and the tokens its decoder direction promotes and suppresses through the unembedding.</p>\n"
        for d in dashboards {
            h += "<div class=\"dash\" id=\"\(anchor(d.feature))\"><h3>\(esc(d.feature))</h3>"
            h += "<p class=\"muted\">active at \(d.active_count) positions (frequency \(fmt(d.frequency))) · mean \(fmt(d.mean_activation)) · max \(fmt(d.max_activation))"
            if !d.labels.isEmpty {
                h += " · labels: " + d.labels.map { "\(esc($0.label)) \($0.active_prompts)/\($0.prompts)" }.joined(separator: ", ")
            }
            h += "</p>\n"
            for c in d.top_contexts { h += contextHTML(c, max: d.max_activation) }
            h += activationHistogramSVG(d.histogram, edges: r.histogram_edges ?? ActivationHistogram.edges)
            if !d.top_logits.isEmpty {
                h += "<div class=\"logits\">promotes " + d.top_logits.map { "<span class=\"up\">\(esc($0))</span>" }.joined()
                h += " suppresses " + d.bottom_logits.map { "<span class=\"down\">\(esc($0))</span>" }.joined() + "</div>"
            }
            h += "</div>\n"
        }
        return h
    }

    /// One context: tokens shaded by activation, the activating token outlined, its prompt and position.
    static func contextHTML(_ c: DashboardSummary.Context, max: Double) -> String {
        var s = "<div class=\"ctx\" title=\"\(esc(c.prompt_id)) position \(c.position)\"><span class=\"muted\">\(String(format: "%.2f", c.activation)) </span>"
        for (i, t) in c.tokens.enumerated() {
            let a = max > 0 ? Swift.min(1, Swift.max(0, c.activations[i] / max)) : 0
            s += "<span\(i == c.index ? " class=\"hit\"" : "") style=\"background:rgba(245,133,24,\(String(format: "%.2f", a)))\" title=\"\(String(format: "%.3f", c.activations[i]))\">\(esc(t))</span>"
        }
        return s + "</div>\n"
    }

    /// Counts over the occupied range of the log-spaced bins, as bars.
    static func activationHistogramSVG(_ counts: [Int], edges: [Double]) -> String {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else { return "" }
        let bins = Array(first...last), w = 420.0, h = 90.0, bw = (w - 20) / Double(bins.count)
        let peak = Double(counts.max() ?? 1)
        func edge(_ b: Int) -> String { b == 0 ? "0" : String(format: "%.3g", edges[Swift.min(b - 1, edges.count - 1)]) }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"activation histogram\">"
        for (k, b) in bins.enumerated() where counts[b] > 0 {
            let bh = (h - 30) * Double(counts[b]) / peak
            s += "<rect x=\(q(10 + Double(k) * bw)) y=\(q(h - 18 - bh)) width=\(q(Swift.max(1, bw - 1))) height=\(q(bh)) fill=\"#f58518\"><title>[\(edge(b)), \(edge(b + 1))): \(counts[b])</title></rect>"
        }
        s += "<text x=\"10\" y=\(q(h - 4))>\(edge(first))</text><text x=\(q(w - 10)) y=\(q(h - 4)) text-anchor=\"end\">\(edge(last + 1))</text>"
        return s + "</svg>\n"
    }
}

extension ReportHTML {
    /// A cell of space-separated words with every feature name linked to its dashboard.
    static func linkFeatures(_ text: String, _ r: CircuitReport) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { featureLink(String($0), r) }.joined(separator: " ")
    }
}
