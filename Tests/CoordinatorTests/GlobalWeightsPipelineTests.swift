// ERA and TWERA end to end: a statistics-only job's shards (written by the worker's task
// runner), merged by the coordinator, against a naive float64 computation from the reference
// cases' golden activations and transcoder files.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer
import Worker

@Suite struct GlobalWeightsPipelineTests {
    @Test(arguments: referenceCases())
    func eraAndTweraMatchNaiveComputation(run: ReferenceRun) throws {
        let folder = try ScratchFolder("global-\(run.caseName)")
        defer { folder.remove() }
        // Golden activations: (layer, pos, feature) rows and values.
        let active = try run.array("active_features").ints, values = try run.array("activation_values").floats
        let golden = stride(from: 0, to: active.count, by: 3).map { FeatureID(layer: active[$0], feature: active[$0 + 2]) }
        let positions = stride(from: 0, to: active.count, by: 3).map { active[$0 + 1] }
        // Targets: up to 6 distinct golden-active features above layer 0, plus one never active.
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        var targets = Array(Set(golden.filter { $0.layer > 0 })).sorted().prefix(6).map { $0 }
        if let silent = (0..<tc.dTranscoder).map({ FeatureID(layer: tc.nLayers - 1, feature: $0) }).first(where: { !golden.contains($0) }) {
            targets.append(silent)
        }

        // The job: the case's prompt twice, one prompt per task, statistics only.
        let corpus = folder.file("corpus.txt")
        try (run.prompt + "\n" + run.prompt + "\n").write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: run.modelDir.path, transcoders: run.transcoderDir.path, corpus: corpus.path, output: folder.url.path)
        job.promptsPerTask = 1
        job.statistics.attribution = false
        job.statistics.targets = targets.map { [$0.layer, $0.feature] }
        let layout = try prepareRunFolder(job, at: folder.url)
        let plan = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 1)
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        for task in [1, 0] {   // completion order does not matter
            let r = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: plan.tasks[task]), to: layout.shard(taskID: task))
            #expect(r.promptsDone == 1, "\(run): \(r)")
        }
        _ = try Merger.merge(layout)
        let stats = try AggregateStatistics(url: layout.aggregate)
        let pairs = try #require(stats.pairs)
        let table = try GlobalWeightsTable(pairs: pairs, sumActivation: stats.sumActivation, tokensSeen: stats.tokensSeen,
                                           transcoders: tc, reading: ResidualReading(replacement), extraSources: 3)

        // Naive: dense activations per position from the golden arrays, expectations over every
        // non-BOS position of the two copies.
        let nPos = try run.array("input_tokens").ints.count
        let tokens = Double(2 * (nPos - 1))
        #expect(stats.tokensSeen == Int64(2 * (nPos - 1)))
        var a: [Int: [FeatureID: Double]] = [:]
        for (k, f) in golden.enumerated() { a[positions[k], default: [:]][f] = Double(values[k]) }
        #expect(a[0] == nil, "BOS carries no activations")
        var maxV = 0.0
        for (i, t) in table.targets.enumerated() {
            let targetSum = 2 * a.values.reduce(0) { $0 + ($1[t] ?? 0) }
            #expect(abs(table.targetSumActivation[i] - targetSum) <= 1e-5 * max(1, targetSum))
            for (j, s) in table.sources.enumerated() {
                let k = i * table.sources.count + j
                var sourceWhereTargetActive = 0.0, product = 0.0, count: Int64 = 0
                for (_, here) in a {
                    let at = here[t] ?? 0, as_ = here[s] ?? 0
                    if at > 0 && as_ != 0 { count += 2 }
                    if at > 0 { sourceWhereTargetActive += 2 * as_ }
                    product += 2 * as_ * at
                }
                let v = try naiveVirtualWeight(t, s, replacement: replacement)
                maxV = max(maxV, abs(v))
                let era = v * sourceWhereTargetActive / tokens
                let twera = targetSum > 0 ? v * product / targetSum : 0
                #expect(table.coactivationCount[k] == count, "\(run): count \(t) ← \(s)")
                #expect(abs(Double(table.virtualWeights[k]) - v) <= 1e-5 * max(1, abs(v)), "\(run): V \(t) ← \(s)")
                #expect(abs(Double(table.era[k]) - era) <= 1e-4 * max(1e-3, abs(era)), "\(run): ERA \(t) ← \(s): \(table.era[k]) vs \(era)")
                #expect(abs(Double(table.twera[k]) - twera) <= 1e-4 * max(1e-3, abs(twera)), "\(run): TWERA \(t) ← \(s): \(table.twera[k]) vs \(twera)")
                if count == 0 { #expect(table.era[k] == 0 && table.twera[k] == 0, "never co-active: filtered") }
            }
        }
        #expect(maxV > 0)
        // The never-active target has no co-activation at all.
        if let last = targets.last, !golden.contains(last) {
            let i = table.targets.firstIndex(of: last)!
            #expect(table.twera[(i * table.sources.count)..<((i + 1) * table.sources.count)].allSatisfy { $0 == 0 })
        }

        // global_weights.h5 holds the same numbers under the documented names.
        let url = folder.file("global_weights.h5")
        try table.write(to: url, transcoderFolder: run.transcoderDir.path)
        let f = try HDF5File.open(url)
        defer { f.close() }
        #expect(try f.read(Float.self, at: "twera").values == table.twera)
        #expect(try f.shape(of: "era") == [table.targets.count, table.sources.count])
        #expect(try f.stringAttribute("transcoders") == run.transcoderDir.path)
        #expect(try f.attribute("tokens_seen", as: Int64.self) == stats.tokensSeen)
    }
}
