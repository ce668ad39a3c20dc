import Coordinator
import Foundation
import Logging
import Shared
import Storage
import Tracer

extension Circuits.GlobalWeights {
    /// `--all`: a statistics pass that keeps every position's activations, then a block job
    /// (tasks = blocks of target tiles, `JobSpec.globalBlocks`) through the coordinator and
    /// local workers, merged exactly into `/all` of global_weights.h5 and prefilter.json.
    /// Both passes are ordinary runs: leased, journaled, resumable.
    func runAll(job: JobSpec, layout: RunLayout) throws {
        let logger = Logger(label: "circuits.global-weights")
        let replacement = try ReplacementModel(modelDirectory: URL(fileURLWithPath: job.model),
                                               transcoderDirectory: URL(fileURLWithPath: job.transcoders))
        let tc = replacement.transcoders
        var statistics = JobSpec.Statistics()
        statistics.activations = true
        let statsLayout = try statisticsPass(statistics, job: job, layout: layout)
        let activations = statsLayout.root.appendingPathComponent("activations.h5")
        let processes = workers ?? job.workers
        // The store lives in the workers; this process only sizes the tiles from it.
        let (tileSize, tokens) = try { () throws -> (Int, Int) in
            let store = try ActivationCorpus.load(statsLayout, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder)
            if !FileManager.default.fileExists(atPath: activations.path) {
                try AtomicFile.write(to: activations) { tmp in
                    let f = try HDF5File.create(tmp)
                    defer { f.close() }
                    try ActivationStoreFile.write(store, into: f)
                }
            }
            logger.info("global weights --all: \(store.features) features, \(store.tokens) positions, \(store.keys.count) activations")
            // Every worker process holds the store and its own lists: the budget is split between them.
            return (try AllPartners.tileSize(budget: Int(memoryGb * 1e9) / processes, store: store, transcoders: tc, topK: topK, threads: 1),
                    store.tokens)
        }()
        let blockJob = try Self.blockJob(job, activations: activations, topK: topK, tileSize: tileSize, blocks: 2 * processes, under: layout)
        logger.info("global weights --all: tiles of \(tileSize) targets in \(blockJob.blocks) blocks on \(processes) workers")
        let start = ContinuousClock.now
        _ = try runLocally(blockJob.job, workers: processes, threads: 1, display: ProgressDisplay())
        let partners = try GlobalBlockMerge.merge(RunLayout(root: URL(fileURLWithPath: blockJob.job.output)))
        let url = layout.root.appendingPathComponent("global_weights.h5")
        try GlobalPartnersFile.write(partners, to: url, transcoderFolder: job.transcoders)
        let prefilter = partners.prefilter(threshold: threshold, limit: limit, transcoderFolder: job.transcoders)
        try write(prefilter, layout)
        print("""
        \(partners.features) features × top \(topK) both ways in \(String(format: "%.2f", (ContinuousClock.now - start).seconds)) s \
        (\(tokens) tokens, \(blockJob.blocks) blocks)
          \(url.path) (/all)
          \(layout.root.appendingPathComponent("prefilter.json").path): \(prefilter.pairs.count) pairs, \(prefilter.features.count) features
        """)
        if FileManager.default.fileExists(atPath: layout.aggregate.path) { try Reporter.write(layout) }
    }

    /// The block job of `--all`, in OUT/global-all-<hash>/ (its corpus `blocks.txt`: one block of
    /// tiles a line, `tiles A B`; its `job.yaml` serves the same blocks from `circuits coordinator`).
    static func blockJob(_ job: JobSpec, activations: URL, topK: Int, tileSize: Int, blocks wanted: Int,
                         under layout: RunLayout) throws -> (job: JobSpec, blocks: Int) {
        var block = job
        // What the job's YAML below reads back to (same hash): defaults but for the block fields.
        block.attribution = JobSpec.Attribution()
        block.pruning = JobSpec.Pruning()
        block.keepFullGraphs = false
        block.statistics = JobSpec.Statistics()
        block.statistics.attribution = false
        block.evaluation = nil
        block.promptsPerTask = 1
        block.globalBlocks = JobSpec.GlobalBlocks(activations: activations.path, topK: topK, tileSize: tileSize)
        block.corpus = ""
        let folder = layout.root.appendingPathComponent("global-all-\(block.hash.prefix(12))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        block.corpus = folder.appendingPathComponent("blocks.txt").path
        block.output = folder.path
        let store = try HDF5File.open(activations)
        defer { store.close() }
        let nLayers = Int(try store.attribute("n_layers", as: Int64.self, at: ActivationStoreFile.group))
        let dT = Int(try store.attribute("d_transcoder", as: Int64.self, at: ActivationStoreFile.group))
        let tiles = AllPartners.tiles(nLayers: nLayers, dTranscoder: dT, tileSize: tileSize).count
        let n = max(1, min(wanted, tiles))
        let lines = (0..<n).map { "tiles \($0 * tiles / n) \(($0 + 1) * tiles / n)" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: block.corpus))
        func q(_ path: String) -> String { "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        let yaml = """
        # global-weights --all block job: `circuits coordinator \(folder.path)/job.yaml` and `circuits worker` serve it on a cluster
        model: \(q(job.model))
        transcoders: \(q(job.transcoders))
        corpus: \(q(block.corpus))
        output: \(q(block.output))
        prompts_per_task: 1
        statistics: {attribution: false}
        global_blocks: {activations: \(q(activations.path)), top_k: \(topK), tile_size: \(tileSize)}

        """
        try AtomicFile.write(Data(yaml.utf8), to: folder.appendingPathComponent("job.yaml"))
        return (block, n)
    }
}
