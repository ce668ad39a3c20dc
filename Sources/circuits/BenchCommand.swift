import ArgumentParser
import Foundation
import Tracer

extension Circuits {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure speed and memory (build with -c release).",
            subcommands: [Attribution.self]
        )
    }
}

extension Circuits.Bench {
    struct Attribution: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time one whole trace on a seeded random model, or on real files.",
            discussion: """
            Without --model, builds a GPT-2-architecture model and per-layer ReLU transcoders of the \
            given shape in memory (seeded; encoder biases calibrated so that about --active-per-slot \
            features fire per layer and position) and traces a random prompt of --tokens tokens plus BOS. \
            With --model, --transcoders and --prompt it traces real files instead.

            Prints a table, then as its last line one JSON object: wall_s, phases, peak_rss_bytes, \
            active_features, edges, gflops (useful work of the backward passes), sgemm_gflops (1024³ \
            sgemm measured in the same run) and efficiency = gflops / (wall_s × sgemm_gflops).

            Long prompts: --tokens 1024 --max-feature-nodes 8192 (the context grows with --tokens). \
            Under --max-feature-nodes only the visited rows are kept, packed to their non-zero columns, \
            up to --row-memory-mb in memory and the rest in an unlinked temporary file.

            Default shape: GPT-2 small (12 layers, d_model 768, 12 heads, vocab 50257) with 8,192 \
            features per layer and 16 tokens: the workload circuit-tracer 0.5.0 takes 232 s for on \
            this machine class (2 cores).
            """
        )

        @Option(help: "Layers of the synthetic model.") var layers = 12
        @Option(help: "Residual width of the synthetic model.") var dModel = 768
        @Option(help: "Attention heads of the synthetic model.") var heads = 12
        @Option(help: "Vocabulary of the synthetic model.") var vocab = 50257
        @Option(help: "Transcoder features per layer.") var width = 8192
        @Option(help: "Prompt tokens (BOS is added).") var tokens = 16
        @Option(help: "Mean active features per layer and position (synthetic transcoders).") var activePerSlot = 66.0
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
        @Option(help: "Real model folder (with --transcoders and --prompt).") var model: String?
        @Option(help: "Real transcoder folder.") var transcoders: String?
        @Option(help: "Prompt for real files.") var prompt: String?
        @Option(help: "Work memory per backward thread in MiB (long prompts run fewer targets per pass).")
        var workerMemoryMb = AttributionOptions.defaultWorkerMemoryBytes >> 20
        @Option(help: "Visited rows kept in memory under --max-feature-nodes, in MiB (the rest go to a temporary file).")
        var rowMemoryMb = AttributionOptions.defaultRowMemoryBytes >> 20
        @OptionGroup var options: AttributionOptionGroup

        func validate() throws {
            if model != nil || transcoders != nil || prompt != nil {
                guard model != nil, transcoders != nil, prompt != nil else {
                    throw ValidationError("--model, --transcoders and --prompt go together")
                }
            }
            guard workerMemoryMb >= 0, rowMemoryMb >= 0 else { throw ValidationError("memory budgets must be ≥ 0 MiB") }
            guard tokens >= 1, layers >= 1, width >= 1, dModel % heads == 0 else {
                throw ValidationError("--tokens, --layers and --width must be positive and --d-model divisible by --heads")
            }
        }

        func run() throws {
            try reportingErrors {
                if let threads { setBLASThreads(threads) }
                let replacement: ReplacementModel, ids: [Int]
                let setup = Date()
                if let model, let transcoders, let prompt {
                    let session = try TraceSession(modelDirectory: URL(fileURLWithPath: model), transcoderDirectory: URL(fileURLWithPath: transcoders))
                    replacement = session.replacement
                    ids = try session.tokens(for: prompt)
                } else {
                    var shape = SyntheticModel.Shape()
                    shape.nLayers = layers; shape.dModel = dModel; shape.nHeads = heads; shape.nVocab = vocab
                    shape.dTranscoder = width; shape.activePerSlot = activePerSlot
                    shape.nCtx = max(1024, tokens + 1)
                    log("building a synthetic model: \(layers) layers, d_model \(dModel), \(heads) heads, vocab \(vocab), \(width) features per layer")
                    let m = try SyntheticModel.transformer(shape, seed: seed)
                    var rng = SeededRandom(seed: seed &+ 1)
                    func randomPrompt() -> [Int] { [vocab - 1] + (0..<tokens).map { _ in Int(rng.next() % UInt64(vocab - 1)) } }
                    // Calibration prompts shaped like the traced one (at least 4, 256+ positions in all).
                    // Beyond 256 tokens a few random prompts calibrate badly (late positions of one
                    // prompt are strongly correlated), so the traced prompt itself is the calibration:
                    // about --active-per-slot features fire per slot of the traced prompt.
                    let calibration: [[Int]]
                    if tokens <= 256 {
                        calibration = (0..<max(4, 256 / tokens)).map { _ in randomPrompt() }
                        ids = randomPrompt()
                    } else {
                        ids = randomPrompt()
                        calibration = [ids]
                    }
                    let tc = try SyntheticModel.transcoders(shape, model: m, calibration: calibration, seed: seed &+ 2)
                    replacement = ReplacementModel(model: m, transcoders: tc)
                }
                log(String(format: "setup %.1fs; tracing %d positions", Date().timeIntervalSince(setup), ids.count))
                var attribution = options.attribution
                attribution.workerMemoryBytes = workerMemoryMb << 20
                attribution.rowMemoryBytes = rowMemoryMb << 20
                let r = try AttributionBenchmark.run(replacement, tokens: ids, options: attribution,
                                                     nodeThreshold: options.nodeThreshold, edgeThreshold: options.edgeThreshold)
                print(BenchTable.render(r))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(r), as: UTF8.self))
            }
        }
    }
}

enum BenchTable {
    static func render(_ r: AttributionBenchmarkResult) -> String {
        var rows: [(String, String)] = [
            ("positions", "\(r.n_pos)"), ("active features", "\(r.active_features)"),
            ("nodes / edges", "\(r.nodes) / \(r.edges)"), ("after pruning", "\(r.pruned_nodes) / \(r.pruned_edges)"),
        ]
        for k in ["forward", "transcoders", "logit_rows", "feature_rows", "pruning_and_scores"] {
            rows.append(("  " + k, String(format: "%.3f s", r.phases[k] ?? 0)))
        }
        rows += [
            ("wall", String(format: "%.3f s", r.wall_s)),
            ("peak RSS", String(format: "%.2f GB", Double(r.peak_rss_bytes) / 1e9)),
            ("backward work", String(format: "%.1f GFLOP (%.1f GFLOP/s)", r.gflops, r.backward_gflops_per_s)),
            ("sgemm 1024³", String(format: "%.1f GFLOP/s (%d threads)", r.sgemm_gflops, r.threads)),
            ("efficiency", String(format: "%.1f %%", 100 * r.efficiency)),
            ("scores", String(format: "replacement %.4f, completeness %.4f", r.replacement_score, r.completeness_score)),
        ]
        let w = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
