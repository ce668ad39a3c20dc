import Foundation
import Storage

/// Speed and size of feature-dashboard accumulation at GPT-2-small scale: synthetic prompts
/// whose positions each activate about `activePerSlot` of `width` features per layer (feature
/// frequencies skewed, activations log-uniform), cut into tasks of `promptsPerTask` prompts and
/// built as a worker builds them (`TaskDashboards`, entries converted from `ActiveFeature`s, one
/// core: the rate per worker core), each task's columns written to a shard (timed apart) and
/// dropped as a worker does; then merged task by task as the coordinator merges shards, and the
/// result written to HDF5 to measure the bytes per feature.
/// The caller sets the process's heap as a worker process does (`HeapRetention`).
public struct DashboardBenchmark: Sendable {
    public var layers = 12
    public var width = 8192
    public var tokens = 50_000
    public var promptTokens = 64
    public var activePerSlot = 32
    public var promptsPerTask = 8
    public var parameters = DashboardParameters()
    public var seed: UInt64 = 1
    public init() {}

    public struct Report: Codable, Sendable {
        public var layers: Int, width: Int, tokens: Int, prompt_tokens: Int, active_per_slot: Int
        public var top_k: Int, samples_per_bin: Int, window_tokens: Int
        public var active_entries: Int
        public var prompts_per_task: Int
        /// Merging the tasks' dashboards (coordinator side, not part of the per-core rate).
        public var merge_s: Double
        /// Wall time, and CPU time of this thread (the machine may be shared: the CPU time is the cost per core).
        public var accumulate_s: Double
        public var accumulate_cpu_s: Double
        /// Page faults this thread took while accumulating (fresh memory mapped in by the kernel).
        public var accumulate_page_faults: Int
        /// Writing a task's `/dashboards` into its shard as a worker does (HDF5, gzip 4; CPU seconds
        /// of this thread, not part of the accumulation rate), and the shard's bytes: means over the tasks.
        public var task_shard_write_cpu_s: Double
        public var task_shard_bytes: Int
        public var tokens_per_s: Double
        public var tokens_per_cpu_s: Double
        /// Features active at least once, and the `/dashboards` group's bytes on disk (HDF5, gzip 4).
        public var features_seen: Int
        public var file_bytes: Int
        public var bytes_per_feature: Double
        public var bytes_per_seen_feature: Double
        public var peak_rss_bytes: Int
    }

    public func run() throws -> Report {
        var rng = SeededRandom(seed: seed)
        let prompts = max(1, tokens / promptTokens)
        // Draw every prompt first (not timed): token ids, and (layer, pos, index) entries with values.
        var drawn: [(tokens: [Int], strings: [String], active: [ActiveFeature], values: [Float])] = []
        for _ in 0..<prompts {
            let n = promptTokens + 1
            let ids = (0..<n).map { _ in Int(rng.next() % 50257) }
            var active: [ActiveFeature] = [], values: [Float] = []
            for l in 0..<layers {
                for p in 1..<n {
                    var slot = Set<Int>()
                    while slot.count < activePerSlot {
                        let u = Double(rng.next() >> 11) / Double(1 << 53)
                        slot.insert(min(width - 1, Int(u * u * Double(width))))   // skewed: low indices fire more often
                    }
                    for f in slot.sorted() {
                        let z = Double(rng.next() >> 11) / Double(1 << 53)
                        active.append(ActiveFeature(layer: l, pos: p, index: f))
                        values.append(Float(Foundation.exp(3 * z - 1)))               // log-uniform over e^-1…e^2
                    }
                }
            }
            drawn.append((ids, ids.map { "t\($0)" }, active, values))
        }
        // First as a worker runs its tasks, one after the other: convert the task's activations
        // and build its columns (timed: the rate per worker core), write them to the task's shard
        // (timed apart) and drop them. Then as the coordinator merges the shards (`merge_s`; the
        // columns rebuilt, untimed, rather than held: holding every task's would not be a worker's
        // heap, and merging in between would not be a worker's process).
        func task(_ first: Int) -> [TaskDashboards.Prompt] {
            (first..<min(drawn.count, first + promptsPerTask)).map { k in
                let p = drawn[k]
                return TaskDashboards.Prompt(ordinal: Int64(k), tokens: p.tokens.map { Int32($0) }, strings: p.strings,
                                             features: p.active.map { Int32($0.layer * width + $0.index) },
                                             positions: p.active.map { Int32($0.pos) }, values: p.values)
            }
        }
        let firsts = Array(stride(from: 0, to: drawn.count, by: promptsPerTask))
        var seconds = 0.0, cpu = 0.0, faults = 0, shardSeconds = 0.0, shardBytes = 0
        let dir = FileManager.default.temporaryDirectory
        for first in firsts {
            let start = ContinuousClock.now, cpuStart = Self.threadCPUSeconds(), faultStart = Self.threadPageFaults()
            let columns = TaskDashboards.build(task(first), nLayers: layers, dTranscoder: width, parameters: parameters)
            seconds += (ContinuousClock.now - start).seconds; cpu += Self.threadCPUSeconds() - cpuStart
            faults += Self.threadPageFaults() - faultStart
            let shard = dir.appendingPathComponent("circuits-bench-dashboards-task-\(UUID().uuidString.prefix(8)).h5")
            defer { try? FileManager.default.removeItem(at: shard) }
            let shardStart = Self.threadCPUSeconds()
            let f = try HDF5File.create(shard)
            try FeatureDashboardsFile.write(columns, into: f)
            f.close()
            shardSeconds += Self.threadCPUSeconds() - shardStart
            shardBytes += (try FileManager.default.attributesOfItem(atPath: shard.path)[.size] as? Int) ?? 0
        }
        shardSeconds /= Double(firsts.count); shardBytes /= firsts.count
        var d = FeatureDashboards(nLayers: layers, dTranscoder: width, parameters: parameters)
        var mergeSeconds = 0.0
        for first in firsts {
            let columns = TaskDashboards.build(task(first), nLayers: layers, dTranscoder: width, parameters: parameters)
            let mergeStart = ContinuousClock.now
            try d.add(columns)
            mergeSeconds += (ContinuousClock.now - mergeStart).seconds
        }
        let file = dir.appendingPathComponent("circuits-bench-dashboards-\(UUID().uuidString.prefix(8)).h5")
        defer { try? FileManager.default.removeItem(at: file) }
        let f = try HDF5File.create(file)
        try FeatureDashboardsFile.write(d, into: f)
        f.close()
        let bytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let seen = d.maxActivation.filter { $0 > 0 }.count
        let seenTokens = prompts * promptTokens
        return Report(layers: layers, width: width, tokens: seenTokens, prompt_tokens: promptTokens, active_per_slot: activePerSlot,
                      top_k: parameters.topK, samples_per_bin: parameters.samplesPerBin,
                      window_tokens: parameters.windowBefore + 1 + parameters.windowAfter,
                      active_entries: drawn.reduce(0) { $0 + $1.active.count }, prompts_per_task: promptsPerTask, merge_s: mergeSeconds,
                      accumulate_s: seconds, accumulate_cpu_s: cpu, accumulate_page_faults: faults,
                      task_shard_write_cpu_s: shardSeconds, task_shard_bytes: shardBytes,
                      tokens_per_s: Double(seenTokens) / seconds, tokens_per_cpu_s: Double(seenTokens) / cpu, features_seen: seen, file_bytes: bytes,
                      bytes_per_feature: Double(bytes) / Double(layers * width), bytes_per_seen_feature: Double(bytes) / Double(max(1, seen)),
                      peak_rss_bytes: peakResidentBytes())
    }

    /// Page faults (minor and major) this thread has taken.
    static func threadPageFaults() -> Int {
        var u = rusage()
        getrusage(1, &u)   // RUSAGE_THREAD (GNU, not imported into Swift)
        return u.ru_minflt + u.ru_majflt
    }

    /// CPU seconds this thread has run.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
