import ArgumentParser
import Foundation
import Logging
import Storage
import Tracer

extension Circuits {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure speed and memory (build with -c release).",
            subcommands: [Attribution.self, Intervention.self, EAP.self, Pipeline.self, GlobalWeights.self, Dashboards.self, CoordinatorLoad.self, SimulatedWorkersCommand.self]
        )
    }
}

extension Circuits.Bench {
    struct Attribution: LoggingCommand {
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
            this machine class (2 cores). --preset llama-3.2-1b and --preset gemma-2-2b draw models \
            of those published shapes (bf16 weights, computed in float32) with 4,096 features per \
            layer, 8 active per layer and position, and 8 tokens; --arch with the shape options builds \
            other Llama or Gemma-2 shapes. Setup time (drawing the weights, calibrating the \
            transcoders) is reported apart from the trace.
            """
        )

        @Option(help: "A published model shape drawn at random (\(SyntheticModel.Preset.allCases.map(\.rawValue).joined(separator: ", "))); Llama and Gemma presets store bf16 weights.")
        var preset: SyntheticModel.Preset?
        @Option(help: "Architecture of a synthetic model of custom shape (\(SyntheticModel.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
        var arch: SyntheticModel.Architecture?
        @Option(help: "Layers of the synthetic model (default 12, or the preset's).") var layers: Int?
        @Option(help: "Residual width of the synthetic model (default 768, or the preset's).") var dModel: Int?
        @Option(help: "Attention heads of the synthetic model (default 12, or the preset's).") var heads: Int?
        @Option(help: "Key/value heads (llama, gemma2; default: --heads, or the preset's).") var kvHeads: Int?
        @Option(help: "Head width (llama, gemma2; default d_model / heads, or the preset's).") var dHead: Int?
        @Option(help: "MLP width (llama, gemma2; default 4·d_model, or the preset's).") var dMLP: Int?
        @Option(help: "Vocabulary of the synthetic model (default 50257, or the preset's).") var vocab: Int?
        @Option(help: "Weights as stored (f32 or bf16; llama and gemma2 only; default f32, bf16 for their presets).")
        var weights: NormalFill.Storage?
        @Option(help: "Transcoder features per layer (default 8192; 4096 for the llama and gemma presets).") var width: Int?
        @Option(help: "Prompt tokens, BOS added (default 16; 8 for the llama and gemma presets).") var tokens: Int?
        @Option(help: "Mean active features per layer and position (default 66; 8 for the llama and gemma presets).") var activePerSlot: Double?
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
        @OptionGroup var logging: LoggingOptions

        /// The synthetic shape: the preset (or GPT-2 small), then every option given.
        var shape: SyntheticModel.Shape {
            var s = preset?.shape ?? SyntheticModel.Shape()
            let small = preset == nil || preset == .gpt2Small
            if let arch { s.architecture = arch }
            if let layers { s.nLayers = layers }
            if let dModel { s.dModel = dModel }
            if let heads { s.nHeads = heads }
            if let kvHeads { s.nKVHeads = kvHeads }
            if let dHead { s.dHead = dHead }
            if let dMLP { s.dMLP = dMLP }
            if let vocab { s.nVocab = vocab }
            if let weights { s.weightStorage = weights }
            s.dTranscoder = width ?? (small ? 8192 : 4096)
            s.activePerSlot = activePerSlot ?? (small ? 66 : 8)
            s.nCtx = max(s.nCtx, promptTokens + 1)
            return s
        }
        var promptTokens: Int { tokens ?? (preset == nil || preset == .gpt2Small ? 16 : 8) }

        func validate() throws {
            if model != nil || transcoders != nil || prompt != nil {
                guard model != nil, transcoders != nil, prompt != nil else {
                    throw ValidationError("--model, --transcoders and --prompt go together")
                }
                guard preset == nil, arch == nil else { throw ValidationError("--preset and --arch build synthetic models; leave them out with --model") }
            }
            guard workerMemoryMb >= 0, rowMemoryMb >= 0 else { throw ValidationError("memory budgets must be ≥ 0 MiB") }
            let s = shape
            guard promptTokens >= 1, s.nLayers >= 1, s.dTranscoder >= 1, s.nHeads >= 1, s.dModel % s.nHeads == 0 || s.dHead != nil else {
                throw ValidationError("--tokens, --layers, --heads and --width must be positive and --d-model divisible by --heads")
            }
            guard s.nHeads % (s.nKVHeads ?? s.nHeads) == 0 else { throw ValidationError("--heads must be a multiple of --kv-heads") }
            if s.architecture == .gpt2, s.nKVHeads != nil || s.dHead != nil || s.dMLP != nil || s.weightStorage != .f32 {
                throw ValidationError("--kv-heads, --d-head, --d-mlp and --weights apply to llama and gemma2 models")
            }
        }

        func run() throws {
            try reportingErrors {
                if let threads { setBLASThreads(threads) }
                let logger = Logger(label: "circuits.bench")
                let replacement: ReplacementModel, ids: [Int]
                let setup = ContinuousClock.now
                let s = shape
                if let model, let transcoders, let prompt {
                    let session = try TraceSession(modelDirectory: URL(fileURLWithPath: model), transcoderDirectory: URL(fileURLWithPath: transcoders))
                    replacement = session.replacement
                    ids = try session.tokens(for: prompt)
                } else {
                    (replacement, ids) = try SyntheticBench.build(s, promptTokens: promptTokens, seed: seed, logger: logger)
                }
                let setupSeconds = (ContinuousClock.now - setup).seconds
                logger.info("\(String(format: "setup %.1fs; tracing %d positions", setupSeconds, ids.count))")
                var attribution = options.attribution
                attribution.workerMemoryBytes = workerMemoryMb << 20
                attribution.rowMemoryBytes = rowMemoryMb << 20
                var r = try AttributionBenchmark.run(replacement, tokens: ids, options: attribution,
                                                     nodeThreshold: options.nodeThreshold, edgeThreshold: options.edgeThreshold,
                                                     logger: logger)
                r.setup_s = setupSeconds
                if model == nil {
                    r.model = preset?.rawValue ?? "synthetic-\(s.architecture.rawValue)"
                    r.parameters = s.parameterCount
                    r.weight_storage = s.weightStorage.rawValue
                }
                print(BenchTable.render(r))
                try printJSONLine(r)
            }
        }
    }
}

extension Circuits.Bench {
    struct Intervention: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time one intervention against one plain forward pass.",
            discussion: """
            On the model of `circuits bench attribution` (GPT-2-small shape, 8,192 ReLU features per \
            layer, seeded, a random prompt of --tokens tokens plus BOS) or on real files (--model, \
            --transcoders, --prompt), times the forward pass with every layer's transcoder encoded \
            (the clean run) and one intervened pass on it (the strongest feature of the last \
            position set to zero), medians of --repeats runs after a warm-up. Prints both times, \
            ratio = (clean run + intervened pass) / clean run (one intervention from the prompt; \
            target at most 3), the intervened pass alone over the clean run, and the machine; then \
            one JSON line.
            """
        )

        @Option(help: "Prompt tokens of the synthetic model, BOS added.") var tokens: Int = 16
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Timed runs of each (the median is reported).") var repeats: Int = 5
        @Option(help: "iterative, frozen-attention, constrained (every layer) or replacement.") var mode: String = "iterative"
        @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
        @Option(help: "Real model folder (with --transcoders and --prompt).") var model: String?
        @Option(help: "Real transcoder folder.") var transcoders: String?
        @Option(help: "Prompt for real files.") var prompt: String?
        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                guard tokens >= 1, repeats >= 1 else { throw RunError(reason: "--tokens and --repeats must be at least 1") }
                guard InterventionMode.names.contains(mode) else {
                    throw RunError(reason: "--mode '\(mode)' is not one of \(InterventionMode.names.joined(separator: ", "))")
                }
                if let threads { setBLASThreads(threads) }
                let logger = Logger(label: "circuits.bench")
                let replacement: ReplacementModel, ids: [Int], name: String
                if model != nil || transcoders != nil || prompt != nil {
                    guard let model, let transcoders, let prompt else { throw RunError(reason: "--model, --transcoders and --prompt go together") }
                    let session = try TraceSession(modelDirectory: URL(fileURLWithPath: model), transcoderDirectory: URL(fileURLWithPath: transcoders))
                    (replacement, ids, name) = (session.replacement, try session.tokens(for: prompt), model)
                } else {
                    var s = SyntheticModel.Shape()
                    s.dTranscoder = 8192
                    s.activePerSlot = 66
                    s.nCtx = max(s.nCtx, tokens + 1)
                    (replacement, ids) = try SyntheticBench.build(s, promptTokens: tokens, seed: seed, logger: logger)
                    name = "synthetic-gpt2 (12 layers, d_model 768, 8192 features per layer)"
                }
                let L = replacement.transcoders.nLayers
                let modes: [String: InterventionMode] = ["iterative": .iterative, "frozen-attention": .frozenAttention,
                                                         "constrained": .constrained(0..<L), "replacement": .replacement]
                var r = try InterventionBenchmark.run(replacement, tokens: ids, mode: modes[mode]!, repeats: repeats)
                r.model = name
                let rows = [("model", name), ("machine", r.machine + ", \(r.threads) BLAS threads"), ("positions", "\(r.n_pos)"),
                            ("intervention", "\(r.intervention) (\(r.mode))"),
                            ("forward + encodings", String(format: "%.4f s", r.forward_s)),
                            ("intervened pass", String(format: "%.4f s", r.intervene_s)),
                            ("ratio", String(format: "%.2f (clean run + intervened pass) / clean run; %.2f intervened pass alone", r.ratio, r.intervene_ratio))]
                print(BenchTable.format(rows))
                try printJSONLine(r)
            }
        }
    }
}

extension Circuits.Bench {
    struct EAP: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "eap",
            abstract: "Time Edge Attribution Patching over random prompt pairs on a seeded model.",
            discussion: """
            Draws the GPT-2-small-shaped model of `circuits bench attribution` (12 layers, d_model 768, \
            12 heads, vocab 50257; seeded; no transcoders) and times EAP (`circuits eap`'s code, \
            logit-diff) over --pairs random pairs of --tokens tokens plus BOS, after one untimed \
            warm-up pair. The issue's target: 100 pairs of 16 tokens in at most 60 s. Build with -c release.

            Prints a table, then as its last line one JSON object: pairs, n_pos, edges, eap_s, \
            per_pair_ms, setup_s, model, threads, machine.
            """
        )

        @Option(help: "Prompt pairs.") var pairs: Int = 100
        @Option(help: "Tokens per prompt, BOS added.") var tokens: Int = 16
        @Option(help: "Layers of the synthetic model.") var layers: Int = 12
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard pairs >= 1, tokens >= 1, layers >= 1 else { throw ValidationError("--pairs, --tokens and --layers must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                if let threads { setBLASThreads(threads) }
                let logger = Logger(label: "circuits.bench")
                var s = SyntheticModel.Shape()
                s.nLayers = layers
                s.nCtx = max(s.nCtx, tokens + 1)
                let setup = ContinuousClock.now
                let model = try SyntheticModel.transformer(s, seed: seed)
                let setupSeconds = (ContinuousClock.now - setup).seconds
                let pairList = EAPBenchmark.randomPairs(pairs, promptTokens: tokens, nVocab: s.nVocab,
                                                        bos: model.config.bosTokenId ?? s.nVocab - 1, seed: seed &+ 1)
                logger.info("\(String(format: "setup %.1fs; EAP over %d pairs of %d positions", setupSeconds, pairs, tokens + 1))")
                let (seconds, edges) = try EAPBenchmark.run(model, pairs: pairList)
                let r = EAPBenchmarkResult(pairs: pairs, n_pos: tokens + 1, edges: edges, eap_s: seconds, per_pair_ms: 1000 * seconds / Double(pairs),
                                           setup_s: setupSeconds, model: "synthetic-gpt2 (\(s.nLayers) layers, d_model \(s.dModel), \(s.nHeads) heads, vocab \(s.nVocab))",
                                           threads: blasThreads, machine: InterventionBenchmark.machineDescription())
                print(BenchTable.format([("model", r.model), ("machine", r.machine + ", \(r.threads) BLAS threads"),
                                         ("pairs", "\(r.pairs) × \(r.n_pos) positions"), ("edges", "\(r.edges)"),
                                         ("setup", String(format: "%.1f s", r.setup_s)),
                                         ("EAP", String(format: "%.2f s (%.1f ms per pair)", r.eap_s, r.per_pair_ms))]))
                try printJSONLine(r)
            }
        }
    }
}

extension SyntheticModel.Preset: ExpressibleByArgument {}
extension SyntheticModel.Architecture: ExpressibleByArgument {}
extension NormalFill.Storage: ExpressibleByArgument {}

enum BenchTable {
    static func render(_ r: AttributionBenchmarkResult) -> String {
        var rows: [(String, String)] = [
            ("model", r.model.map { m in "\(m)" + (r.parameters.map { String(format: ", %.2fB parameters", Double($0) / 1e9) } ?? "")
                + (r.weight_storage.map { " as \($0)" } ?? "") } ?? "files"),
            ("setup", String(format: "%.1f s", r.setup_s ?? 0)),
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
        return format(rows)
    }

    /// Two columns, the names padded to the longest.
    static func format(_ rows: [(String, String)]) -> String {
        let w = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
