// `global-weights --all` through the coordinator's task machinery: a block job (tasks = blocks
// of target tiles) run by the worker's task runner, tasks out of order and one twice (a lease
// lost by a killed worker), merged by the coordinator: identical to one in-process computation.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer
import Worker

@Suite struct GlobalBlockJobTests {
    @Test(arguments: referenceCases())
    func blocksOverTasksEqualOneComputation(run: ReferenceRun) throws {
        let folder = try ScratchFolder("blocks-\(run.caseName)")
        defer { folder.remove() }
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        // The corpus's activations: the golden ones, twice.
        let store = try goldenActivationStore(run, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder)
        let activations = folder.file("activations.h5")
        let f = try HDF5File.create(activations)
        try ActivationStoreFile.write(store, into: f)
        f.close()

        // Five blocks of tiles, two blocks a task.
        let tiles = AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: 5)
        let corpus = folder.file("blocks.txt")
        try (0..<5).map { "tiles \($0 * tiles.count / 5) \(($0 + 1) * tiles.count / 5)" }.joined(separator: "\n")
            .write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: run.modelDir.path, transcoders: run.transcoderDir.path, corpus: corpus.path, output: folder.file("out").path)
        job.promptsPerTask = 2
        job.statistics.attribution = false
        job.globalBlocks = JobSpec.GlobalBlocks(activations: activations.path, topK: 3, tileSize: 5)
        try job.validate(source: "test")
        let layout = try prepareRunFolder(job, at: URL(fileURLWithPath: job.output))
        let plan = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 2)
        #expect(plan.tasks.count == 3)
        let runner = try TaskRunner(job: job, workerID: "t", threads: 2)
        for task in [2, 0, 1, 0] {   // any order; task 0 again as if its first worker had been killed
            _ = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: plan.tasks[task]), to: layout.shard(taskID: task))
        }
        try Data("partial".utf8).write(to: layout.shards.appendingPathComponent(".task-000001.h5.tmp-1-x"))
        let merged = try GlobalBlockMerge.merge(layout)

        let whole = try AllPartners(topK: 3, tileSize: 5, threads: 1)
            .compute(store: store, byFeature: store.byFeature(), transcoders: tc, reading: ResidualReading(replacement), tiles: tiles).partners
        #expect(merged.tokensSeen == Int64(store.tokens))
        var entries = 0
        for r in PartnerRanking.allCases {
            for row in 0..<whole.features {
                #expect(merged.upstream[r]!.sorted(row: row) == whole.upstream[r]!.sorted(row: row), "\(run) upstream \(r) row \(row)")
                #expect(merged.downstream[r]!.sorted(row: row) == whole.downstream[r]!.sorted(row: row), "\(run) downstream \(r) row \(row)")
                entries += whole.downstream[r]!.count(row: row)
            }
        }
        #expect(entries > 0)
        // The run's merge accepts the block shards as any run's.
        #expect(try Merger.merge(layout).promptsDone == 5)

        // The report's view of /all alone: the features with the strongest upstream |TWERA|.
        let url = folder.file("global_weights.h5")
        try GlobalPartnersFile.write(merged, to: url, transcoderFolder: run.transcoderDir.path)
        let summary = try GlobalWeightsSummary(url: url, perTarget: 2, allFeatures: 3)
        #expect(summary.targets.isEmpty && summary.tokens_seen == Int64(store.tokens))
        let all = try #require(summary.all_features)
        let strongest = (0..<merged.features).compactMap { row in merged.upstream[.twera]!.sorted(row: row).first.map { (row, $0) } }
            .max { ($0.1.score, $1.0) < ($1.1.score, $0.0) }
        let (row, best) = try #require(strongest)
        #expect(all.count == min(3, (0..<merged.features).filter { merged.upstream[.twera]!.count(row: $0) > 0 }.count))
        #expect(all.first?.target == merged.feature(row).description)
        #expect(all.first?.top_sources.first?.twera == Double(best.twera))
        #expect(all.first?.top_sources.first?.source == merged.feature(Int(best.partner)).description)
    }

    @Test func aBadBlockFailsItsTaskAndNamesIt() throws {
        let run = try firstReferenceRun()
        let folder = try ScratchFolder("blocks-bad")
        defer { folder.remove() }
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        let activations = folder.file("activations.h5")
        let f = try HDF5File.create(activations)
        try ActivationStoreFile.write(ActivationStore(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder), into: f)
        f.close()
        let corpus = folder.file("blocks.txt")
        try "tiles 0 99999\n".write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: run.modelDir.path, transcoders: run.transcoderDir.path, corpus: corpus.path, output: folder.file("out").path)
        job.statistics.attribution = false
        job.globalBlocks = JobSpec.GlobalBlocks(activations: activations.path, topK: 3, tileSize: 5)
        let layout = try prepareRunFolder(job, at: URL(fileURLWithPath: job.output))
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        let prompts = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 1).tasks[0]
        #expect(throws: WorkerError.self) {
            _ = try runner.run(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: prompts), to: layout.shard(taskID: 0))
        }
        // Over the wire a relative activations path is refused, naming the field.
        job.globalBlocks!.activations = "rel/activations.h5"
        #expect(throws: JobSpecError.self) { try job.validate(source: "wire") }
    }
}
