// Merging: every corpus prompt exactly once (traced, failed, not completed, invalid line),
// statistics summed over shards in task order, report numbers from the merged file.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Worker

@Suite struct MergeTests {
    @Test func everyPromptOnceAndStatisticsSummed() throws {
        let folder = try ScratchFolder("merge")
        defer { folder.remove() }
        let corpus = folder.file("corpus.jsonl")
        try """
        {"id": "p0", "prompt": "the cat sat on the mat"}
        {"id": "p1", "prompt": "a dog ran"}
        {"id": "p2", "prompt": "the bird saw the tree"}
        {oops
        {"id": "p3", "prompt": "the lion was very hungry"}
        {"id": "p4", "prompt": "one cow and two sheep"}
        """.write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path, corpus: corpus.path, output: folder.url.path)
        job.promptsPerTask = 2
        let layout = try prepareRunFolder(job, at: folder.url)
        let plan = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 2)
        #expect(plan.tasks.map { $0.map(\.id) } == [["p0", "p1"], ["p2", "p3"], ["p4"]])

        // Tasks 2 and 0 finish (in that order); task 1 never does.
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        for task in [2, 0] {
            _ = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: plan.tasks[task]), to: layout.shard(taskID: task))
        }
        let summary = try Merger.merge(layout)
        #expect(summary.promptsTotal == 6 && summary.promptsDone == 3 && summary.promptsFailed == 3 && summary.shards == 2)

        let f = try HDF5File.open(layout.aggregate)
        defer { f.close() }
        #expect(try f.readStrings(at: "prompts/id") == ["p0", "p1", "p2", "p3", "p4", "line-4"])
        #expect(try f.read(Int8.self, at: "prompts/status").values == [1, 1, 0, 0, 1, 0])
        let reasons = try f.readStrings(at: "prompts/reason")
        #expect(reasons[2] == "task 1 not completed" && reasons[5].contains("line 4: not a JSON object"))

        // Statistics: the sum of the two shards' statistics, per feature.
        var count: [Int64]?, sum: [Double]?
        for task in [0, 2] {
            let s = try HDF5File.open(layout.shard(taskID: task))
            defer { s.close() }
            let c = try s.read(Int64.self, at: "stats/features/active_count").values
            let a = try s.read(Double.self, at: "stats/features/sum_activation").values
            count = count.map { zip($0, c).map { $0 + $1 } } ?? c
            sum = sum.map { zip($0, a).map { $0 + $1 } } ?? a
        }
        #expect(try f.read(Int64.self, at: "stats/features/active_count").values == count)
        let merged = try f.read(Double.self, at: "stats/features/sum_activation").values
        #expect(zip(merged, sum!).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })

        // CSR offsets: failed prompts have empty ranges; graph tables concatenate the shards'.
        let offsets = try f.read(Int64.self, at: "graphs/node_offset").values
        #expect(offsets.count == 7 && offsets[3] == offsets[2] && offsets[4] == offsets[3])

        // The report reads the merged file.
        let report = try Reporter.write(layout)
        #expect(report.prompts_total == 6 && report.prompts_done == 3 && report.prompts_failed == 3)
        #expect(report.prompts.map(\.status) == ["done", "done", "failed", "failed", "done", "failed"])
        #expect(report.recurring_features.allSatisfy { $0.prompts >= 1 && $0.prompts <= 3 })
        #expect(!report.top_paths.isEmpty && report.top_paths.allSatisfy { $0.nodes.first?.hasPrefix("tok ") == true && $0.nodes.last?.hasPrefix("logit ") == true })
        #expect(try Data(contentsOf: layout.reportHTML).count > 1000)
    }

    @Test func refusesAShardOfAnotherJob() throws {
        let folder = try ScratchFolder("merge-foreign")
        defer { folder.remove() }
        let corpus = folder.file("c.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let job = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path, corpus: corpus.path, output: folder.url.path)
        let layout = try prepareRunFolder(job, at: folder.url)
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        _ = try runner.run(TaskAssignment(taskID: 0, attempt: 1, jobHash: "another-job", prompts: [PromptItem(id: "line-1", text: "the cat")]), to: layout.shard(taskID: 0))
        #expect { try Merger.merge(layout) } throws: { "\($0)".contains("shard belongs to job another-job") }
    }
}

@Suite struct LabelStatisticsTests {
    @Test func labelsGroupTheStatisticsAndMeasureRecovery() throws {
        let folder = try ScratchFolder("labels")
        defer { folder.remove() }
        let corpus = folder.file("corpus.jsonl")
        let items = [("a", "the cat sat on the mat", "cat"), ("b", "a big cat ran", "cat"), ("c", "the small animal slept on the bed", "cat"),
                     ("d", "the dog ate", "dog"), ("e", "one old animal ran to the river", "dog"), ("f", "the bird saw the tree", nil)]
        try items.map { id, text, label in
            String(data: try JSONSerialization.data(withJSONObject: label.map { ["id": id, "prompt": text, "label": $0] } ?? ["id": id, "prompt": text]), encoding: .utf8)!
        }.joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path, corpus: corpus.path, output: folder.url.path)
        job.promptsPerTask = 4
        let layout = try prepareRunFolder(job, at: folder.url)
        let plan = TaskPlan(corpus: try Corpus.load(corpus), promptsPerTask: 4)
        #expect(plan.tasks[0].map(\.label) == ["cat", "cat", "cat", "dog"])
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        for task in plan.tasks.indices {
            _ = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: plan.tasks[task]), to: layout.shard(taskID: task))
        }
        _ = try Merger.merge(layout)
        let aggregate = try Aggregate(url: layout.aggregate)
        let stats = try #require(aggregate.labelStatistics)
        #expect(stats.prompts == ["cat": 3, "dog": 2])

        // Independent count: for every feature, the labelled prompts where it fires anywhere, and
        // the sum over them of its largest activation in the prompt.
        var expected: [String: [FeatureID: Int64]] = [:], peaks: [String: [FeatureID: Double]] = [:]
        for (id, text, label) in items {
            guard let label else { continue }
            let r = try runner.session.trace(prompt: text, options: runner.options)
            _ = id
            var peak: [FeatureID: Float] = [:]
            for (f, v) in zip(r.graph.activeFeatures, r.graph.activationValues) where v > 0 {
                let id = FeatureID(layer: f.layer, feature: f.index)
                peak[id] = max(peak[id] ?? 0, v)
            }
            for (f, v) in peak {
                expected[label, default: [:]][f, default: 0] += 1
                peaks[label, default: [:]][f, default: 0] += Double(v)
            }
        }
        for (label, table) in expected {
            #expect(stats.entries[label]?.mapValues(\.activePrompts) == table, "\(label)")
            for (f, sum) in peaks[label]! { #expect(abs(stats.entries[label]![f]!.sumMaxActivation - sum) <= 1e-5 * max(1, sum)) }
        }
        // Responding: active in ≥ half of the label's prompts, mean peak activation over them ≥ 2×
        // its mean over any other label's prompts.
        for label in ["cat", "dog"] {
            let n = Double(stats.prompts[label]!)
            let naive = (expected[label] ?? [:]).filter { f, c in
                let inside = peaks[label]![f]! / n
                let outside = peaks.filter { $0.key != label }.map { ($0.value[f] ?? 0) / Double(stats.prompts[$0.key]!) }.max() ?? 0
                return Double(c) / n >= 0.5 && inside >= 2 * outside
            }.keys.sorted()
            #expect(stats.responding(to: label) == naive)
        }
        // Recovery counts the prompts that do not name their label ("c" for cat, "e" for dog).
        let report = CircuitReport(aggregate)
        let entries = try #require(report.label_recovery)
        #expect(entries.map(\.implicit_prompts) == [1, 1])
        var recovered = 0
        for (id, label) in [("c", "cat"), ("e", "dog")] {
            let k = aggregate.prompts.firstIndex { $0.id == id }!
            let responding = Set(stats.responding(to: label))
            if aggregate.graphs[k].nodes.contains(where: { $0.type == .feature && responding.contains(FeatureID(layer: $0.layer, feature: $0.feature)) }) { recovered += 1 }
        }
        #expect(report.planted_circuit_recovery == Double(recovered) / 2)
    }
}
