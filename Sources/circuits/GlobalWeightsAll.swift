import Coordinator
import Foundation
import Logging
import Shared
import Storage
import Tracer

extension Circuits.GlobalWeights {
    /// `--all`: a statistics pass that keeps every position's activations, then the whole
    /// dictionary's partner lists (`AllPartners`) into `/all` of global_weights.h5 and prefilter.json.
    func runAll(job: JobSpec, layout: RunLayout) throws {
        let logger = Logger(label: "circuits.global-weights")
        let replacement = try ReplacementModel(modelDirectory: URL(fileURLWithPath: job.model),
                                               transcoderDirectory: URL(fileURLWithPath: job.transcoders))
        let tc = replacement.transcoders
        var statistics = JobSpec.Statistics()
        statistics.activations = true
        let statsLayout = try statisticsPass(statistics, job: job, layout: layout)
        let store = try ActivationCorpus.load(statsLayout, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder)
        let threads = workers ?? job.workers
        let tileSize = try AllPartners.tileSize(budget: Int(memoryGb * 1e9), store: store, transcoders: tc, topK: topK, threads: threads)
        logger.info("global weights --all: \(tc.nLayers * tc.dTranscoder) features, \(store.tokens) positions, \(store.keys.count) activations; tiles of \(tileSize) targets on \(threads) threads")
        let start = ContinuousClock.now
        let engine = AllPartners(topK: topK, tileSize: tileSize, threads: threads)
        let (partners, counters) = try engine.compute(store: store, byFeature: store.byFeature(), transcoders: tc,
                                                      reading: ResidualReading(replacement),
                                                      tiles: AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: tileSize))
        let url = layout.root.appendingPathComponent("global_weights.h5")
        try GlobalPartnersFile.write(partners, to: url, transcoderFolder: job.transcoders)
        let prefilter = partners.prefilter(threshold: threshold, limit: limit, transcoderFolder: job.transcoders)
        try write(prefilter, layout)
        print("""
        \(partners.features) features × top \(topK) both ways in \(String(format: "%.2f", (ContinuousClock.now - start).seconds)) s \
        (\(store.tokens) tokens, \(counters.pairUpdates) pair updates)
          \(url.path) (/all)
          \(layout.root.appendingPathComponent("prefilter.json").path): \(prefilter.pairs.count) pairs, \(prefilter.features.count) features
        """)
        if FileManager.default.fileExists(atPath: layout.aggregate.path) { try Reporter.write(layout) }
    }
}
