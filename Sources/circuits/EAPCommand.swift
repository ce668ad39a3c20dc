import ArgumentParser
import Foundation
import Logging
import Storage
import Tokenizers
import Tracer

extension Circuits {
    struct EAP: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "eap",
            abstract: "Score every edge between model components by Edge Attribution Patching over prompt pairs.",
            discussion: """
            Edge Attribution Patching (Syed, Rager, Conmy 2023) scores each edge sender → receiver of \
            the model's component graph (token and position embeddings, attention heads and MLPs send; \
            each head's query, key and value inputs, each MLP's input and the logits receive) by the \
            first-order estimate of patching it: (sender output on corrupt − on clean) · ∂L/∂(receiver \
            input) at the clean run, summed over positions and averaged over the pairs. L is --metric \
            at the last position: logit-diff (answer − wrong logit, the default), prob (p(answer)) or \
            kl (KL of the clean distribution to the run's; plain EAP is 0 with it, use --ig-steps).

            --ig-steps K adds EAP-IG (Hanna et al. 2024): the gradient averaged over K runs whose \
            embeddings go from corrupt to clean. --exact patches every edge for real (one full \
            forward per edge and pair: slow, for small models) and takes as ground truth the edges \
            whose mean exact effect |ΔL| is at least \(EdgeTruth.exactFraction * 100)% of the mean \
            |L(clean) − L(corrupt)|; --truth FILE gives the ground truth instead (one edge name per \
            line, e.g. a0.h1->m2; # comments). With a ground truth, each method's ROC curve (edges \
            ranked by |mean score|), its AUC (trapezoid) and ACDC's pessimistic AUC are written, and \
            plotted as an SVG beside --out (eap.h5 → eap-roc.svg).

            PAIRS.jsonl: one JSON object per line, {"id": "p1", "clean": "...", "corrupt": "...", \
            "answer": "austin", "wrong": "sacramento"} (id optional). Prompts are tokenized as \
            `circuits trace` does (BOS prepended) and must have the same number of tokens; answer and \
            wrong are the text following the prompt and must be one token each (byte-level BPE: with \
            its leading space, " Paris"). A bad line is reported on standard error (file:line, id, \
            reason), recorded in the output, and skipped; the run goes on.

            Output: --out (HDF5; groups /eap: summed scores, /eap_eval: means, truth, ROC curves and \
            AUCs, /eap_pairs: every line's outcome; docs/eap.md), a summary on standard output, \
            progress on standard error, and as the last line one JSON object (edges, pairs, skipped, \
            eap_s, auc_eap, pessimistic_auc_eap, and the same for eap_ig and exact when run).

            Example (the demo model's two-hop task):
              circuits eap --model models/demo/model --pairs jobs/eap-two-hop.jsonl --ig-steps 8 --exact --out eap.h5
            """
        )

        @Option(help: "Hugging Face model folder (config.json, model.safetensors, tokenizer.json).")
        var model: String

        @Option(help: "The pair file: JSON lines {\"id\"?, \"clean\", \"corrupt\", \"answer\", \"wrong\"}.")
        var pairs: String

        @Option(help: "The task metric L: logit-diff (answer − wrong logit), prob (p(answer)) or kl (KL(p_clean ‖ p)).")
        var metric: EAPMetric = .logitDiff

        @Option(help: "Also run EAP-IG with this many interpolation steps (1...\(Self.maxIGSteps); the demo results use 8).")
        var igSteps: Int?

        @Flag(help: "Also patch every edge exactly (one forward per edge and pair) and take its edges with |ΔL| ≥ \(EdgeTruth.exactFraction * 100)% of the mean total effect as ground truth.")
        var exact = false

        @Option(help: "Ground-truth edge set: one edge name per line (e.g. a0.h1->m2). Takes precedence over --exact's.")
        var truth: String?

        @Option(help: "Where to write the results (HDF5); the ROC plot goes beside it as NAME-roc.svg.")
        var out: String

        @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
        var threads: Int?

        @OptionGroup var logging: LoggingOptions

        static let maxIGSteps = 1000

        func validate() throws {
            if let igSteps, !(1...Self.maxIGSteps).contains(igSteps) {
                throw ValidationError("--ig-steps must be an integer from 1 to \(Self.maxIGSteps) (got \(igSteps))")
            }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        }

        /// `eap.h5` → `eap-roc.svg`, in the same folder.
        var plotURL: URL {
            let u = URL(fileURLWithPath: out)
            return u.deletingLastPathComponent().appendingPathComponent(u.deletingPathExtension().lastPathComponent + "-roc.svg")
        }

        func run() throws {
            try reportingErrors {
                if let threads { setBLASThreads(threads) }
                let logger = Logger(label: "circuits.eap")
                let outURL = URL(fileURLWithPath: out)
                try OutputLocation.checkFile(outURL, what: "EAP results (--out)")
                try OutputLocation.checkFile(plotURL, what: "ROC plot (beside --out)")
                let load = ContinuousClock.now
                let modelURL = URL(fileURLWithPath: model)
                let transformer = try Transformer(directory: modelURL)
                let tokenizer = try Tokenizer(modelDirectory: modelURL)
                let file = try PromptPairFile.read(URL(fileURLWithPath: pairs), tokenizer: tokenizer,
                                                   nVocab: transformer.config.nVocab, nCtx: transformer.config.nCtx)
                if file.pairs.isEmpty {
                    for e in file.skipped { logger.warning("\(file.message(for: e))") }
                    throw RunError(reason: "\(pairs): no usable pair (\(file.entries.count) lines, all skipped: see the lines above)")
                }
                let attribution = EdgeAttribution(model: transformer, metric: metric)
                let loadSeconds = (ContinuousClock.now - load).seconds
                let plan = String(format: "eap: %d pairs (%d skipped), %d edges, methods: eap", file.pairs.count, file.skipped.count, attribution.graph.edges.count)
                    + (igSteps.map { ", eap_ig (\($0) steps)" } ?? "") + (exact ? ", exact" : "") + String(format: "; loaded in %.2fs", loadSeconds)
                logger.info("\(plan)")
                var lastLog = ContinuousClock.now
                let run = try EAPScoring.run(file.entries, attribution: attribution, igSteps: igSteps, exact: exact) { done, total, row, elapsed in
                    if let reason = row.reason { logger.warning("\(file.path):\(row.line) (id \(row.id)): skipped: \(reason)") }
                    guard done == total || (ContinuousClock.now - lastLog).seconds >= 2 else { return }
                    lastLog = ContinuousClock.now
                    let eta = elapsed / Double(done) * Double(total - done)
                    logger.info("\(String(format: "eap: %d/%d lines, %.1fs, ETA %.0fs", done, total, elapsed, eta))")
                }
                guard run.sums.pairs > 0 else {
                    throw RunError(reason: "\(pairs): every pair was skipped (see the lines above)")
                }
                let evaluation = try EAPEvaluation(sums: run.sums, seconds: run.seconds, truthFile: truth.map { URL(fileURLWithPath: $0) })
                try EAPResultFile.write(sums: run.sums, evaluation: evaluation, table: run.table, model: model, pairsFile: pairs, to: outURL)
                var plot: String?
                let series = EdgeScoreSums.Method.allCases.compactMap { m in evaluation.curves[m].map { ROCPlot.Series(label: EAPSummary.label(m), curve: $0) } }
                if !series.isEmpty, let t = evaluation.truth {
                    let subtitle = "\(URL(fileURLWithPath: pairs).lastPathComponent): \(run.sums.pairs) pairs, \(metric.rawValue); truth: \(t.count) of \(t.mask.count) edges, "
                        + (t.threshold.map { String(format: "exact |ΔL| ≥ %.4g", $0) } ?? URL(fileURLWithPath: t.source).lastPathComponent)
                    try AtomicFile.write(Data(ROCPlot.svg(series, title: "ROC of edge scores against the ground truth", subtitle: subtitle).utf8), to: plotURL)
                    plot = plotURL.path
                } else if evaluation.truth != nil {
                    logger.warning("eap: no ROC curve: the ground truth holds \(evaluation.truth!.count) of \(run.sums.edges.count) edges (it needs at least one in and one out)")
                }
                let summary = EAPSummary(run: run, evaluation: evaluation, out: out, plot: plot)
                print(summary.text)
                print(try summary.json())
            }
        }
    }
}

extension EAPMetric: ExpressibleByArgument {}

/// What `circuits eap` prints: a few lines, then one JSON object.
struct EAPSummary {
    let run: EAPScoring
    let evaluation: EAPEvaluation
    let out: String
    let plot: String?

    static func label(_ m: EdgeScoreSums.Method) -> String {
        switch m {
        case .eap: return "EAP"
        case .eapIG: return "EAP-IG"
        case .exact: return "exact"
        }
    }

    var text: String {
        let s = run.sums
        var lines = ["pairs            \(s.pairs) scored, \(run.table.skipped) skipped; \(s.edges.count) edges; metric \(s.metric)",
                     String(format: "metric           mean L(clean) %.4f, L(corrupt) %.4f, |L(clean) − L(corrupt)| %.4f",
                            s.cleanMetric / Double(s.pairs), s.corruptMetric / Double(s.pairs), s.absoluteTotalEffect / Double(s.pairs))]
        if let t = evaluation.truth {
            lines.append("truth            \(t.count) of \(t.mask.count) edges (" + (t.threshold.map { String(format: "exact patching, |mean ΔL| ≥ %.4g", $0) } ?? t.source) + ")")
        }
        for m in EdgeScoreSums.Method.allCases {
            guard let secs = run.seconds[m] else { continue }
            var line = Self.label(m).padding(toLength: 17, withPad: " ", startingAt: 0)
                + String(format: "%.3fs (%.1f ms per pair)", secs, 1000 * secs / Double(max(s.pairs, 1)))
            if let c = evaluation.curves[m] { line += String(format: "; AUC %.4f, pessimistic %.4f", c.auc, c.pessimisticAUC) }
            lines.append(line)
        }
        if let eap = evaluation.means[.eap] {
            let top = eap.indices.sorted { abs(eap[$0]) > abs(eap[$1]) }.prefix(8)
            lines.append("top edges (EAP)  " + top.map { "\(s.edges[$0]) " + String(format: "%+.4g", eap[$0]) }.joined(separator: ", "))
        }
        lines.append("wrote            \(out)" + (plot.map { ", \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }

    /// The last line: counts, per-method seconds and AUCs (absent when not run or no truth).
    func json() throws -> String {
        var o: [String: Any] = ["edges": run.sums.edges.count, "pairs": run.sums.pairs, "skipped": run.table.skipped,
                                "metric": run.sums.metric, "out": out]
        for m in EdgeScoreSums.Method.allCases {
            if let secs = run.seconds[m] { o["\(m.rawValue)_s"] = secs }
            if let c = evaluation.curves[m] {
                o["auc_\(m.rawValue)"] = c.auc
                o["pessimistic_auc_\(m.rawValue)"] = c.pessimisticAUC
            }
        }
        if run.sums.igSteps > 0 { o["ig_steps"] = run.sums.igSteps }
        if let t = evaluation.truth {
            o["truth"] = t.source
            o["truth_edges"] = t.count
        }
        if let eap = run.seconds[.eap], let exact = run.seconds[.exact], exact > 0 { o["eap_over_exact_time"] = eap / exact }
        if let plot { o["plot"] = plot }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
