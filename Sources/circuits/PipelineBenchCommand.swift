import ArgumentParser
import Coordinator
import Foundation
import Logging
import Shared
import Tracer

extension Circuits.Bench {
    struct Pipeline: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Throughput of a corpus run with 1 and 2 local workers, without and with graph evaluation, and the coordinator's overhead per task.",
            discussion: """
            Runs the job from scratch once per worker count, each into a fresh temporary output \
            folder, in three variants: neither feature dashboards nor graph evaluation (`plain`), \
            dashboards on (`dashboards`), and dashboards with the job's `evaluation` section \
            (`features: 10` when the job has none; `evaluation`). Reports wall time, prompts per \
            second, and the seconds the coordinator spent handling messages (task dispatch, sha256 \
            and HDF5 verification of each shard, journal fsync) per task, and the cost of each \
            addition as a ratio of wall times: dashboards against plain, evaluation against \
            dashboards. The last line is one JSON object with the same numbers.

            Example (release build):
              swift build -c release && .build/release/circuits bench pipeline jobs/demo.yaml
            """
        )

        @Argument(help: "The job spec (YAML); its output folder is not touched.")
        var job: String = "jobs/demo.yaml"

        @Option(help: "Worker counts to compare, comma-separated.")
        var workers: String = "1,2"

        @Option(help: "Attribution threads per worker (default: cores / workers).")
        var threads: Int?

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                let counts = workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--workers: a list like 1,2") }
                var rows: [[String: Any]] = []
                print("workers  variant     prompts  tasks  wall_s  prompts/s  coordinator_ms/task  coordinator_share")
                var costs: [[String: Any]] = []
                for n in counts {
                    var wall: [String: Double] = [:]
                    for variant in ["plain", "dashboards", "evaluation"] {
                        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-bench-pipeline-\(UUID().uuidString.prefix(8))")
                        defer { try? FileManager.default.removeItem(at: scratch) }
                        var spec = try JobCheck.load(job, out: scratch.path)
                        spec.statistics.dashboards = variant != "plain"
                        spec.evaluation = variant == "evaluation" ? spec.evaluation ?? JobSpec.Evaluation() : nil
                        let o = try runLocally(spec, workers: n, threads: threads, display: nil)
                        let tasks = max(1, o.progress.tasksTotal)
                        let prompts = o.progress.promptsDone + o.progress.promptsFailed
                        let perTask = o.coordinatorSeconds / Double(tasks) * 1000
                        wall[variant] = o.wallSeconds
                        print(String(format: "%7d  %-10@  %7d  %5d  %6.2f  %9.2f  %19.2f  %16.4f", n, variant, prompts, tasks, o.wallSeconds,
                                     Double(prompts) / o.wallSeconds, perTask, o.coordinatorSeconds / o.wallSeconds))
                        rows.append(["workers": n, "variant": variant, "prompts": prompts, "tasks": tasks, "wall_s": o.wallSeconds,
                                     "prompts_per_s": Double(prompts) / o.wallSeconds, "coordinator_ms_per_task": perTask,
                                     "coordinator_share": o.coordinatorSeconds / o.wallSeconds,
                                     "evaluation_features": spec.evaluation?.features ?? 0, "bridge_swap": spec.evaluation?.facts != nil])
                    }
                    let cost: [String: Any] = ["workers": n, "dashboards_wall_ratio": wall["dashboards"]! / wall["plain"]!,
                                               "evaluation_wall_ratio": wall["evaluation"]! / wall["dashboards"]!]
                    print(String(format: "with %d workers: dashboards cost %.3f× the wall time without them; evaluation %.3f× the run without it",
                                 n, cost["dashboards_wall_ratio"] as! Double, cost["evaluation_wall_ratio"] as! Double))
                    costs.append(cost)
                }
                let json = try JSONSerialization.data(withJSONObject: ["job": job, "runs": rows, "costs": costs, "cores": ProcessInfo.processInfo.activeProcessorCount], options: [.sortedKeys])
                print(String(decoding: json, as: UTF8.self))
            }
        }
    }
}

extension Circuits.Bench {
    struct GlobalWeights: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "global-weights",
            abstract: "Time and memory of virtual weights and pair statistics on a random CLT-like set.",
            discussion: """
            Draws a seeded random transcoder set in memory (default: 12 layers × 8,192 features, \
            d_model 768, cross-layer decoders), computes the virtual weights of --targets random target \
            features against every earlier-layer source, and accumulates pair statistics over \
            --tokens synthetic positions (about --active-per-slot features per layer and position). \
            Prints a table, then one JSON object.

            --all: every feature's --top-k partners both ways (global-weights --all) over --tokens \
            synthetic positions with exactly --active-per-slot random features per layer and position, \
            on --workers threads within --memory-gb; the JSON has wall_s, cpu_s, peak_rss_bytes, features, tokens, \
            pairs_per_s (pair updates per second) and sgemm_gflops (one thread). \
            Example: circuits bench global-weights --all --tokens 100000
            """
        )
        @Option(help: "Layers.") var layers: Int = 12
        @Option(help: "Residual width.") var dModel: Int = 768
        @Option(help: "Features per layer.") var width: Int = 8192
        @Option(help: "Target features.") var targets: Int = 1000
        @Option(help: "clt or plt decoders.") var kind: String = "clt"
        @Option(help: "Synthetic token positions for the statistics.") var tokens: Int = 1000
        @Option(help: "Active features per layer and position in the statistics.") var activePerSlot: Int = 66
        @Option(help: "BLAS threads.") var threads: Int?
        @Flag(help: "Every feature's top-k partners both ways (the whole dictionary).") var all = false
        @Option(help: "With --all: partners kept per feature, direction and ranking.") var topK: Int = 32
        @Option(help: "With --all: threads.") var workers: Int = 2
        @Option(help: "With --all: memory budget in GB.") var memoryGb: Double = 8

        func validate() throws {
            guard kind == "clt" || kind == "plt" else { throw ValidationError("--kind: clt or plt") }
            for (name, value) in [("--layers", layers), ("--d-model", dModel), ("--width", width), ("--targets", targets),
                                  ("--tokens", tokens), ("--active-per-slot", activePerSlot), ("--top-k", topK), ("--workers", workers)] where value < 1 {
                throw ValidationError("\(name) must be at least 1")
            }
            if layers < 2 { throw ValidationError("--layers must be at least 2") }
            if !(memoryGb > 0) || !memoryGb.isFinite { throw ValidationError("--memory-gb must be a positive number of GB") }
        }

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                if let threads { setBLASThreads(threads) }
                var bench = GlobalWeightsBenchmark()
                bench.layers = layers; bench.dModel = dModel; bench.width = width; bench.targets = targets
                bench.crossLayer = kind == "clt"; bench.tokens = tokens; bench.activePerSlot = activePerSlot
                if all { return try runAll(bench) }
                let r = try bench.run(logger: Logger(label: "circuits.bench"))
                print("""
                transcoders          \(r.kind.uppercased()), \(r.layers) layers × \(r.width) features, d_model \(r.d_model) (drawn in \(String(format: "%.1f", r.setup_s)) s)
                virtual weights      \(r.targets) targets × \(r.sources) sources: \(String(format: "%.2f", r.virtual_weights_s)) s, \
                \(String(format: "%.0f", r.virtual_weights_gflops)) GFLOP/s (sgemm \(String(format: "%.0f", r.sgemm_gflops))), V \(r.v_bytes / 1_000_000) MB
                pair statistics      \(String(format: "%.3f", r.statistics_s_per_1000_tokens)) s per 1,000 tokens (\(r.pairs) pairs)
                peak RSS             \(String(format: "%.2f", Double(r.peak_rss_bytes) / 1e9)) GB
                """)
                printJSON(r)
            }
        }

        func runAll(_ shape: GlobalWeightsBenchmark) throws {
            var bench = GlobalWeightsAllBenchmark()
            bench.shape = shape; bench.topK = topK; bench.threads = workers; bench.memoryBudget = Int(memoryGb * 1e9)
            let r = try bench.run(logger: Logger(label: "circuits.bench"))
            print("""
            transcoders          \(r.kind.uppercased()), \(r.layers) layers × \(r.width) features, d_model \(r.d_model); \(r.tokens) positions, \(r.activations) activations (drawn in \(String(format: "%.1f", r.setup_s)) s)
            all partners         \(r.features) features × top \(r.top_k) both ways: \(String(format: "%.1f", r.wall_s)) s (index \(String(format: "%.1f", r.index_s)) s; CPU \(String(format: "%.1f", r.cpu_s)) s), \(r.threads) threads, tiles of \(r.tile_size)
            statistics           \(r.pair_updates) pair updates, \(String(format: "%.3g", r.pairs_per_s)) pairs/s (\(String(format: "%.0f", r.statistics_thread_s)) thread-s)
            virtual weights      \(String(format: "%.0f", r.virtual_weights_gflops_per_thread)) GFLOP/s per thread (sgemm \(String(format: "%.0f", r.sgemm_gflops)), \(String(format: "%.0f", r.gemm_thread_s)) thread-s)
            peak RSS             \(String(format: "%.2f", Double(r.peak_rss_bytes) / 1e9)) GB
            """)
            printJSON(r)
        }

        func printJSON(_ r: some Encodable) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self))
        }
    }
}
