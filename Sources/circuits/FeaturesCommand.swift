import ArgumentParser
import Coordinator
import Foundation
import Serve
import Storage
import Tracer

extension Circuits {
    struct Features: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one feature's dashboard from a merged run (or circuit-tracer's feature JSON).",
            discussion: """
            What the feature responds to, from every prompt of the run: how often it is active, its \
            mean and largest activation, its activation histogram (log-spaced half-octave bins), its \
            top-activating contexts (the activating token in [brackets], highlighted on a terminal; \
            each context's prompt id and position), sampled contexts at activation quantiles, the \
            tokens its decoder direction promotes and suppresses through the unembedding, and the \
            labels whose prompts activate it. Features are spelt as the report spells them: \
            L<layer>/F<index>. Needs `circuits merge OUT` first, and a job run with dashboards \
            (statistics.dashboards: true, the default).

            --json prints circuit-tracer's feature file instead (transcoder_id, index, layer, \
            examples_quantiles with the top-k first, top_logits, bottom_logits, act_min, act_max, \
            quantile_values, histogram, activation_frequency; every example with its prompt_id and \
            position), the file `circuits export` writes beside a graph for circuit-tracer's viewer.

            Examples:
              circuits features out/demo --feature L0/F21
              circuits features out/demo --feature L2/F7 --json > L2-F7.json
            """
        )
        @Argument(help: "The run's output folder (with aggregate.h5).")
        var outdir: String

        @Option(help: "The feature, as L<layer>/F<index> (e.g. L0/F21).")
        var feature: String

        @Flag(help: "Print circuit-tracer's feature JSON instead of the text dashboard.")
        var json = false

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                guard let id = FeatureID(parsing: feature) else {
                    throw RunError(reason: "--feature must be spelt L<layer>/F<index>, like L0/F21 (got '\(feature)')")
                }
                let layout = RunLayout(root: URL(fileURLWithPath: outdir))
                let run = try RunDashboards(aggregate: layout.aggregate)
                let dashboard = try run.dashboard(id)
                if json {
                    let scan = RunFeatureDashboards.scan(of: layout)
                    FileHandle.standardOutput.write(try dashboard.encodedJSON(transcoderID: "\(scan)/\(id.layer)"))
                    print()
                } else {
                    print(DashboardText.render(dashboard, labels: run.labels, highlight: isatty(STDOUT_FILENO) == 1))
                }
            }
        }
    }
}

/// The terminal form of a feature dashboard.
enum DashboardText {
    static func render(_ d: FeatureDashboard, labels: LabelStatistics?, highlight: Bool) -> String {
        var s = "\(d.feature): active at \(d.activeCount) of \(d.tokensSeen) positions (frequency \(String(format: "%.5f", d.frequency)))"
        s += String(format: ", mean %.4f, max %.4f\n", d.meanActivation, d.maxActivation)
        let q = [50, 90, 99].map { String(format: "p%d %.3f", $0, d.quantileValues[$0 - 1]) }
        s += "quantiles: " + q.joined(separator: ", ") + "\n"
        s += "histogram (half-octave bins):\n" + histogram(d.histogram)
        for g in d.groups {
            s += "\n\(g.name):\n"
            for c in g.contexts {
                let text = c.tokens.enumerated().map { i, t in
                    i == c.index ? (highlight ? "\u{1B}[1;7m\(t)\u{1B}[0m" : "[\(t)]") : t
                }.joined(separator: " ")
                s += String(format: "  %8.4f  ", c.example.activation) + text + "   (\(c.promptID) @\(c.example.position))\n"
            }
        }
        if !d.topLogits.isEmpty {
            s += "\npromotes:   " + d.topLogits.map { String(format: "%@ %+.3f", $0.token, $0.value) }.joined(separator: "  ") + "\n"
            s += "suppresses: " + d.bottomLogits.map { String(format: "%@ %+.3f", $0.token, $0.value) }.joined(separator: "  ") + "\n"
        }
        if let labels {
            let shares = DashboardSummary(d, labels: labels).labels
            if !shares.isEmpty {
                s += "\nlabels: " + shares.map { "\($0.label) \($0.active_prompts)/\($0.prompts) prompts" }.joined(separator: ", ") + "\n"
            }
        }
        return s
    }

    /// One line per occupied bin: its range, a bar and the count.
    static func histogram(_ counts: [Int64]) -> String {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else { return "  (never active)\n" }
        let peak = Double(counts.max() ?? 1)
        return (first...last).map { b in
            let (lo, hi) = ActivationHistogram.range(of: b)
            let bar = String(repeating: "█", count: Int((40 * Double(counts[b]) / peak).rounded(.up)))
            return String(format: "  [%8.4g, %8.4g) ", lo, hi) + bar + " \(counts[b])"
        }.joined(separator: "\n") + "\n"
    }
}
