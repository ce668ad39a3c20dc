// Integration tests of the corpus pipeline with real processes on loopback: `circuits run`,
// `circuits coordinator` + `circuits worker`, SIGKILLed workers, a killed and restarted
// coordinator, malformed inputs. Uses the bundled interim model (models/interim).
import Foundation
import Shared
import Storage
import Testing
import TestSupport

/// A job spec in a scratch folder over the bundled model.
struct TestJob {
    let folder: ScratchFolder
    let spec: URL
    let output: URL

    init(_ label: String, prompts: [String], extraLines: [String] = [], promptsPerTask: Int = 4,
         lease: Double = 6, heartbeat: Double = 0.3, yaml: String? = nil) throws {
        folder = try ScratchFolder(label)
        output = folder.file("out")
        var corpus = prompts.enumerated().map { k, p in
            String(data: try! JSONSerialization.data(withJSONObject: ["id": "p\(k)", "prompt": p]), encoding: .utf8)!
        }
        corpus += extraLines
        try corpus.joined(separator: "\n").write(to: folder.file("corpus.jsonl"), atomically: true, encoding: .utf8)
        let models = repositoryRoot.appendingPathComponent("models/interim")
        let text = yaml ?? """
        model: \(models.appendingPathComponent("model").path)
        transcoders: \(models.appendingPathComponent("plt").path)
        corpus: corpus.jsonl
        output: out
        prompts_per_task: \(promptsPerTask)
        workers: 2
        lease_seconds: \(lease)
        heartbeat_seconds: \(heartbeat)
        attribution: {max_logits: 5}
        """
        spec = folder.file("job.yaml")
        try text.write(to: spec, atomically: true, encoding: .utf8)
    }

    var journal: [String] {
        ((try? String(contentsOf: output.appendingPathComponent("journal.jsonl"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// Task ids of the journal's `taskCompleted` events, in order.
    var completions: [Int] {
        journal.compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let e = o["event"] as? [String: Any], let c = e["taskCompleted"] as? [String: Any] else { return nil }
            return c["taskID"] as? Int
        }
    }
}

/// Prompts over the interim model's vocabulary; long enough that a task takes a while.
func corpusPrompts(_ n: Int) -> [String] {
    let animals = ["cat", "dog", "bird", "fish", "mouse", "horse", "cow", "sheep", "lion", "tiger"]
    let places = ["mat", "rug", "bed", "chair", "table", "house", "tree", "garden"]
    return (0..<n).map { k in
        "the \(animals[k % 10]) sat on the \(places[k % 8]) because it was very tired and then the \(animals[(k + 3) % 10]) ran to the \(places[(k + 5) % 8]) with the \(animals[(k + 7) % 10])"
    }
}

/// What a merged run holds, for comparing runs.
struct MergedRun: Equatable {
    var ids: [String], status: [Int8], reasons: [String]
    var nodeFeature: [Int64], nodeActivation: [Float], edgeSource: [Int32], edgeWeight: [Float]
    var replacement: [Double], activeCount: [Int64], sumActivation: [Double], tokensSeen: Int64

    init(_ url: URL) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        ids = try f.readStrings(at: "prompts/id")
        status = try f.read(Int8.self, at: "prompts/status").values
        reasons = try f.readStrings(at: "prompts/reason")
        nodeFeature = try f.read(Int64.self, at: "graphs/node_feature").values
        nodeActivation = try f.read(Float.self, at: "graphs/node_activation").values
        edgeSource = try f.read(Int32.self, at: "graphs/edge_source").values
        edgeWeight = try f.read(Float.self, at: "graphs/edge_weight").values
        replacement = try f.read(Double.self, at: "prompts/replacement_score").values
        activeCount = try f.read(Int64.self, at: "stats/features/active_count").values
        sumActivation = try f.read(Double.self, at: "stats/features/sum_activation").values
        tokensSeen = try f.attribute("tokens_seen", as: Int64.self, at: "stats/features")
    }
}

/// `circuits coordinator` for `job` on a free loopback port and one worker, `victim`, logging
/// into the job's folder.
func startCoordinatorAndVictim(_ job: TestJob) throws -> (endpoint: String, coordinator: CircuitsProcess, victim: CircuitsProcess) {
    let endpoint = "tcp://127.0.0.1:\(try freePort())"
    let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint], logs: job.folder.url, name: "coordinator")
    let victim = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "victim"], logs: job.folder.url, name: "victim")
    return (endpoint, coordinator, victim)
}

/// A free loopback port (bound once by ZeroMQ, then released).
func freePort() throws -> Int {
    let context = try ZMQContext()
    let socket = try ZMQSocket(context, kind: .router)
    let endpoint = try socket.bind("tcp://127.0.0.1:*")
    socket.close()
    context.terminate()
    return Int(endpoint.split(separator: ":").last!)!
}

@Suite(.serialized) struct CorpusRunTests {
    static let prompts = corpusPrompts(24)

    @Test func runWithTwoWorkersTracesEveryPromptOnce() throws {
        let job = try TestJob("run", prompts: Self.prompts)
        defer { job.folder.remove() }
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "2", "--threads", "1"], in: job.folder.url)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("traced 24 of 24 prompts"))

        let merged = try MergedRun(job.output.appendingPathComponent("aggregate.h5"))
        #expect(merged.ids.sorted() == (0..<24).map { "p\($0)" }.sorted())
        #expect(Set(merged.ids).count == merged.ids.count, "every prompt exactly once")
        #expect(merged.status.allSatisfy { $0 == 1 })
        #expect(job.completions.sorted() == Array(0..<6), "each task completed once")
        // Feature statistics: one count per active (feature, position); non-BOS positions of every prompt.
        #expect(merged.tokensSeen == Int64(24 * (Self.prompts[0].split(separator: " ").count)))
        #expect(merged.activeCount.reduce(0, +) > 0)

        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        #expect(report["prompts_total"] as? Int == 24 && report["prompts_done"] as? Int == 24 && report["prompts_failed"] as? Int == 0)
        #expect((report["prompts"] as? [[String: Any]])?.count == 24)
        let html = try String(contentsOf: job.output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && !html.contains("<script") && !html.contains("http"), "self-contained, inline SVG")

        // Shards and the aggregate are real HDF5 that h5dump reads.
        if FileManager.default.fileExists(atPath: "/usr/bin/h5dump") {
            let shards = try FileManager.default.contentsOfDirectory(atPath: job.output.appendingPathComponent("shards").path)
                .filter { $0.hasSuffix(".h5") }.map { "shards/" + $0 }
            #expect(shards.count == 6)
            for file in shards + ["aggregate.h5"] {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")
                p.arguments = ["-H", job.output.appendingPathComponent(file).path]
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                p.waitUntilExit()
                #expect(p.terminationStatus == 0, "h5dump \(file)")
            }
        }

        // export: the graph JSON of one prompt, as circuit-tracer's frontend reads it, in a folder
        // its local viewer serves (scripts/circuit_tracer_viewer_test.sh opens one in the real viewer).
        let viewer = job.folder.file("viewer")
        let export = try CircuitsProcess.run(["export", job.output.path, "--prompt", "p5", "--out", viewer.appendingPathComponent("two-hop.json").path], in: job.folder.url)
        #expect(export.status == 0, "\(export.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: viewer.appendingPathComponent("two-hop.json"))) as! [String: Any]
        #expect((doc["nodes"] as? [Any])?.isEmpty == false && (doc["links"] as? [Any])?.isEmpty == false)
        let metadata = try #require(doc["metadata"] as? [String: Any])
        #expect(metadata["slug"] as? String == "two-hop", "the viewer loads graph_data/<slug>.json")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: viewer.appendingPathComponent("graph-metadata.json"))) as? [String: Any]
        #expect((index?["graphs"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["two-hop"], "the viewer's list of graphs")
        // ... with circuit-tracer's feature file of each of its features beside it, where the
        // viewer fetches it: `<scan>/<feature>.json` under the page, `/data/` being the folder.
        let scan = try #require(metadata["scan"] as? String)
        #expect(scan.hasPrefix("./data/features/"), "\(scan)")
        let featureNodes = (doc["nodes"] as! [[String: Any]]).filter { $0["feature_type"] as? String == "cross layer transcoder" }
        for node in featureNodes {
            let file = viewer.appendingPathComponent("\(scan.dropFirst("./data/".count))/\(node["feature"] as! Int).json")
            let feature = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            #expect(feature?["layer"] as? Int == Int(node["layer"] as! String), "\(file.path)")
            #expect((feature?["examples_quantiles"] as? [[String: Any]])?.first?["quantile_name"] as? String == "Top activations")
        }
        #expect(!featureNodes.isEmpty)
        // --no-features: the stored scan, no feature files; --out must name a .json file.
        let plain = job.folder.file("plain")
        let bare = try CircuitsProcess.run(["export", job.output.path, "--prompt", "p5", "--no-features", "--out", plain.appendingPathComponent("p5.json").path], in: job.folder.url)
        #expect(bare.status == 0, "\(bare.stderr)")
        let bareDoc = try JSONSerialization.jsonObject(with: Data(contentsOf: plain.appendingPathComponent("p5.json"))) as! [String: Any]
        #expect((bareDoc["metadata"] as? [String: Any])?["scan"] as? String == String(scan.dropFirst("./data/features/".count)))
        #expect(!FileManager.default.fileExists(atPath: plain.appendingPathComponent("features").path))
        let notJSON = try CircuitsProcess.run(["export", job.output.path, "--prompt", "p5", "--out", "p5.txt"], in: job.folder.url)
        #expect(notJSON.status == 64 && notJSON.stderr.contains("--out must name a <slug>.json file"), "\(notJSON.stderr)")
        let missing = try CircuitsProcess.run(["export", job.output.path, "--prompt", "nope"], in: job.folder.url)
        #expect(missing.status == 2 && missing.stderr.contains("no prompt with id 'nope'"))

        // global-weights: a statistics-only pass (real worker processes), then the tables.
        let gw = try CircuitsProcess.run(["global-weights", job.output.path, "--top", "5", "--threshold", "0"], in: job.folder.url)
        #expect(gw.status == 0, "\(gw.stderr)")
        let g = try HDF5File.open(job.output.appendingPathComponent("global_weights.h5"))
        let targets = try g.read(Int64.self, at: "targets")
        #expect(targets.shape == [5, 2] && stride(from: 0, to: 10, by: 2).allSatisfy { targets.values[$0] >= 1 })
        #expect(try g.attribute("tokens_seen", as: Int64.self) == merged.tokensSeen, "the pass saw the same corpus")
        let n = try g.shape(of: "twera")
        #expect(n[0] == 5 && n[1] > 0)
        g.close()
        let prefilter = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("prefilter.json"))) as! [String: Any]
        #expect((prefilter["pairs"] as? [Any])?.isEmpty == false)
        let withGlobal = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        #expect((withGlobal["global_weights"] as? [String: Any])?["targets"] as? [Any] != nil)
    }

    @Test func workerKilledMidTaskLosesNothing() throws {
        let job = try TestJob("sigkill", prompts: Self.prompts, lease: 3)
        defer { job.folder.remove() }
        let (endpoint, coordinator, victim) = try startCoordinatorAndVictim(job)
        // Kill the victim as soon as it starts a task, before it can finish it.
        #expect(eventually(seconds: 60) { victim.stderr.contains("worker victim: task ") })
        victim.kill(SIGKILL)
        victim.wait()
        let log = victim.stderr
        let survivor = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "survivor"], logs: job.folder.url, name: "survivor")
        #expect(coordinator.wait(seconds: 180) == 0, "coordinator: \(coordinator.stderr)")
        #expect(survivor.wait(seconds: 30) == 0, "the survivor exits when told the job is done")

        // The victim's unfinished task was completed by the survivor; no task completed twice.
        let started = log.components(separatedBy: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "worker victim: task "), line.hasSuffix("prompts)") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        let finishedByVictim = Set(log.components(separatedBy: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "worker victim: task "), line.contains(" done ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        })
        let unfinished = started.filter { !finishedByVictim.contains($0) }
        #expect(!unfinished.isEmpty, "the victim was killed mid-task")
        #expect(job.completions.sorted() == Array(0..<6))
        #expect(coordinator.stderr.contains("silent past its lease"))

        let merge = try CircuitsProcess.run(["merge", job.output.path], in: job.folder.url)
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try MergedRun(job.output.appendingPathComponent("aggregate.h5"))
        #expect(merged.ids.count == 24 && Set(merged.ids).count == 24 && merged.status.allSatisfy { $0 == 1 })
        // The victim's partial statistics never count: tokens seen are those of 24 prompts, once.
        #expect(merged.tokensSeen == Int64(24 * (Self.prompts[0].split(separator: " ").count)))
        // Dashboards equal one pass over the corpus, whoever ran which task.
        try expectDashboardsEqualOnePass(aggregate: job.output.appendingPathComponent("aggregate.h5"), model: InterimModel.model,
                                         transcoders: InterimModel.transcoders, prompts: Self.prompts)
    }

    @Test func coordinatorRestartResumesWithoutRedoingTasks() throws {
        let job = try TestJob("restart", prompts: Self.prompts)
        defer { job.folder.remove() }
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let args = ["coordinator", job.spec.path, "--bind", endpoint]
        let first = try CircuitsProcess(args, logs: job.folder.url, name: "coordinator-1")
        let workers = try (0..<2).map {
            try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "w\($0)"], logs: job.folder.url, name: "worker-\($0)")
        }
        #expect(eventually(seconds: 90) { job.completions.count >= 2 })
        first.kill(SIGKILL)
        first.wait()
        let before = Set(job.completions)
        #expect(before.count < 6, "killed mid-job")

        let second = try CircuitsProcess(args, logs: job.folder.url, name: "coordinator-2")
        #expect(second.wait(seconds: 180) == 0, "restarted coordinator: \(second.stderr)")
        for w in workers { #expect(w.wait(seconds: 30) == 0) }
        #expect(second.stderr.contains("resuming: \(before.count) tasks completed"))

        // Each task completed exactly once over both coordinators; tasks done before the kill were
        // never handed out again (each appears once in the workers' logs).
        #expect(job.completions.sorted() == Array(0..<6))
        let workerLogs = workers.map(\.stderr).joined(separator: "\n")
        for task in before {
            #expect(workerLogs.components(separatedBy: ": task \(task) (").count - 1 == 1, "task \(task) assigned once")
        }

        let merge = try CircuitsProcess.run(["merge", job.output.path], in: job.folder.url)
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try MergedRun(job.output.appendingPathComponent("aggregate.h5"))
        #expect(merged.ids.count == 24 && merged.status.allSatisfy { $0 == 1 })

        // The same job uninterrupted, into another folder: the merged results are identical.
        let other = job.folder.file("uninterrupted")
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "2", "--threads", "1", "--out", other.path], in: job.folder.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(merged == (try MergedRun(other.appendingPathComponent("aggregate.h5"))), "same result as an uninterrupted run")
    }

    @Test func badLinesAndFailingPromptsAreRecordedNotFatal() throws {
        let tooLong = Array(repeating: "the cat", count: 40).joined(separator: " ")   // 80 tokens > n_ctx 64
        let job = try TestJob("badlines", prompts: Array(Self.prompts.prefix(5)) + [tooLong],
                              extraLines: ["{not json", #"{"id": "no-prompt"}"#, #"{"id": "p1", "prompt": "a dog"}"#, #"{"id": "empty", "prompt": ""}"#])
        defer { job.folder.remove() }
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1"], in: job.folder.url)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        #expect(report["prompts_total"] as? Int == 10)
        #expect(report["prompts_done"] as? Int == 5)
        #expect(report["prompts_failed"] as? Int == 5)
        let entries = (report["prompts"] as? [[String: Any]]) ?? []
        func reason(_ id: String) -> String { entries.first { $0["id"] as? String == id }?["reason"] as? String ?? "" }
        #expect(reason("p5").contains("context"), "too long: \(reason("p5"))")
        #expect(reason("line-7").contains("not a JSON object"))
        #expect(reason("no-prompt").contains("missing \"prompt\""))
        #expect(reason("line-9").contains("duplicate id"))
        #expect(reason("empty").contains("empty prompt"))
        #expect(Set(entries.compactMap { $0["id"] as? String }).count == 10)
    }

    @Test func malformedSpecsFailBeforeStartingNamingTheField() throws {
        let models = repositoryRoot.appendingPathComponent("models/interim")
        let good = "model: \(models.path)/model\ntranscoders: \(models.path)/plt\ncorpus: corpus.jsonl\noutput: out\n"
        let cases: [(yaml: String, expected: String)] = [
            ("transcoders: x\ncorpus: corpus.jsonl\noutput: out\n", "field 'model': missing"),
            (good + "prompts_per_task: 0\n", "field 'prompts_per_task': 0 is outside"),
            (good + "workrs: 2\n", "field 'workrs': unknown field"),
            (good + "attribution: {batch_size: many}\n", "field 'attribution.batch_size': expected an integer"),
            (good + "pruning: {node_threshold: 1.5}\n", "field 'pruning.node_threshold'"),
            (good + "attribution: {logit_prob: 0}\n", "field 'attribution.logit_prob': must be a number in (0, 1] (got 0.0)"),
            (good.replacingOccurrences(of: "\(models.path)/model", with: "/nonexistent/model"), "field 'model': no such folder: /nonexistent/model"),
            (good.replacingOccurrences(of: "\(models.path)/model", with: models.path), "field 'model'"),   // a folder without config.json
            (good.replacingOccurrences(of: "corpus.jsonl", with: "missing.jsonl"), "field 'corpus': no such file"),
            ("model: [1, 2\n", "not valid YAML"),
            (good + "evaluation: {features: 0}\n", "field 'evaluation.features': 0 is outside 1...10000"),
            (good + "evaluation: {facts: nope.json}\n", "field 'evaluation.facts': no such file"),
            (good + "evaluation: {facts: corpus.jsonl}\n", "field 'evaluation.facts': "),
        ]
        for (k, c) in cases.enumerated() {
            let job = try TestJob("spec\(k)", prompts: ["the cat"], yaml: c.yaml)
            defer { job.folder.remove() }
            let r = try CircuitsProcess.run(["run", job.spec.path], in: job.folder.url, seconds: 30)
            #expect(r.status == 2, "case \(k): status \(String(describing: r.status))")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(c.expected), "case \(k): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one error line")
            #expect(!FileManager.default.fileExists(atPath: job.output.path), "nothing started")
        }
    }
}
