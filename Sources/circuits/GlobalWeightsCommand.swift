import ArgumentParser
import Coordinator
import Foundation
import Logging
import Shared
import Storage
import Tracer

extension Circuits {
    struct GlobalWeights: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "global-weights",
            abstract: "Virtual weights between transcoder features, filtered by corpus co-activation (ERA, TWERA).",
            discussion: """
            For a set of target features, computes the virtual weight V[t, s] from every earlier-layer \
            source feature (decoder · encoder through the residual stream), and the corpus statistics \
            that filter it: ERA = V·E[a_s·1(a_t > 0)] and TWERA = V·E[a_s·a_t]/E[a_t], expectations over \
            every non-BOS token of the corpus. Pairs never active together get 0.

            Targets: --targets (explicit), --top K (the K features most often active in the run's \
            corpus), or --recurring K (the K features in the most pruned graphs). The pair statistics \
            come from the run itself when its job listed these targets (`statistics.targets`); \
            otherwise a statistics-only pass over the corpus (forward passes, no attribution) runs \
            first, with the job's local worker count, into OUT/global-stats-<hash>/ (resumable).

            Writes OUT/global_weights.h5, OUT/prefilter.json (pairs with |TWERA| ≥ --threshold, for \
            `circuits trace --prefilter`), and adds the per-target top sources to OUT/report.*.

            --all: every feature of the dictionary, both ways: its --top-k upstream sources and \
            downstream targets by |TWERA|, by |ERA|, and the largest |V| the co-activation filter removed \
            (interference), with exact statistics over the corpus (a statistics pass that keeps every \
            position's activations, resumable, into OUT/global-stats-<hash>/; then blocks of targets on \
            --workers threads within --memory-gb). Writes the /all group of OUT/global_weights.h5 (the \
            --top tables stay) and OUT/prefilter.json.

            Examples:
              circuits global-weights out/demo --top 20
              circuits global-weights out/demo --all --top-k 32
            """
        )

        @Argument(help: "The run's output folder (merged: aggregate.h5).")
        var outdir: String

        @Option(help: "Explicit targets, comma-separated LAYER:FEATURE (e.g. 2:17,3:5).")
        var targets: String?

        @Option(help: "The K features most often active in the corpus.")
        var top: Int?

        @Option(help: "The K features that recur in the most pruned graphs.")
        var recurring: Int?

        @Option(help: "Prefilter: keep pairs with |TWERA| at least this.")
        var threshold: Float = 1e-3

        @Option(help: "Prefilter: at most this many pairs.")
        var limit: Int = 1000

        @Option(help: "Extra sources per target: its largest |V| (shows what the co-activation filter removed).")
        var extraSources: Int = 10

        @Flag(help: "Every feature's strongest partners both ways (the whole dictionary; see above).")
        var all = false

        @Option(help: "With --all: partners kept per feature, direction and ranking.")
        var topK: Int = 32

        @Option(help: "With --all: memory budget in GB (decides the target tile size).")
        var memoryGb: Double = 8

        @Option(help: "Worker processes for a statistics pass, and threads for --all (default: the job's `workers`).")
        var workers: Int?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if [targets != nil, top != nil, recurring != nil, all].filter({ $0 }).count > 1 {
                throw ValidationError("give one of --targets, --top, --recurring, --all")
            }
            if topK < 1 { throw ValidationError("--top-k must be at least 1") }
            if !(memoryGb > 0) || !memoryGb.isFinite { throw ValidationError("--memory-gb must be a positive number of GB") }
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            if let top, top < 1 { throw ValidationError("--top must be at least 1") }
            if let recurring, recurring < 1 { throw ValidationError("--recurring must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                SignalFlag.shared.install()
                let layout = RunLayout(root: URL(fileURLWithPath: outdir))
                let job = try layout.loadJob()
                guard job.eap == nil else {
                    throw RunError(reason: "\(outdir) is an EAP run (prompt pairs, no transcoders): global weights need a corpus run with transcoders")
                }
                if all { return try runAll(job: job, layout: layout) }
                let chosen = try chooseTargets(layout)
                guard !chosen.isEmpty else { throw RunError(reason: "no target features (the corpus activated none above layer 0)") }
                Logger(label: "circuits.global-weights").info("global weights: \(chosen.count) targets")

                let replacement = try ReplacementModel(modelDirectory: URL(fileURLWithPath: job.model),
                                                       transcoderDirectory: URL(fileURLWithPath: job.transcoders))
                let tc = replacement.transcoders
                for t in chosen where t.layer >= tc.nLayers || t.feature >= tc.dTranscoder {
                    throw ValidationError("target \(t) is outside the transcoders (\(tc.nLayers) layers × \(tc.dTranscoder) features)")
                }
                let stats = try statistics(for: chosen, job: job, layout: layout)
                guard let pairs = stats.pairs else { throw RunError(reason: "the statistics pass wrote no pair statistics") }
                let start = ContinuousClock.now
                let table = try GlobalWeightsTable(pairs: pairs, sumActivation: stats.sumActivation, tokensSeen: stats.tokensSeen,
                                                   transcoders: tc, reading: ResidualReading(replacement), extraSources: extraSources)
                let url = layout.root.appendingPathComponent("global_weights.h5")
                try table.write(to: url, transcoderFolder: job.transcoders)
                let prefilter = table.prefilter(threshold: threshold, limit: limit, transcoderFolder: job.transcoders)
                try write(prefilter, layout)
                let removed = zip(table.virtualWeights, table.coactivationCount).filter { $0.1 == 0 && $0.0 != 0 }.count
                print("""
                \(table.targets.count) targets × \(table.sources.count) sources in \(String(format: "%.2f", (ContinuousClock.now - start).seconds)) s \
                (\(stats.tokensSeen) tokens); \(removed) non-zero virtual weights never co-active (ERA = TWERA = 0)
                  \(url.path)
                  \(layout.root.appendingPathComponent("prefilter.json").path): \(prefilter.pairs.count) pairs, \(prefilter.features.count) features
                """)
                if FileManager.default.fileExists(atPath: layout.aggregate.path) { try Reporter.write(layout) }
            }
        }

        func chooseTargets(_ layout: RunLayout) throws -> [FeatureID] {
            if let targets {
                return try targets.split(separator: ",").map { item in
                    let parts = item.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                    guard parts.count == 2, let l = parts[0], let f = parts[1], l >= 0, f >= 0 else {
                        throw ValidationError("--targets: '\(item)' is not LAYER:FEATURE")
                    }
                    return FeatureID(layer: l, feature: f)
                }
            }
            if let recurring { return try Aggregate(url: layout.aggregate).recurringFeatures(recurring) }
            return try AggregateStatistics(url: layout.aggregate).mostFrequent(top ?? 100)
        }

        func write(_ prefilter: GlobalWeightsTable.Prefilter, _ layout: RunLayout) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(prefilter).write(to: layout.root.appendingPathComponent("prefilter.json"), options: .atomic)
        }

        /// The run's own statistics when they cover `targets`, else a statistics-only pass.
        func statistics(for targets: [FeatureID], job: JobSpec, layout: RunLayout) throws -> AggregateStatistics {
            if FileManager.default.fileExists(atPath: layout.aggregate.path) {
                let own = try AggregateStatistics(url: layout.aggregate)
                if let pairs = own.pairs, pairs.targets == targets { return own }
            }
            var statistics = JobSpec.Statistics()
            statistics.targets = targets.map { [$0.layer, $0.feature] }
            return try AggregateStatistics(url: statisticsPass(statistics, job: job, layout: layout).aggregate)
        }

        /// Runs (or resumes) a statistics-only pass of the job's corpus into
        /// OUT/global-stats-<hash>/ with the local worker count, merged; returns its layout.
        func statisticsPass(_ statistics: JobSpec.Statistics, job: JobSpec, layout: RunLayout) throws -> RunLayout {
            var pass = job
            pass.statistics = statistics
            pass.statistics.attribution = false
            pass.evaluation = nil   // no graphs to evaluate, no bridges to swap
            pass.keepFullGraphs = false
            let folder = layout.root.appendingPathComponent("global-stats-\(pass.hash.prefix(12))")
            pass.output = folder.path
            Logger(label: "circuits.global-weights").info("global weights: statistics pass (forward passes only) into \(folder.path)")
            let statsLayout = RunLayout(root: folder)
            _ = try runLocally(pass, workers: workers ?? job.workers, threads: nil, display: ProgressDisplay())
            _ = try Merger.merge(statsLayout)
            return statsLayout
        }
    }
}
