import Foundation
import Coordinator
import Storage

/// `/` of a run: `report.html` as `circuits report` draws it, computed from the aggregate as it
/// is now, with the navigation bar, features (`L0/F197`) linked to their pages and prompt ids
/// linked to their graphs.
enum ReportPage {
    static func render(_ c: Catalog) throws -> String {
        guard let report = c.report else { throw ServeError.notFound("no corpus report in this folder") }
        var html = ReportHTML.render(report, title: c.title)
        html = html.replacingOccurrences(of: "<head>", with: "<head><link rel=\"stylesheet\" href=\"/assets/viewer.css\">")
        html = html.replacingOccurrences(of: "<body>", with: "<body class=\"report\">" + PageShell.nav)
        return linked(html, prompts: Set(c.graphIndex.keys))
    }

    nonisolated(unsafe) static let textRun = try! NSRegularExpression(pattern: "<([a-zA-Z]+)[^>]*>([^<]+)")
    nonisolated(unsafe) static let featureID = try! NSRegularExpression(pattern: "\\bL([0-9]+)/F([0-9]+)\\b")

    /// Wraps feature ids in text and prompt ids filling a table cell in links; text inside
    /// `<title>`, `<style>`, `<a>` and `<h1>` stays as it is.
    static func linked(_ html: String, prompts: Set<String>) -> String {
        let ns = html as NSString
        var out = "", last = 0
        for m in textRun.matches(in: html, range: NSRange(location: 0, length: ns.length)) {
            let tag = ns.substring(with: m.range(at: 1)).lowercased()
            guard !["title", "style", "a", "h1"].contains(tag) else { continue }
            let text = m.range(at: 2)
            out += ns.substring(with: NSRange(location: last, length: text.location - last))
            let raw = ns.substring(with: text)
            let plain = raw.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            if tag == "td", prompts.contains(plain) {
                out += "<a href=\"/graph/\(encodeSegment(plain))\">\(raw)</a>"
            } else {
                out += featureID.stringByReplacingMatches(in: raw, range: NSRange(location: 0, length: (raw as NSString).length),
                                                          withTemplate: "<a href=\"/feature/L$1/F$2\">L$1/F$2</a>")
            }
            last = text.location + text.length
        }
        return out + ns.substring(from: last)
    }
}

/// `/` of a folder of traced graphs: the list of graphs.
enum GraphListPage {
    static func render(_ c: Catalog) -> String {
        var rows = ""
        for p in c.prompts {
            rows += "<tr><td><a href=\"/graph/\(encodeSegment(p.id))\">\(escapeHTML(p.id))</a></td><td>\(escapeHTML(p.prompt))</td>"
            rows += "<td class=\"n\">\(p.n_nodes ?? 0)</td><td class=\"n\">\(p.n_edges ?? 0)</td>"
            rows += "<td class=\"n\">\(p.replacement_score.map { String(format: "%.3f", $0) } ?? "–")</td></tr>\n"
        }
        return PageShell.render(title: c.title, script: nil, data: [:], body: """
        <h1>\(escapeHTML(c.title))</h1>
        <table><tr><th>graph</th><th>prompt</th><th class="n">nodes</th><th class="n">edges</th><th class="n">replacement</th></tr>
        \(rows)</table>
        """)
    }
}
