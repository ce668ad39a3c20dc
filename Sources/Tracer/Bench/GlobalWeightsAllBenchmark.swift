import Foundation
import Logging
import Storage

/// Time and memory of `global-weights --all` at GPT-2-small scale: every feature's top-k
/// partners both ways (`AllPartners`) of the seeded random transcoder set of
/// `GlobalWeightsBenchmark`, over `tokens` synthetic positions with `activePerSlot` random
/// features per layer and position (values |N(0, 1)| + 0.1).
public struct GlobalWeightsAllBenchmark: Sendable {
    public var shape = GlobalWeightsBenchmark()
    public var topK = 32
    public var threads = 2
    /// Bytes `AllPartners` may use beside the model (decides the tile size).
    public var memoryBudget = 8_000_000_000
    public init() {}

    public struct Report: Codable, Sendable {
        public var layers: Int, d_model: Int, width: Int, kind: String
        public var features: Int, tokens: Int, active_per_slot: Int, top_k: Int, threads: Int, tile_size: Int
        /// Drawing the transcoders and the activations (not part of the work).
        public var setup_s: Double
        /// Inverting the activation store and computing every list: the work `--all` does.
        public var wall_s: Double
        public var index_s: Double
        public var compute_s: Double
        /// CPU time (user + system, all threads) of inverting the store and computing the lists:
        /// on a shared machine, the work's cost apart from the share of the cores it got.
        public var cpu_s: Double
        /// Thread-seconds in the V GEMMs and in the statistics and list scans.
        public var gemm_thread_s: Double
        public var statistics_thread_s: Double
        public var activations: Int
        public var pair_updates: Int64
        /// Pair updates per second of `compute_s`.
        public var pairs_per_s: Double
        /// V's useful GEMM work per GEMM thread-second.
        public var virtual_weights_gflops_per_thread: Double
        /// A 1024³ sgemm on one thread, in this process.
        public var sgemm_gflops: Double
        public var upstream_twera_entries: Int
        public var peak_rss_bytes: Int
    }

    public func run(logger: Logger = Logger(label: "circuits.bench", factory: { _ in SwiftLogNoOpLogHandler() })) throws -> Report {
        let L = shape.layers, dT = shape.width, tokens = shape.tokens, active = min(shape.activePerSlot, dT)
        var clock = ContinuousClock.now
        let tc = shape.transcoders(logger: logger)
        logger.info("drawing \(tokens) positions × \(L) layers × \(active) active features")
        var store = ActivationStore(nLayers: L, dTranscoder: dT)
        store.reserve(entries: tokens * L * active, tokens: tokens)
        var rng = SeededRandom(seed: shape.seed)
        var chosen = [Bool](repeating: false, count: dT)
        var keys: [Int] = [], values: [Float] = []
        for _ in 0..<tokens {
            keys.removeAll(keepingCapacity: true); values.removeAll(keepingCapacity: true)
            for l in 0..<L {
                var picked: [Int] = []
                while picked.count < active {
                    let f = Int(rng.next() % UInt64(dT))
                    if !chosen[f] { chosen[f] = true; picked.append(f) }
                }
                for f in picked.sorted() { chosen[f] = false; keys.append(l * dT + f); values.append(abs(rng.normal()) + 0.1) }
            }
            store.appendToken(keys: keys, values: values)
        }
        let setup = (ContinuousClock.now - clock).seconds

        clock = ContinuousClock.now
        let cpuStart = processCPUSeconds()
        let byFeature = store.byFeature()
        let index = (ContinuousClock.now - clock).seconds
        let tile = try AllPartners.tileSize(budget: memoryBudget, store: store, transcoders: tc, topK: topK, threads: threads)
        logger.info("every feature's top \(topK) both ways: \(L * dT) features, tiles of \(tile), \(threads) threads")
        let blas = blasThreads
        setBLASThreads(1)   // one level of threading: the engine's
        defer { setBLASThreads(blas) }
        clock = ContinuousClock.now
        let (partners, counters) = try AllPartners(topK: topK, tileSize: tile, threads: threads)
            .compute(store: store, byFeature: byFeature, transcoders: tc, reading: ResidualReading(hook: .residMid, centred: false, ln2Weights: []),
                     tiles: AllPartners.tiles(nLayers: L, dTranscoder: dT, tileSize: tile))
        let compute = (ContinuousClock.now - clock).seconds
        let cpu = processCPUSeconds() - cpuStart
        let entries = (0..<partners.features).reduce(0) { $0 + partners.upstream[.twera]!.count(row: $1) }
        let sgemm = AttributionBenchmark.sgemmRate()
        return Report(layers: L, d_model: shape.dModel, width: dT, kind: shape.crossLayer ? "clt" : "plt",
                      features: L * dT, tokens: tokens, active_per_slot: active, top_k: topK, threads: threads, tile_size: tile,
                      setup_s: setup, wall_s: index + compute, index_s: index, compute_s: compute, cpu_s: cpu,
                      gemm_thread_s: counters.gemmSeconds, statistics_thread_s: counters.statisticsSeconds,
                      activations: store.keys.count, pair_updates: counters.pairUpdates,
                      pairs_per_s: Double(counters.pairUpdates) / compute,
                      virtual_weights_gflops_per_thread: counters.flop / counters.gemmSeconds / 1e9, sgemm_gflops: sgemm,
                      upstream_twera_entries: entries, peak_rss_bytes: peakResidentBytes())
    }
}
