// The input of `global-weights --all` end to end: a statistics-only job that keeps activations
// (`statistics.activations`), its shards written by the worker's task runner and read back by
// the coordinator in task order, against the reference cases' golden activations; then the
// whole-dictionary partners from those shards equal those from the golden store.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer
import Worker

@Suite struct ActivationCorpusTests {
    @Test(arguments: referenceCases())
    func shardsHoldEveryPositionsActivations(run: ReferenceRun) throws {
        let folder = try ScratchFolder("activations-\(run.caseName)")
        defer { folder.remove() }
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        let corpus = folder.file("corpus.txt")
        try (run.prompt + "\n" + run.prompt + "\n").write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: run.modelDir.path, transcoders: run.transcoderDir.path, corpus: corpus.path, output: folder.url.path)
        job.promptsPerTask = 1
        job.statistics.attribution = false
        job.statistics.activations = true
        let layout = try prepareRunFolder(job, at: folder.url)
        let plan = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 1)
        #expect(throws: MergeError.self) { try ActivationCorpus.load(layout, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder) }
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        for task in [1, 0] {   // completion order does not matter
            _ = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: plan.tasks[task]), to: layout.shard(taskID: task))
        }
        // A killed worker's leftovers (a partial temporary file, an unaccepted try) are never read.
        try Data("partial".utf8).write(to: layout.shards.appendingPathComponent(".task-000000.h5.tmp-1-x"))
        let store = try ActivationCorpus.load(layout, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder)

        // Golden: the prompt's (layer, pos, feature) rows twice.
        let golden = try goldenActivationStore(run, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder)
        let nPos = try run.array("input_tokens").ints.count
        #expect(store.tokens == 2 * (nPos - 1))
        #expect(store.offsets == golden.offsets, "\(run): active features per position")
        #expect(store.keys == golden.keys, "\(run): active features")
        let maxErr = zip(store.values, golden.values).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(maxErr <= 1e-4, "\(run): activations differ by \(maxErr)")

        // The shards' store gives the same partner lists as the golden one (ranks may only move
        // where activations differ in the last bits: compare the partner sets of clear winners).
        let reading = ResidualReading(replacement)
        let tiles = AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: 64)
        let engine = AllPartners(topK: 3, tileSize: 64, threads: 2)
        let fromShards = try engine.compute(store: store, byFeature: store.byFeature(), transcoders: tc, reading: reading, tiles: tiles).partners
        let fromGolden = try engine.compute(store: golden, byFeature: golden.byFeature(), transcoders: tc, reading: reading, tiles: tiles).partners
        for row in 0..<fromGolden.features {
            let a = fromShards.upstream[.twera]!.sorted(row: row), b = fromGolden.upstream[.twera]!.sorted(row: row)
            #expect(a.count == b.count, "\(run): row \(row)")
            for (x, y) in zip(a, b) { #expect(abs(x.twera - y.twera) <= 1e-3 * max(1e-3, abs(y.twera)), "\(run): row \(row)") }
        }
    }
}
