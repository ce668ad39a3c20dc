import Foundation

extension ReportHTML {
    /// The page of an EAP job: cards, the circuits drawn as graphs, the top edges by each method
    /// run, the skipped pairs with their reasons, and every pair.
    static func renderEAP(_ r: CircuitReport, _ e: EAPSummary, title: String) -> String {
        var h = pageHead(title: title) + """
        <h1>\(esc(title))</h1>
        <p class="muted">job \(esc(String(r.job_hash.prefix(16)))) · Edge Attribution Patching over prompt pairs (metric \(esc(e.metric))\(e.ig_steps > 0 ? ", EAP-IG with \(e.ig_steps) steps" : "")\(e.methods.contains("exact") ? ", exact patching" : ""))</p>
        <div class="cards">
        \(card("pairs", "\(r.prompts_total)"))\(card("scored", "\(e.pairs_scored)"))\(card("skipped", "\(e.pairs_skipped)"))\(card("edges", "\(e.edges_total)"))
        \(card("mean L(clean)", e.mean_clean_metric.map { fmt($0) } ?? "–"))\(card("mean L(corrupt)", e.mean_corrupt_metric.map { fmt($0) } ?? "–"))
        \(card("mean |L(clean) − L(corrupt)|", e.mean_abs_total_effect.map { fmt($0) } ?? "–"))
        </div>
        <p class="muted">Every score is the change of the metric when the edge's sender output is replaced, in that receiver's input only, by its value on the corrupt prompt: L(patched) − L(clean), mean over the scored pairs. Negative (blue): the edge carries the clean answer; positive (red): it works against it.</p>

        """
        for c in e.circuits {
            h += "<h2>Circuit: top \(c.size) edges by |mean \(methodName(c.method))|</h2>\n"
            h += circuitSVG(c, all: e)
        }
        func edgeTable(_ edges: [EAPSummary.Edge]) -> String {
            var header = ["edge", "EAP"], numeric: Set<Int> = [1]
            if e.methods.contains("eap_ig") { header.append("EAP-IG"); numeric.insert(header.count - 1) }
            if e.methods.contains("exact") { header.append("exact"); numeric.insert(header.count - 1) }
            return table(header, edges.map { x in
                [x.edge, fmt(x.eap)] + (e.methods.contains("eap_ig") ? [x.eap_ig.map { fmt($0) } ?? "–"] : [])
                    + (e.methods.contains("exact") ? [x.exact.map { fmt($0) } ?? "–"] : [])
            }, numeric: numeric)
        }
        h += "<h2>Top edges by |mean EAP score|</h2>\n" + edgeTable(e.top_edges)
        if let ig = e.top_edges_eap_ig { h += "<h2>Top edges by |mean EAP-IG score|</h2>\n" + edgeTable(ig) }
        if let exact = e.top_edges_exact { h += "<h2>Top edges by |mean exact patching effect|</h2>\n" + edgeTable(exact) }

        let skipped = r.prompts.filter { $0.status != "done" }
        h += "<h2>Skipped pairs (\(skipped.count))</h2>\n"
        h += skipped.isEmpty ? "<p class=\"muted\">None.</p>\n" : table(["id", "reason"], skipped.map { [$0.id, $0.reason ?? ""] }, numeric: [], rowClass: "fail")
        h += "<h2>Pairs</h2>\n"
        h += table(["id", "status", "tokens", "seconds"], r.prompts.map {
            [$0.id, $0.status == "done" ? "scored" : "skipped", $0.n_tokens.map(String.init) ?? "", $0.seconds.map { String(format: "%.3f", $0) } ?? ""]
        }, numeric: [2, 3])
        h += "</body></html>\n"
        return h
    }

    static func methodName(_ m: String) -> String { ["eap": "EAP", "eap_ig": "EAP-IG", "exact": "exact patching effect"][m] ?? m }

    /// Where a component sits in the circuit drawing: row 0 the embeddings, then per layer a row
    /// of heads and a row for the MLP, the logits on top; the column within the row.
    static func place(_ component: String) -> (row: Int, column: Int)? {
        if component == "input" { return (0, 0) }
        if component == "pos" { return (0, 1) }
        if component == "logits" { return (Int.max, 0) }
        if component.hasPrefix("m"), let l = Int(component.dropFirst()) { return (2 * l + 2, 0) }
        if component.hasPrefix("a"), let dot = component.firstIndex(of: "."),
           let l = Int(component[component.index(after: component.startIndex)..<dot]),
           component[dot...].hasPrefix(".h"), let h = Int(component[component.index(dot, offsetBy: 2)...]) {
            return (2 * l + 1, h)
        }
        return nil
    }

    /// A receiver's component and input port: `a2.h3<q>` → (`a2.h3`, `q`), `m1` → (`m1`, nil).
    static func receiverPort(_ receiver: String) -> (component: String, port: String?) {
        guard let open = receiver.firstIndex(of: "<"), receiver.hasSuffix(">") else { return (receiver, nil) }
        return (String(receiver[..<open]), String(receiver[receiver.index(after: open)..<receiver.index(before: receiver.endIndex)]))
    }

    /// The circuit as a layered graph (SVG): every component of the model as a faint box (layers
    /// bottom to top: embeddings, then each layer's heads and MLP, the logits on top), the
    /// circuit's edges as curves from the sender's top to the receiver's bottom (query, key and
    /// value inputs enter a head at its left, middle and right; a near-vertical edge spanning
    /// several rows bows right, clear of the boxes between), width by |score|, colour by sign.
    static func circuitSVG(_ c: EAPSummary.Circuit, all e: EAPSummary) -> String {
        let placed = e.components.compactMap { name in place(name).map { (name, $0) } }
        let topRow = (placed.map(\.1.row).filter { $0 != Int.max }.max() ?? 0) + 1
        let rowOf = { (p: (row: Int, column: Int)) in p.row == Int.max ? topRow : p.row }
        var columns: [Int: Int] = [:]
        for (_, p) in placed { columns[rowOf(p)] = max(columns[rowOf(p)] ?? 0, p.column + 1) }
        let rowH = 64.0, boxW = 58.0, boxH = 20.0, margin = 40.0, width = 900.0
        let height = margin * 2 + rowH * Double(topRow)
        var centre: [String: (x: Double, y: Double)] = [:]
        for (name, p) in placed {
            let row = rowOf(p), n = Double(columns[row] ?? 1)
            let x = width / 2 + (Double(p.column) - (n - 1) / 2) * min(boxW + 14, (width - 2 * margin) / n)
            centre[name] = (x, height - margin - rowH * Double(row))
        }
        let peak = c.edges.map { abs($0.eap) }.max() ?? 1
        var s = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"circuit of \(c.size) edges\">"
        for x in c.edges.reversed() {   // the strongest drawn last, on top
            let (component, port) = receiverPort(x.receiver)
            guard let a = centre[x.sender], let b = centre[component] else { continue }
            let offsets: [String: Double] = ["q": -boxW / 3, "k": 0, "v": boxW / 3]
            let dx: Double = offsets[port ?? ""] ?? 0
            let x1: Double = a.x, y1: Double = a.y - boxH / 2, x2: Double = b.x + dx, y2: Double = b.y + boxH / 2
            let bend: Double = max(24, (y1 - y2) / 2)
            // A near-vertical edge over more than one row bows to the right, clear of the boxes between.
            let rows = ((y1 - y2) / rowH).rounded()
            let bow: Double = rows > 1 && abs(x2 - x1) < boxW * 1.5 ? min(320, 26 * rows) : 0
            let w: Double = 0.75 + 5 * abs(x.eap) / max(peak, Double.leastNonzeroMagnitude)
            let colour = x.eap < 0 ? "#4c78a8" : "#e45756"
            let d = String(format: "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1 + bow, y1 - bend, x2 + bow, y2 + bend, x2, y2)
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-opacity=\"0.75\" stroke-width=\(q(w))><title>\(esc(x.edge)): \(fmt(x.eap))</title></path>"
        }
        // Boxes over the curves, so that every label stays readable.
        for (name, p) in centre.sorted(by: { $0.key < $1.key }) {
            s += "<rect x=\(q(p.x - boxW / 2)) y=\(q(p.y - boxH / 2)) width=\(q(boxW)) height=\(q(boxH)) rx=\"3\" fill=\"#f4f4f4\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>"
            s += "<text x=\(q(p.x)) y=\(q(p.y + 4)) text-anchor=\"middle\">\(esc(name))</text>"
        }
        s += "<text x=\"8\" y=\"14\">\(c.edges.count) edges · width ∝ |mean \(methodName(c.method))| (max \(fmt(peak))) · </text>"
        s += "<text x=\"8\" y=\"28\" fill=\"#4c78a8\">negative: carries the clean answer</text><text x=\"220\" y=\"28\" fill=\"#e45756\">positive: works against it</text>"
        return s + "</svg>\n"
    }
}
