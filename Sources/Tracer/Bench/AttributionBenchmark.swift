import Foundation
import Logging
import Storage
import Synchronization

/// What `circuits bench attribution` measures: one whole trace (forward, every feature row,
/// logit rows, pruning, scores) and, in the same process, the machine's sgemm rate, so that the
/// FLOP efficiency is a ratio measured in one run.
public struct AttributionBenchmarkResult: Codable, Sendable {
    public var wall_s: Double
    public var phases: [String: Double]
    public var peak_rss_bytes: Int
    public var n_pos: Int
    public var active_features: Int
    /// Feature nodes of the graph (all active features, or `max_feature_nodes`).
    public var selected_features: Int
    /// Transcoder features per layer.
    public var width: Int
    /// Targets per backward pass after the per-thread memory budget.
    public var chunk_size: Int?
    public var nodes: Int
    public var edges: Int
    public var pruned_nodes: Int
    public var pruned_edges: Int
    /// Useful work of the backward passes (GFLOP) …
    public var gflops: Double
    /// … per second of the feature- and logit-row phases.
    public var backward_gflops_per_s: Double
    /// sgemm 1024³ rate measured in this run with the same threads (GFLOP/s).
    public var sgemm_gflops: Double
    /// `gflops / (wall_s × sgemm_gflops)`.
    public var efficiency: Double
    public var replacement_score: Double
    public var completeness_score: Double
    public var threads: Int
    /// Synthetic runs: the preset or architecture, its weight count and storage, and the seconds
    /// spent drawing it and calibrating its transcoders (not part of `wall_s`).
    public var model: String?
    public var parameters: Int?
    public var weight_storage: String?
    public var setup_s: Double?
}

public enum AttributionBenchmark {
    /// Times `trace` of `tokens` and measures sgemm in the same process; `logger` gets progress
    /// every tenth of the feature rows (long prompts take minutes).
    public static func run(_ replacement: ReplacementModel, tokens: [Int], options: AttributionOptions,
                           nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                           edgeThreshold: Double = GraphConstants.defaultEdgeThreshold,
                           logger: Logger = Logger(label: "circuits.bench", factory: { _ in SwiftLogNoOpLogHandler() })) throws -> AttributionBenchmarkResult {
        let sgemm = sgemmRate()
        var t = PhaseTimings()
        let start = ContinuousClock.now
        let tenth = Mutex(0)
        let graph = try replacement.attribute(tokens: tokens, options: options, timings: &t) { done, total in
            let step = 10 * done / max(total, 1)
            let report = tenth.withLock { last -> Bool in defer { last = max(last, step) }; return step > last }
            if report {
                logger.info("\(String(format: "  feature rows %d / %d (%.0f s)", done, total, (ContinuousClock.now - start).seconds))")
            }
        }
        let pruneStart = ContinuousClock.now
        let (pruning, scores) = try analyze(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
        t.pruning = (ContinuousClock.now - pruneStart).seconds
        let wall = (ContinuousClock.now - start).seconds
        let gflop = t.backwardFlops / 1e9
        return AttributionBenchmarkResult(
            wall_s: wall,
            phases: ["forward": t.forward, "transcoders": t.transcoders, "logit_rows": t.logitRows,
                     "feature_rows": t.featureRows, "pruning_and_scores": t.pruning],
            peak_rss_bytes: peakResidentBytes(), n_pos: tokens.count, active_features: graph.activeFeatures.count,
            selected_features: graph.selectedFeatures.count, width: replacement.transcoders.dTranscoder, chunk_size: t.chunkSize,
            nodes: graph.layout.count, edges: graph.adjacency.count { $0 != 0 },
            pruned_nodes: pruning.nodeMask.reduce(0) { $1 ? $0 + 1 : $0 }, pruned_edges: pruning.edgeMask.count { $0 },
            gflops: gflop, backward_gflops_per_s: gflop / max(t.logitRows + t.featureRows, 1e-9),
            sgemm_gflops: sgemm, efficiency: gflop / (wall * sgemm),
            replacement_score: scores.replacement, completeness_score: scores.completeness, threads: blasThreads)
    }

    /// The best of three 1024³ sgemm rates, in GFLOP/s.
    public static func sgemmRate(n: Int = 1024) -> Double {
        var rng = SeededRandom(seed: 7)
        let a = rng.normals(n * n, std: 1), b = rng.normals(n * n, std: 1)
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<3 {
            let s = ContinuousClock.now
            gemm(&c, ldc: n, a, lda: n, b, ldb: n, m: n, n: n, k: n)
            best = max(best, 2 * Double(n * n * n) / (ContinuousClock.now - s).seconds / 1e9)
        }
        return best
    }
}

/// Peak resident set size of this process (bytes), from getrusage.
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

/// CPU time of this process so far (user + system, every thread; seconds), from getrusage:
/// on a shared machine, what the work cost beside the wall time it was given.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}
