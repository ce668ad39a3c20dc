// Graph evaluation as part of a corpus job, with real processes on the demo model: the
// attribution phase evaluates every graph, the second phase runs the bridge swaps on workers,
// and a worker killed during the bridge swaps loses nothing.
import Foundation
import Storage
import Testing
import TestSupport

/// A demo-model job over the two-hop prompts of two families' bridges and the one-hop prompts
/// that name them (labels = bridges), with `evaluation: {features: 5, facts: facts.json}`.
func evaluationJob(_ label: String, promptsPerTask: Int, lease: Double = 6) throws -> (job: TestJob, twoHop: Int, tasks: Int) {
    let demo = repositoryRoot.appendingPathComponent("models/demo")
    let job = try TestJob(label, prompts: [], yaml: """
        model: \(demo.path)/model
        transcoders: \(demo.path)/clt
        corpus: corpus.jsonl
        output: out
        prompts_per_task: \(promptsPerTask)
        workers: 2
        lease_seconds: \(lease)
        heartbeat_seconds: 0.3
        evaluation: {features: 5, facts: \(demo.path)/facts.json}
        """)
    let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("jobs/demo_corpus.jsonl"), encoding: .utf8).split(separator: "\n")
    let bridges = ["\"texas\"", "\"california\"", "\"florida\"", "\"illinois\""]
    let chosen = lines.filter { line in bridges.contains { line.contains("\"label\": \($0)") } }
    try chosen.joined(separator: "\n").write(to: job.folder.file("corpus.jsonl"), atomically: true, encoding: .utf8)
    let twoHop = chosen.filter { $0.contains("\"csc-") }.count
    return (job, twoHop, (chosen.count + promptsPerTask - 1) / promptsPerTask)
}

@Suite(.serialized) struct EvaluationRunTests {
    @Test func corpusRunEvaluatesEveryGraphAndSwapsBridgesOnWorkers() throws {
        let (job, twoHop, tasks) = try evaluationJob("evaluation-run", promptsPerTask: 6)
        defer { job.folder.remove() }
        #expect(twoHop >= 6)
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "2", "--threads", "1"], in: job.folder.url, seconds: 300)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        let e = try #require(report["evaluation"] as? [String: Any])
        #expect(e["prompts"] as? Int == report["prompts_done"] as? Int)
        let length = try #require(e["mean_path_length"] as? Double)
        #expect(length >= 1 && length <= 8)
        let rho = try #require(e["mean_causal_rank_correlation"] as? Double)
        #expect(rho >= -1 && rho <= 1)
        let cosine = try #require(e["fidelity_cosine_by_layer_distance"] as? [Any])
        #expect(cosine.count == 4 && ((cosine[0] as? Double).map { $0 > 0.99 } ?? false), "at distance 0 both models change the residual alike: \(cosine)")
        #expect((e["fidelity_nmse_by_layer_distance"] as? [Any])?.count == 4)
        #expect(e["causal_skipped_prompts"] as? Int != nil)
        #expect(e["bridge_swap_prompts"] as? Int == twoHop)
        let success = try #require(e["bridge_swap_success"] as? Double), drop = try #require(e["bridge_ablation_drop"] as? Double)
        #expect(success > 0 && success <= 1 && drop > 0.1 && drop <= 1, "success \(success), drop \(drop)")
        let swaps = try #require(e["bridge_swaps"] as? [[String: Any]])
        #expect(swaps.count == twoHop && swaps.allSatisfy { $0["status"] as? String == "done" })
        let html = try String(contentsOf: job.output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Graph evaluation") && html.contains("Bridge swaps"))

        // Phase 2 ran on the workers: its tasks follow the attribution tasks, each completed once,
        // their shards written by a worker and logged by one.
        let swapTasks = (twoHop + 5) / 6
        #expect(job.completions.sorted() == Array(0..<(tasks + swapTasks)))
        let workerLogs = try FileManager.default.contentsOfDirectory(at: job.output.appendingPathComponent("logs"), includingPropertiesForKeys: nil)
            .map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n")
        for task in tasks..<(tasks + swapTasks) {
            #expect(workerLogs.contains("task \(task) (") && workerLogs.contains("bridge swaps)"), "task \(task) on a worker")
            let f = try HDF5File.open(job.output.appendingPathComponent("shards/\(ShardSchema.shardFileName(taskID: task))"))
            defer { f.close() }
            #expect(try !ShardMeta(f).workerID.isEmpty && BridgeSwapTable.read(f) != nil)
        }
    }

    @Test func workerKilledDuringBridgeSwapsLosesNothing() throws {
        let (job, twoHop, tasks) = try evaluationJob("evaluation-sigkill", promptsPerTask: 12, lease: 3)
        defer { job.folder.remove() }
        let swapTasks = (twoHop + 11) / 12
        let (endpoint, coordinator, victim) = try startCoordinatorAndVictim(job)
        // The victim does the attribution phase alone; kill it as it starts its first bridge swap task.
        #expect(eventually(seconds: 240) { victim.stderr.contains("bridge swaps)") })
        victim.kill(SIGKILL)
        victim.wait()
        let started = victim.stderr.split(separator: "\n").filter { $0.contains("bridge swaps)") }
        #expect(started.count == 1 && !victim.stderr.split(separator: "\n").contains { $0.contains("task \(tasks) done") },
                "the victim was killed during its first bridge-swap task")
        let survivor = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "survivor"], logs: job.folder.url, name: "survivor")
        #expect(coordinator.wait(seconds: 240) == 0, "coordinator: \(coordinator.stderr)")
        #expect(survivor.wait(seconds: 30) == 0)
        #expect(survivor.stderr.contains("bridge swaps)"), "the survivor ran bridge swaps")
        #expect(job.completions.sorted() == Array(0..<(tasks + swapTasks)), "every task completed once")
        #expect(coordinator.stderr.contains("task \(tasks): worker victim silent past its lease"))

        let merge = try CircuitsProcess.run(["merge", job.output.path], in: job.folder.url)
        #expect(merge.status == 0, "\(merge.stderr)")
        let f = try HDF5File.open(job.output.appendingPathComponent("aggregate.h5"))
        defer { f.close() }
        let swaps = try #require(try BridgeSwapTable.read(f))
        #expect(swaps.rows.count == twoHop && swaps.rows.allSatisfy { $0.status == 1 })
    }
}
