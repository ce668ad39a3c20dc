import ArgumentParser
import Foundation
import Shared
import Storage
import Tracer

extension Circuits.Bench {
    struct Dashboards: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Speed and size of feature-dashboard accumulation on a GPT-2-small-shaped synthetic set.",
            discussion: """
            Draws --tokens synthetic token positions (prompts of --prompt-tokens tokens) on which \
            about --active-per-slot of --width features per layer fire (skewed frequencies, \
            log-uniform activations), then feeds them to the dashboard accumulator on one core as \
            a worker does (task by task, each task's columns written to a shard, timed apart, and \
            dropped), merges the tasks as the \
            coordinator does, and writes the result to HDF5. The process keeps freed heap blocks, \
            as a worker process does. Reports tokens per second per core (the \
            target is ≥ 20,000), the bytes on disk per feature, and peak memory. The last line is \
            one JSON object. Example (release build):
              swift build -c release && .build/release/circuits bench dashboards
            """
        )
        @Option(help: "Layers.") var layers: Int = 12
        @Option(help: "Features per layer.") var width: Int = 8192
        @Option(help: "Token positions to accumulate.") var tokens: Int = 50_000
        @Option(help: "Tokens per synthetic prompt.") var promptTokens: Int = 64
        @Option(help: "Active features per layer and position.") var activePerSlot: Int = 32
        @Option(help: "Prompts per task (the worker builds each task's dashboards; the merge combines them).") var promptsPerTask: Int = 8
        @Option(help: "Top-activating contexts kept per feature.") var topK: Int = DashboardParameters().topK
        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                for (flag, value) in [("--layers", layers), ("--width", width), ("--tokens", tokens), ("--prompt-tokens", promptTokens),
                                      ("--top-k", topK), ("--prompts-per-task", promptsPerTask)] where value < 1 {
                    throw RunError(reason: "\(flag) must be at least 1 (got \(value))")
                }
                guard (1...width).contains(activePerSlot) else { throw RunError(reason: "--active-per-slot must be within 1...\(width)") }
                HeapRetention.keepFreedMemory()   // as `circuits worker` does (WorkerNode)
                var bench = DashboardBenchmark()
                bench.layers = layers; bench.width = width; bench.tokens = tokens; bench.promptTokens = promptTokens
                bench.activePerSlot = activePerSlot; bench.parameters.topK = topK; bench.promptsPerTask = promptsPerTask
                let r = try bench.run()
                print("""
                features             \(r.layers) layers × \(r.width), \(r.active_per_slot) active per layer and position
                accumulation         \(r.tokens) tokens (\(r.active_entries) active entries) in \(String(format: "%.2f", r.accumulate_s)) s \
                (\(String(format: "%.2f", r.accumulate_cpu_s)) s CPU): \(String(format: "%.0f", r.tokens_per_cpu_s)) tokens per CPU second \
                (\(String(format: "%.0f", r.tokens_per_s)) per wall second), tasks of \(r.prompts_per_task) prompts, \(r.accumulate_page_faults) page faults
                task shard           \(r.task_shard_bytes) bytes of /dashboards per task (mean), written in \(String(format: "%.2f", r.task_shard_write_cpu_s)) s CPU (gzip 4)
                merge                \(String(format: "%.2f", r.merge_s)) s (coordinator side)
                storage              \(r.file_bytes) bytes: \(String(format: "%.0f", r.bytes_per_feature)) per feature, \
                \(String(format: "%.0f", r.bytes_per_seen_feature)) per feature seen (\(r.features_seen)); top-k \(r.top_k), \
                \(r.samples_per_bin) samples per bin, windows of \(r.window_tokens) tokens
                peak RSS             \(String(format: "%.2f", Double(r.peak_rss_bytes) / 1e9)) GB
                """)
                try printJSONLine(r)
            }
        }
    }
}
