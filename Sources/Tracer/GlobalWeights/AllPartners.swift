import Dispatch
import Foundation
import Storage

/// Global weights for the whole dictionary: for every feature its top-k partners both ways by
/// |TWERA|, |ERA| and interference (|V| of pairs never active together), with exact statistics.
///
/// Definitions as `GlobalWeightsTable` (docs/global-weights.md): expectations over every
/// non-BOS position of the corpus (`store.tokens`), `ERA[t, s] = V[t, s] · Σ a_s·1(a_t > 0) / T`,
/// `TWERA[t, s] = V[t, s] · Σ a_s·a_t / Σ a_t`, sums in float64.
///
/// Work goes by *tiles* of targets (one layer, at most `tileSize` features). Per tile:
/// - `V[tile, sources] = Ŵ_enc[tile] · Cumᵀ` by one GEMM (`CumulativeDecoders`), every source
///   of the layers below;
/// - per target t, dense accumulators over the sources (count, Σ a_s·a_t, Σ a_s) filled by
///   streaming the positions where t is active (`ActivationStore.byFeature`) and, at each, the
///   position's sources (the prefix of its ascending keys below the target layer): no hash map;
/// - one scan of the row offers each pair to t's upstream lists and to the source's downstream
///   lists, and zeroes the accumulators.
/// Tiles are fixed by `tileSize`, so any split of them into blocks and threads gives the same
/// bits (the GEMM of a tile does not change; lists merge exactly).
///
/// Memory: the store and its inverse, `CumulativeDecoders`, the result's six tables, per thread
/// three downstream tables, a V tile `[tileSize, (nLayers − 1) · dTranscoder]` and the row's
/// accumulators (`AllPartners.bytes`).
public struct AllPartners: Sendable {
    /// Partners kept per feature, direction and ranking.
    public var topK = 32
    /// Targets per tile (see above).
    public var tileSize = 256
    /// Threads. The BLAS thread count is the caller's (global state): with several threads,
    /// set it to 1 first (`setBLASThreads`), one level of threading at a time.
    public var threads = 1
    public init(topK: Int = 32, tileSize: Int = 256, threads: Int = 1) {
        self.topK = topK; self.tileSize = tileSize; self.threads = threads
    }

    /// Targets of one layer: `features` of `layer` (≥ 1; layer 0 has no sources).
    public struct Tile: Sendable, Equatable, Codable {
        public var layer: Int
        public var features: Range<Int>
    }

    /// Every tile of the dictionary, by layer then feature.
    public static func tiles(nLayers: Int, dTranscoder: Int, tileSize: Int) -> [Tile] {
        (1..<max(1, nLayers)).flatMap { l in
            stride(from: 0, to: dTranscoder, by: tileSize).map { Tile(layer: l, features: $0..<min($0 + tileSize, dTranscoder)) }
        }
    }

    /// Work counted by `compute`.
    public struct Counters: Sendable {
        /// (target, source) updates of the accumulators: one per co-active pair and position.
        public var pairUpdates: Int64 = 0
        /// Useful GEMM work of V: `2 · dModel` per (target, source below it).
        public var flop: Double = 0
        /// Summed over threads.
        public var gemmSeconds: Double = 0
        public var statisticsSeconds: Double = 0
    }

    /// Bytes `compute` holds besides the store and its inverse, for `tileSize` targets per tile.
    public static func bytes(transcoders tc: TranscoderSet, topK: Int, tileSize: Int, threads: Int) -> Int {
        let sources = max(0, tc.nLayers - 1) * tc.dTranscoder, features = tc.nLayers * tc.dTranscoder
        let tables = (6 + 3 * threads) * PartnerTable.bytes(features: features, k: topK)
        let perThread = tileSize * (sources + tc.dModel) * 4 + sources * 24
        return CumulativeDecoders.bytes(tc) + tables + threads * perThread
    }

    /// The largest tile size (at most 256) that fits `budget` bytes beside the store.
    /// - Throws: `TracerError.invalidArgument` when not even one target per tile fits.
    public static func tileSize(budget: Int, store: ActivationStore, transcoders tc: TranscoderSet, topK: Int, threads: Int) throws -> Int {
        let storeBytes = store.keys.count * 16 + store.tokens * 8 + store.features * 8   // CSR and its inverse
        func total(_ tile: Int) -> Int { storeBytes + bytes(transcoders: tc, topK: topK, tileSize: tile, threads: threads) }
        guard total(1) <= budget else {
            throw TracerError.invalidArgument("the memory budget \(budget / 1_000_000) MB is below the \(total(1) / 1_000_000) MB the store, decoders and partner lists need")
        }
        var tile = 256
        while tile > 1 && total(tile) > budget { tile /= 2 }
        return tile
    }

    /// Partners of the targets in `tiles` (upstream lists of those rows; downstream lists from
    /// those targets only: `GlobalPartners.absorb` of every block's result gives all of them).
    public func compute(store: ActivationStore, byFeature: ActivationStore.ByFeature, transcoders tc: TranscoderSet,
                        reading: ResidualReading, tiles: [Tile]) throws -> (partners: GlobalPartners, counters: Counters) {
        let dT = tc.dTranscoder, d = tc.dModel
        guard store.nLayers == tc.nLayers, store.dTranscoder == dT else {
            throw TracerError.invalidArgument("the activation store is \(store.nLayers) × \(store.dTranscoder), the transcoders \(tc.nLayers) × \(dT)")
        }
        for t in tiles where t.layer < 1 || t.layer >= tc.nLayers || t.features.lowerBound < 0 || t.features.upperBound > dT || t.features.count > tileSize {
            throw TracerError.invalidArgument("tile \(t) is outside the transcoders (\(tc.nLayers) layers × \(dT)) or over \(tileSize) targets")
        }
        let result = GlobalPartners(nLayers: tc.nLayers, dTranscoder: dT, k: topK, tokensSeen: Int64(store.tokens))
        let workers = max(1, threads)
        let workspaces = (0..<workers).map { _ in Workspace(tc: tc, tileSize: tileSize, k: topK) }
        let cumulative = CumulativeDecoders(tc)
        for (layer, layerTiles) in Dictionary(grouping: tiles, by: \.layer).sorted(by: { $0.key < $1.key }) {
            cumulative.advance(to: layer)
            let next = TileCounter()
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                while let i = next.take(below: layerTiles.count) {
                    workspaces[w].run(layerTiles[i], store: store, byFeature: byFeature, cumulative: cumulative,
                                      reading: reading, upstream: result.upstream, dModel: d)
                }
            }
        }
        var counters = Counters()
        for w in workspaces {
            for r in PartnerRanking.allCases { result.downstream[r]!.absorb(w.downstream[r]!) }
            counters.pairUpdates += w.counters.pairUpdates; counters.flop += w.counters.flop
            counters.gemmSeconds += w.counters.gemmSeconds; counters.statisticsSeconds += w.counters.statisticsSeconds
        }
        return (result, counters)
    }
}

/// Hands out tile indices to threads.
private final class TileCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < n else { return nil }
        next += 1
        return next - 1
    }
}
