// The merge and report of an EAP job, from shards written as a worker writes them: sums added
// exactly in task order, skipped and missing pairs reported with their reasons, the circuit drawn.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer
@testable import Worker

@Suite struct EAPMergeTests {
    /// Per-edge scores of pair k of a small model's graph, exactly representable sums not needed:
    /// the expected sums are added in the same (task) order the merge adds shards.
    static func scores(_ k: Int, _ n: Int, method: Int) -> [Double] {
        (0..<n).map { i in sin(Double(7 * k + 3 * i + 11 * method)) * Double(i % 5 + 1) / Double(k + 1) }
    }

    @Test func shardsMergeExactlyAndTheReportShowsTopEdgesCircuitsAndSkippedPairs() throws {
        let folder = try ScratchFolder("eap-merge")
        defer { folder.remove() }
        let graph = ComponentGraph(nLayers: 2, nHeads: 2, nKVHeads: 2, learnedPositions: true)
        let names = graph.edges.map(graph.name(of:))
        // 5 pair lines (one not JSON, so invalid at the coordinator), 2 per task: tasks 0, 1 have
        // shards, task 2 none (not completed).
        let ids = ["p0", "p1", "p2", "p3", "p4"]
        var lines = ids.map { #"{"id": "\#($0)", "clean": "a b", "corrupt": "a c", "answer": "x", "wrong": "y"}"# }
        lines.insert("not json", at: 2)
        let pairsFile = folder.file("pairs.jsonl")
        try lines.joined(separator: "\n").write(to: pairsFile, atomically: true, encoding: .utf8)
        var job = JobSpec(model: "/m", transcoders: "", corpus: pairsFile.path, output: folder.file("out").path)
        job.eap = JobSpec.EAP(metric: "logit-diff", igSteps: 4, exact: false)
        job.promptsPerTask = 2
        let layout = try prepareRunFolder(job, at: folder.file("out"))
        let plan = try TaskPlan(job: job)
        #expect(plan.tasks.map { $0.map(\.id) } == [["p0", "p1"], ["p2", "p3"], ["p4"]])
        #expect(plan.invalid.map(\.line) == [3])

        var expected = EdgeScoreSums(edges: names, metric: "logit-diff", igSteps: 4, methods: [.eap, .eapIG])
        for task in 0..<2 {
            var sums = EdgeScoreSums(edges: names, metric: "logit-diff", igSteps: 4, methods: [.eap, .eapIG])
            var table = PromptTable()
            for (j, item) in plan.tasks[task].enumerated() {
                let k = 2 * task + j
                if k == 3 { table.append(.failed(id: item.id, prompt: item.text, reason: "\"corrupt\": 'zz' not in the vocabulary")); continue }
                let s: [EdgeScoreSums.Method: [Double]] = [.eap: Self.scores(k, names.count, method: 0), .eapIG: Self.scores(k, names.count, method: 1)]
                try sums.add(cleanMetric: Double(k) + 1, corruptMetric: -Double(k), scores: s)
                var row = PromptTable.Row(id: item.id, prompt: item.text, status: 1)
                row.nTokens = 3
                table.append(row)
            }
            try expected.add(sums)
            let meta = ShardMeta(jobHash: job.hash, taskID: task, workerID: "w", modelChecksum: "m", transcoderChecksum: "")
            try ShardWriter.write(sums, prompts: table, meta: meta, to: layout.shard(taskID: task))
        }

        let summary = try Merger.merge(layout)
        #expect(summary.promptsTotal == 6 && summary.promptsDone == 3 && summary.shards == 2)
        let f = try HDF5File.open(layout.aggregate)
        let merged = try #require(try EdgeScoreSumsFile.read(f))
        f.close()
        #expect(merged == expected, "the shards' sums, added in task order")
        #expect(merged.pairs == 3 && merged.cleanMetric == 1 + 2 + 3 && merged.absoluteTotalEffect == 1 + 3 + 5)

        let report = try Reporter.write(layout)
        let e = try #require(report.eap)
        let meanEAP = expected.mean(.eap)!, meanIG = expected.mean(.eapIG)!
        let best = meanEAP.indices.max { abs(meanEAP[$0]) < abs(meanEAP[$1]) }!
        #expect(e.pairs_scored == 3 && e.pairs_skipped == 3 && e.edges_total == names.count && e.methods == ["eap", "eap_ig"])
        #expect(e.top_edges.first?.edge == names[best] && e.top_edges.first?.eap == meanEAP[best])
        #expect(e.top_edges.first?.eap_ig == meanIG[best] && e.top_edges.first?.exact == nil)
        #expect(e.top_edges.count == min(50, names.count))
        #expect(zip(e.top_edges, e.top_edges.dropFirst()).allSatisfy { abs($0.eap) >= abs($1.eap) })
        let bestIG = meanIG.indices.max { abs(meanIG[$0]) < abs(meanIG[$1]) }!
        #expect(e.top_edges_eap_ig?.first?.edge == names[bestIG] && e.top_edges_exact == nil)
        #expect(e.circuits.map(\.size) == [20, 50] && e.circuits[0].edges == Array(e.top_edges.prefix(20)))
        #expect(e.mean_abs_total_effect == 3 && e.mean_clean_metric == 2)
        #expect(e.components == ["input", "pos", "a0.h0", "a0.h1", "m0", "a1.h0", "a1.h1", "m1", "logits"])

        let skipped = Dictionary(uniqueKeysWithValues: report.prompts.filter { $0.status == "failed" }.map { ($0.id, $0.reason ?? "") })
        #expect(skipped == ["p3": "\"corrupt\": 'zz' not in the vocabulary", "p4": "task 2 not completed", "line-3": "line 3: not a JSON object"])

        let html = try String(contentsOf: layout.reportHTML, encoding: .utf8)
        #expect(html.contains("Circuit: top 20 edges by |mean EAP|") && html.contains("Top edges by |mean EAP-IG score|"))
        #expect(html.components(separatedBy: "<path ").count - 1 == 20 + min(50, names.count), "one curve per circuit edge")
        #expect(html.components(separatedBy: "<rect ").count - 1 == 2 * 9, "every component boxed in both drawings")
        #expect(html.contains("&#39;zz&#39;") || html.contains("'zz' not in the vocabulary"))
        #expect(!html.contains("<script") && !html.contains("http"), "self-contained")
        let summaryText = RunCompletion.summary(RunCompletion.Outcome(merge: summary, report: report), layout: layout)
        #expect(summaryText.hasPrefix("scored 3 of 6 pairs (3 skipped)"), "\(summaryText)")
    }

    @Test func aShardWithoutEAPScoresIsRefusedNamingIt() throws {
        let folder = try ScratchFolder("eap-merge-bad")
        defer { folder.remove() }
        let pairsFile = folder.file("pairs.jsonl")
        try #"{"id": "p0"}"#.write(to: pairsFile, atomically: true, encoding: .utf8)
        var job = JobSpec(model: "/m", transcoders: "", corpus: pairsFile.path, output: folder.file("out").path)
        job.eap = JobSpec.EAP()
        let layout = try prepareRunFolder(job, at: folder.file("out"))
        var table = PromptTable()
        table.append(.failed(id: "p0", prompt: "", reason: "x"))
        let url = layout.shard(taskID: 0)
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try ShardMeta(jobHash: job.hash, taskID: 0, workerID: "w", modelChecksum: "m", transcoderChecksum: "").write(into: f)
            try table.write(into: f, withTask: false)
        }
        #expect { try Merger.merge(layout) } throws: { "\($0)".contains(url.path) && "\($0)".contains("no /eap group") }
    }

    /// The metric names a job spec accepts are exactly the engine's.
    @Test func jobMetricNamesAreTheEngines() {
        #expect(EAPMetric.allCases.map(\.rawValue) == JobSpec.EAP.metrics)
    }
}
