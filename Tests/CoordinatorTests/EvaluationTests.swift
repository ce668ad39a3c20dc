// Graph evaluation at corpus scale: the bridge-swap plan's rule, the report's aggregation of
// per-prompt metrics against an independent computation, and merge + report over shards that
// real task runs wrote on the demo model.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Worker

@Suite struct EvaluationTests {
    /// Labels X1 (features L0/F1, L1/F2), X2 (L0/F3), X3 (L2/F4), each in 2 prompts.
    static func labels() -> LabelStatistics {
        var s = LabelStatistics()
        s.add(label: "X1", features: [(0, 1), (1, 2)], values: [1, 2])
        s.add(label: "X1", features: [(0, 1), (1, 2)], values: [3, 4])
        s.add(label: "X2", features: [(0, 3)], values: [5])
        s.add(label: "X2", features: [(0, 3)], values: [7])
        s.add(label: "X3", features: [(2, 4)], values: [2])
        s.add(label: "X3", features: [(2, 4)], values: [2])
        return s
    }

    @Test func bridgeSwapPlanFollowsTheRule() {
        func fact(_ id: String, _ x: String, _ answer: String, _ family: String) -> Fact {
            Fact(id: id, prompt: "p \(id)", subject: "s", intermediate: x, answer: answer, family: family)
        }
        let facts = [fact("a1", "X1", "A", "F"), fact("a2", "X1", "A", "F"), fact("b1", "X2", "B", "F"), fact("c1", "X3", "C", "F"),
                     fact("g1", "X1", "Q", "G")]                       // family G has one bridge: no swap
        let prompts = [PromptItem(id: "a1", text: "p a1", label: "X1"), PromptItem(id: "one-hop", text: "x", label: "X2"),
                       PromptItem(id: "c1", text: "p c1", label: "X3"), PromptItem(id: "g1", text: "p g1", label: "X1")]
        let labels = Self.labels()
        let plan = BridgeSwapPlan(facts: facts, prompts: prompts, labels: labels, promptsPerTask: 1)
        #expect(plan.tasks.map { $0.prompts.map(\.id) } == [["a1"], ["c1"]])
        let a1 = plan.tasks[0].swaps[0], c1 = plan.tasks[1].swaps[0]
        #expect((a1.bridge, a1.target, a1.answer, a1.targetAnswer) == ("X1", "X2", "A", "B"))
        #expect((c1.bridge, c1.target, c1.answer, c1.targetAnswer) == ("X3", "X1", "C", "A"), "wraps around the family")
        // Features from LabelStatistics.responding; values = sumMaxActivation / activePrompts.
        #expect(a1.bridgeFeatures == labels.responding(to: "X1").map { [$0.layer, $0.feature] })
        #expect(a1.targetFeatures == [[0, 3]] && a1.targetValues == [6])
        #expect(c1.targetFeatures == [[0, 1], [1, 2]] && c1.targetValues == [2, 3])
        #expect(plan.tasks.allSatisfy { $0.swaps.allSatisfy { $0.problem == nil } })
    }

    /// Random per-prompt metrics with missing values; the summary's numbers recomputed by plain loops.
    @Test func summaryMatchesAnIndependentComputation() {
        var rng = SystemRandomNumberGenerator()
        let L = 4
        var table = EvaluationTable(nLayers: L, features: 5)
        for k in 0..<40 {
            if k % 7 == 3 { table.appendMissing(1); continue }
            var r = EvaluationTable.Row(nLayers: L)
            let n = Int.random(in: 1...5, using: &rng)
            let raw = (0..<n).map { _ in Double.random(in: 0...1, using: &rng) }
            r.pathLengthShares = raw.map { $0 / raw.reduce(0, +) }
            r.pathLengthMean = r.pathLengthShares.enumerated().reduce(0) { $0 + Double($1.offset + 1) * $1.element }
            r.fidelityCosine = (0..<L).map { d in d == 3 && k % 2 == 0 ? .nan : Double.random(in: 0...1, using: &rng) }
            r.fidelityNMSE = r.fidelityCosine.map { $0.isNaN ? .nan : 1 - $0 }
            r.fidelityFeatures = 5
            r.causalRankCorrelation = k % 5 == 0 ? .nan : Double.random(in: -1...1, using: &rng)
            r.causalFeatures = r.causalRankCorrelation.isNaN ? 0 : 5
            table.append(r)
        }
        var swaps = BridgeSwapTable()
        for k in 0..<6 {
            var r = BridgeSwapTable.Row(id: "s\(k)", prompt: "p", bridge: "x", target: "y", answer: "a", targetAnswer: "b")
            if k != 4 {
                r.status = 1; r.answerProbability = 0.9 - 0.1 * Double(k); r.ablatedAnswerProbability = 0.05 * Double(k)
                r.success = k % 2 == 0 ? 1 : 0; r.swappedTopToken = k % 2 == 0 ? "b" : "c"; r.swappedTopProbability = 0.5
            }
            swaps.rows.append(r)
        }
        let e = EvaluationSummary(table, swaps: swaps)

        var evaluated = 0, lengthSum = 0.0, causalSum = 0.0, causalN = 0, skipped = 0
        var cosSum = [Double](repeating: 0, count: L), cosN = [Int](repeating: 0, count: L), nmseSum = [Double](repeating: 0, count: L)
        for r in table.rows where !r.pathLengthMean.isNaN {
            evaluated += 1; lengthSum += r.pathLengthMean
            if r.causalRankCorrelation.isNaN { skipped += 1 } else { causalSum += r.causalRankCorrelation; causalN += 1 }
            for d in 0..<L where !r.fidelityCosine[d].isNaN { cosSum[d] += r.fidelityCosine[d]; nmseSum[d] += r.fidelityNMSE[d]; cosN[d] += 1 }
        }
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } ?? false }
        #expect(e.prompts == evaluated && evaluated == 34)
        #expect(close(e.mean_path_length, lengthSum / Double(evaluated)))
        #expect(close(e.mean_causal_rank_correlation, causalSum / Double(causalN)) && e.causal_skipped_prompts == skipped)
        for d in 0..<L {
            #expect(close(e.fidelity_cosine_by_layer_distance[d], cosSum[d] / Double(cosN[d])))
            #expect(close(e.fidelity_nmse_by_layer_distance[d], nmseSum[d] / Double(cosN[d])))
            #expect(e.fidelity_prompts_by_layer_distance[d] == cosN[d])
        }
        #expect(e.path_length_histogram.counts.reduce(0, +) == evaluated)
        #expect(e.causal_rank_correlation_histogram.counts.reduce(0, +) == causalN)
        #expect(close(e.mean_path_length_shares.reduce(0, +), 1))
        // Swaps: 2 successes (0, 2) of 6 planned (the failed one, 4, counts as unsuccessful); drop over the 5 that ran.
        #expect(e.bridge_swap_prompts == 6 && close(e.bridge_swap_success, 2.0 / 6))
        let drops = [0, 1, 2, 3, 5].map { (0.9 - 0.1 * Double($0)) - 0.05 * Double($0) }
        #expect(close(e.bridge_ablation_drop, drops.reduce(0, +) / 5))
        #expect(e.bridge_swaps?.map(\.status) == ["done", "done", "done", "done", "failed", "done"])
        // Evaluation time against trace time, over the evaluated prompts only.
        var timed = table
        for k in timed.rows.indices { timed.rows[k].seconds = timed.rows[k].isEvaluated ? 0.3 : 0 }
        let ratio = EvaluationSummary(timed, swaps: nil, traceSeconds: timed.rows.map { $0.isEvaluated ? 0.2 : 9 }).seconds_per_trace_second
        #expect(close(ratio, 1.5) && close(EvaluationSummary(timed, swaps: nil).mean_seconds, 0.3))
    }

    /// Real task runs on the demo model: attribution tasks with evaluation, the bridge-swap plan
    /// from their shards, swap tasks; the merged report equals the per-prompt values of the shards.
    @Test func mergeAndReportAggregateTheShards() throws {
        let folder = try ScratchFolder("merge-evaluation")
        defer { folder.remove() }
        let demo = repositoryRoot.appendingPathComponent("models/demo")
        let corpus = folder.file("corpus.jsonl")
        try """
        {"id": "csc-000", "prompt": "fact : the capital of the state containing dallas is", "label": "texas"}
        {"id": "csc-003", "prompt": "fact : the capital of the state containing oakland is", "label": "california"}
        {"id": "hop2-001", "prompt": "fact : the capital of texas is", "label": "texas"}
        {"id": "hop2-005", "prompt": "fact : the capital of california is", "label": "california"}
        {"id": "bad", "prompt": "fact : the capital of \\u0000 is"}
        """.write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: demo.appendingPathComponent("model").path, transcoders: demo.appendingPathComponent("clt").path,
                          corpus: corpus.path, output: folder.url.path)
        job.promptsPerTask = 2
        job.evaluation = JobSpec.Evaluation(features: 4, facts: demo.appendingPathComponent("facts.json").path)
        let layout = try prepareRunFolder(job, at: folder.url)
        let plan = try TaskPlan(job: job)
        let runner = try TaskRunner(job: job, workerID: "t", threads: 1)
        for (task, prompts) in plan.tasks.enumerated() {
            _ = try runner.run(TaskAssignment(taskID: task, attempt: 1, jobHash: job.hash, prompts: prompts), to: layout.shard(taskID: task))
        }
        let swaps = try BridgeSwapPlan.make(job: job, plan: plan, layout: layout, facts: job.evaluation!.facts!)
        try swaps.save(layout)
        // Oakland → california → the next state of the family in facts.json order (florida).
        #expect(swaps.tasks.flatMap(\.swaps).map { "\($0.id):\($0.bridge)>\($0.target)" } == ["csc-000:texas>california", "csc-003:california>florida"])
        for (k, t) in swaps.tasks.enumerated() {
            let id = plan.tasks.count + k
            _ = try runner.run(TaskAssignment(taskID: id, attempt: 1, jobHash: job.hash, prompts: t.prompts, swaps: t.swaps), to: layout.shard(taskID: id))
        }
        _ = try Merger.merge(layout)
        let report = try Reporter.write(layout)
        let e = try #require(report.evaluation)

        // Independent: the shards' raw datasets.
        var means: [Double] = [], causal: [Double] = [], cosine: [[Double]] = [], swapRows: [(Double, Double, Int8)] = []
        for task in 0..<(plan.tasks.count + swaps.tasks.count) {
            let f = try HDF5File.open(layout.shard(taskID: task))
            defer { f.close() }
            if task < plan.tasks.count {
                means += try f.read(Double.self, at: "evaluation/path_length_mean").values
                causal += try f.read(Double.self, at: "evaluation/causal_rank_correlation").values
                let c = try f.read(Double.self, at: "evaluation/fidelity_cosine")
                cosine += stride(from: 0, to: c.values.count, by: c.shape[1]).map { Array(c.values[$0..<($0 + c.shape[1])]) }
            } else {
                let p = try f.read(Double.self, at: "bridge_swap/answer_probability").values
                let a = try f.read(Double.self, at: "bridge_swap/ablated_answer_probability").values
                let s = try f.read(Int8.self, at: "bridge_swap/success").values
                swapRows += (0..<p.count).map { (p[$0], a[$0], s[$0]) }
            }
        }
        let evaluated = means.filter { !$0.isNaN }
        #expect(e.prompts == evaluated.count && evaluated.count == 4, "the prompt with a NUL character fails and has no evaluation")
        #expect(abs(e.mean_path_length! - evaluated.reduce(0, +) / 4) < 1e-12)
        #expect(e.mean_path_length! >= 1 && e.mean_path_length! <= 6)
        let rho = causal.filter { !$0.isNaN }
        #expect(e.causal_skipped_prompts == 4 - rho.count)
        if !rho.isEmpty { #expect(abs(e.mean_causal_rank_correlation! - rho.reduce(0, +) / Double(rho.count)) < 1e-12) }
        let d0 = cosine.map { $0[0] }.filter { !$0.isNaN }
        #expect(abs(e.fidelity_cosine_by_layer_distance[0]! - d0.reduce(0, +) / Double(d0.count)) < 1e-12)
        #expect(e.fidelity_cosine_by_layer_distance.count == 4)
        #expect(e.bridge_swap_prompts == 2 && e.bridge_swaps?.map(\.id) == ["csc-000", "csc-003"])
        #expect(abs(e.bridge_swap_success! - Double(swapRows.filter { $0.2 == 1 }.count) / 2) < 1e-12)
        #expect(abs(e.bridge_ablation_drop! - swapRows.map { $0.0 - $0.1 }.reduce(0, +) / 2) < 1e-12)
        #expect(swapRows.allSatisfy { $0.0 > 0.5 }, "the demo model answers its two-hop facts")
        let html = try String(contentsOf: layout.reportHTML, encoding: .utf8)
        #expect(html.contains("Graph evaluation") && html.contains("Bridge swaps") && html.contains("<polyline"))
    }
}
