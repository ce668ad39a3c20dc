import Foundation
import Shared
import Storage
import Tracer

/// The worker's side of `global-weights --all` on the coordinator (`JobSpec.globalBlocks`):
/// each prompt of a task names a block of target tiles, `tiles A B` (tiles `A ..< B` of
/// `AllPartners.tiles`); the task's shard holds the block's partner lists as `/all`, which the
/// coordinator merges exactly (`GlobalBlockMerge`). Loads the corpus's activations once.
final class GlobalBlockRunner: Sendable {
    let spec: JobSpec.GlobalBlocks
    let store: ActivationStore
    let byFeature: ActivationStore.ByFeature
    let tiles: [AllPartners.Tile]

    init(_ spec: JobSpec.GlobalBlocks, transcoders tc: TranscoderSet) throws {
        self.spec = spec
        let f = try HDF5File.open(URL(fileURLWithPath: spec.activations))
        defer { f.close() }
        guard let store = try ActivationStoreFile.read(f) else {
            throw WorkerError(reason: "\(spec.activations): no \(ActivationStoreFile.group)")
        }
        guard store.nLayers == tc.nLayers, store.dTranscoder == tc.dTranscoder else {
            throw WorkerError(reason: "\(spec.activations): activations of \(store.nLayers) × \(store.dTranscoder) features, the transcoders have \(tc.nLayers) × \(tc.dTranscoder)")
        }
        self.store = store
        byFeature = store.byFeature()
        tiles = AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: spec.tileSize)
    }

    /// The tiles a block line names.
    func tiles(of block: PromptItem) throws -> [AllPartners.Tile] {
        let parts = block.text.split(separator: " ")
        guard parts.count == 3, parts[0] == "tiles", let a = Int(parts[1]), let b = Int(parts[2]), 0 <= a, a < b, b <= tiles.count else {
            throw WorkerError(reason: "block \(block.id): '\(block.text.prefix(40))' is not 'tiles A B' with 0 ≤ A < B ≤ \(tiles.count)")
        }
        return Array(tiles[a..<b])
    }

    /// The partner lists of a task's blocks (merged) and one measured row per block.
    func run(_ blocks: [PromptItem], session: TraceSession, threads: Int) throws -> (GlobalPartners, [PromptOutcome]) {
        let tc = session.replacement.transcoders
        let total = GlobalPartners(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, k: spec.topK, tokensSeen: Int64(store.tokens))
        var outcomes: [PromptOutcome] = []
        // One level of threading: the engine's threads, each with single-threaded BLAS.
        let blas = blasThreads
        if threads > 1 { setBLASThreads(1) }
        defer { setBLASThreads(blas) }
        for block in blocks {
            let start = ContinuousClock.now
            let part = try AllPartners(topK: spec.topK, tileSize: spec.tileSize, threads: threads)
                .compute(store: store, byFeature: byFeature, transcoders: tc, reading: ResidualReading(session.replacement), tiles: tiles(of: block))
            total.absorb(part.partners)
            outcomes.append(.measured(id: block.id, prompt: block.text,
                                      activations: PromptActivations(activeFeatures: [], values: [], nTokens: 1,
                                                                     seconds: (ContinuousClock.now - start).seconds)))
        }
        return (total, outcomes)
    }
}
