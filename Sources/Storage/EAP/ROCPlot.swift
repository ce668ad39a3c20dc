import Foundation

/// An SVG plot of ROC curves (`circuits eap`'s `*-roc.svg`): unit square with a 0.2 grid, the
/// chance diagonal, one polyline per curve (points joined by straight segments, the same
/// segments the trapezoid AUC integrates), and a legend with each curve's AUC and pessimistic AUC.
public enum ROCPlot {
    /// One curve and its legend label.
    public struct Series: Sendable {
        public var label: String
        public var curve: ROCCurve
        public init(label: String, curve: ROCCurve) {
            self.label = label
            self.curve = curve
        }
    }

    /// Line colours in series order (colour-blind-safe Okabe–Ito blue, vermillion, green, purple).
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]

    /// The SVG document. `title` and `subtitle` are escaped; the subtitle says what the truth is.
    public static func svg(_ series: [Series], title: String, subtitle: String) -> String {
        let side = 400.0, left = 70.0, top = 70.0, width = left + side + 30, height = top + side + 60
        func x(_ v: Double) -> String { String(format: "%.2f", left + v * side) }
        func y(_ v: Double) -> String { String(format: "%.2f", top + (1 - v) * side) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(x(0.5))" y="24" font-size="16" font-weight="bold" text-anchor="middle">\(escape(title))</text>
        <text x="\(x(0.5))" y="44" font-size="12" fill="#444" text-anchor="middle">\(escape(subtitle))</text>

        """
        for k in 0...5 {
            let v = Double(k) / 5, label = String(format: "%.1f", v)
            s += "<line x1=\"\(x(v))\" y1=\"\(y(0))\" x2=\"\(x(v))\" y2=\"\(y(1))\" stroke=\"#e5e5e5\"/>\n"
            s += "<line x1=\"\(x(0))\" y1=\"\(y(v))\" x2=\"\(x(1))\" y2=\"\(y(v))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(x(v))\" y=\"\(String(format: "%.2f", top + side + 18))\" font-size=\"12\" text-anchor=\"middle\">\(label)</text>\n"
            s += "<text x=\"\(String(format: "%.2f", left - 8))\" y=\"\(y(v))\" font-size=\"12\" text-anchor=\"end\" dominant-baseline=\"middle\">\(label)</text>\n"
        }
        s += "<rect x=\"\(x(0))\" y=\"\(y(1))\" width=\"\(Int(side))\" height=\"\(Int(side))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<line x1=\"\(x(0))\" y1=\"\(y(0))\" x2=\"\(x(1))\" y2=\"\(y(1))\" stroke=\"#999\" stroke-dasharray=\"5,4\"/>\n"
        s += "<text x=\"\(x(0.5))\" y=\"\(String(format: "%.2f", top + side + 42))\" font-size=\"13\" text-anchor=\"middle\">false positive rate</text>\n"
        s += "<text transform=\"translate(\(String(format: "%.2f", left - 45)),\(y(0.5))) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">true positive rate</text>\n"
        for (i, item) in series.enumerated() {
            let c = item.curve, colour = colours[i % colours.count]
            let points = zip(c.fpr, c.tpr).map { "\(x($0)),\(y($1))" }.joined(separator: " ")
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>\n"
        }
        // Legend, lower right inside the plot (where a useful ROC curve never is).
        let rowHeight = 20.0, boxWidth = 250.0
        let boxX = left + side - boxWidth - 8, boxY = top + side - 8 - rowHeight * Double(series.count + 1) - 6
        s += "<rect x=\"\(String(format: "%.2f", boxX))\" y=\"\(String(format: "%.2f", boxY))\" width=\"\(Int(boxWidth))\" height=\"\(String(format: "%.2f", rowHeight * Double(series.count + 1) + 6))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n"
        for (i, item) in series.enumerated() {
            let rowY = boxY + 6 + rowHeight * (Double(i) + 0.5), colour = colours[i % colours.count]
            s += "<line x1=\"\(String(format: "%.2f", boxX + 10))\" y1=\"\(String(format: "%.2f", rowY))\" x2=\"\(String(format: "%.2f", boxX + 34))\" y2=\"\(String(format: "%.2f", rowY))\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>\n"
            let text = "\(item.label): AUC \(String(format: "%.3f", item.curve.auc)) (pessimistic \(String(format: "%.3f", item.curve.pessimisticAUC)))"
            s += "<text x=\"\(String(format: "%.2f", boxX + 42))\" y=\"\(String(format: "%.2f", rowY))\" font-size=\"12\" dominant-baseline=\"middle\">\(escape(text))</text>\n"
        }
        let chanceY = boxY + 6 + rowHeight * (Double(series.count) + 0.5)
        s += "<line x1=\"\(String(format: "%.2f", boxX + 10))\" y1=\"\(String(format: "%.2f", chanceY))\" x2=\"\(String(format: "%.2f", boxX + 34))\" y2=\"\(String(format: "%.2f", chanceY))\" stroke=\"#999\" stroke-dasharray=\"5,4\"/>\n"
        s += "<text x=\"\(String(format: "%.2f", boxX + 42))\" y=\"\(String(format: "%.2f", chanceY))\" font-size=\"12\" dominant-baseline=\"middle\">chance: AUC 0.5</text>\n"
        s += "</svg>\n"
        return s
    }

    static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
