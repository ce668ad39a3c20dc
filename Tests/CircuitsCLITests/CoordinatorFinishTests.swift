// `circuits coordinator` on its own: it merges and reports when every task is settled (or not,
// with --no-merge), and serves Prometheus metrics and a health check that a real HTTP client
// scrapes. Real processes on loopback.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared
import Storage
import Testing
import TestSupport

/// One HTTP GET with URLSession, synchronously: status and body, nil when nothing answered.
func httpGet(_ url: String, seconds: Double = 5) -> (status: Int, body: String, contentType: String)? {
    final class Box: @unchecked Sendable { var value: (Int, String, String)? }
    let box = Box(), done = DispatchSemaphore(value: 0)
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = seconds
    let session = URLSession(configuration: .ephemeral)
    session.dataTask(with: request) { data, response, _ in
        if let http = response as? HTTPURLResponse {
            box.value = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self),
                         http.value(forHTTPHeaderField: "Content-Type") ?? "")
        }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + seconds + 1)
    session.invalidateAndCancel()
    return box.value.map { (status: $0.0, body: $0.1, contentType: $0.2) }
}

/// A Prometheus text exposition read back: samples by `name{labels}` (as written), and each
/// family's `# TYPE`.
struct Scrape {
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if line.hasPrefix("# TYPE "), parts.count == 4 { types[String(parts[2])] = String(parts[3]); continue }
            if line.hasPrefix("#") || parts.count != 2 { continue }
            samples[String(parts[0])] = Double(parts[1])
        }
    }

    subscript(_ key: String) -> Double? { samples[key] }
}

@Suite(.serialized) struct CoordinatorFinishTests {
    /// Every family, its type, and its sample keys.
    static let families: [(name: String, type: String, samples: [String])] = [
        ("circuits_tasks", "gauge", ["pending", "leased", "done", "failed"].map { #"circuits_tasks{state="\#($0)"}"# }),
        ("circuits_prompts", "gauge", ["done", "failed"].map { #"circuits_prompts{state="\#($0)"}"# }),
        ("circuits_job_prompts", "gauge", ["circuits_job_prompts"]),
        ("circuits_prompts_per_second", "gauge", ["circuits_prompts_per_second"]),
        ("circuits_workers_connected", "gauge", ["circuits_workers_connected"]),
        ("circuits_lease_expiries_total", "counter", ["circuits_lease_expiries_total"]),
        ("circuits_shard_bytes_received_total", "counter", ["circuits_shard_bytes_received_total"]),
        ("circuits_coordinator_handling_seconds_total", "counter", ["circuits_coordinator_handling_seconds_total"]),
        ("circuits_coordinator_messages_total", "counter", ["circuits_coordinator_messages_total"]),
    ]

    /// A coordinator with metrics, alone at first: every family is there with zeros (4 tasks
    /// pending). A rogue worker takes task 0 and falls silent: its lease expires and is counted.
    /// A real worker then does the job; the last scrape before the coordinator exits matches the
    /// job (4 tasks done, 8 prompts done, shard bytes = the shards' sizes on disk), and the
    /// coordinator alone leaves aggregate.h5 and report.json with every prompt once.
    @Test func theCoordinatorServesMetricsThenMergesAndReports() throws {
        let job = try TestJob("coord-finish", prompts: Array(CorpusRunTests.prompts.prefix(8)), promptsPerTask: 2, lease: 2, heartbeat: 0.3)
        defer { job.folder.remove() }
        let endpoint = "tcp://127.0.0.1:\(try freePort())", port = try freePort()
        let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint, "--metrics-port", String(port)],
                                              logs: job.folder.url, name: "coordinator")
        defer { if coordinator.process.isRunning { coordinator.kill(SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        // Up from the start ("starting" while the journal is read), then serving.
        #expect(eventually(seconds: 60) { httpGet(base + "/health")?.body.contains(#""phase":"serving""#) == true }, "\(coordinator.stderr)")

        // Before any worker: every family, pending = the job's 4 tasks, everything else zero.
        let before = Scrape(try #require(httpGet(base + "/metrics")).body)
        for family in Self.families {
            #expect(before.types[family.name] == family.type, "family \(family.name)")
            for key in family.samples {
                let want: Double = key == #"circuits_tasks{state="pending"}"# ? 4 : key == "circuits_job_prompts" ? 8 : 0
                #expect(before[key] == want, "\(key) before any worker")
            }
        }
        let health = try #require(httpGet(base + "/health"))
        #expect(health.status == 200 && health.contentType.hasPrefix("application/json"))
        let h = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(h["status"] as? String == "ok" && h["phase"] as? String == "serving", "\(h)")
        #expect(h["tasks_total"] as? Int == 4 && h["tasks_settled"] as? Int == 0 && h["prompts_total"] as? Int == 8, "\(h)")
        #expect(httpGet(base + "/nothing")?.status == 404)

        // A worker that takes task 0 and falls silent: its lease (2 s) expires.
        let rogue = try RoguePeer(router: false, identity: "silent")
        defer { rogue.close() }
        try rogue.socket.connect(endpoint)
        try rogue.send(.hello(workerID: "silent", capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 1, version: "0")))
        _ = try #require(try rogue.await { if case .job = $0 { true } else { false } })
        try rogue.send(.ready(workerID: "silent"))
        _ = try #require(try rogue.await { if case .task = $0 { true } else { false } })
        #expect(eventually(seconds: 5) { Scrape(httpGet(base + "/metrics")?.body ?? "")[#"circuits_tasks{state="leased"}"#] == 1 })
        #expect(eventually(seconds: 20) { Scrape(httpGet(base + "/metrics")?.body ?? "")["circuits_lease_expiries_total"] == 1 },
                "\(coordinator.stderr)")

        // A real worker does the job. Scrape until the coordinator has recorded its last state
        // (it keeps answering for 0.5 s after telling the workers to stop, then merges).
        let worker = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "w"], logs: job.folder.url, name: "worker")
        var last = Scrape(""), scrapes = 0, slowest = 0.0
        while coordinator.process.isRunning {
            let t = ContinuousClock.now
            if let r = httpGet(base + "/metrics", seconds: 2), r.status == 200 {
                slowest = max(slowest, (ContinuousClock.now - t).seconds)
                last = Scrape(r.body)
                scrapes += 1
                if last[#"circuits_tasks{state="done"}"#] == 4 { break }
            }
            usleep(20_000)
        }
        #expect(coordinator.wait(seconds: 180) == 0, "\(coordinator.stderr)")
        #expect(worker.wait(seconds: 30) == 0, "\(worker.stderr)")
        print("coordinator metrics: \(scrapes) scrapes during the run, slowest \(String(format: "%.1f", slowest * 1000)) ms")

        let shards = try FileManager.default.contentsOfDirectory(at: job.output.appendingPathComponent("shards"), includingPropertiesForKeys: [.fileSizeKey])
            .filter { $0.pathExtension == "h5" }
        let shardBytes = try shards.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        #expect(shards.count == 4 && shardBytes > 0)
        let expected: [String: Double] = [
            #"circuits_tasks{state="pending"}"#: 0, #"circuits_tasks{state="leased"}"#: 0,
            #"circuits_tasks{state="done"}"#: 4, #"circuits_tasks{state="failed"}"#: 0,
            #"circuits_prompts{state="done"}"#: 8, #"circuits_prompts{state="failed"}"#: 0,
            "circuits_job_prompts": 8, "circuits_lease_expiries_total": 1,
            "circuits_shard_bytes_received_total": Double(shardBytes),
        ]
        for (key, want) in expected { #expect(last[key] == want, "\(key) after the run") }
        #expect((last["circuits_coordinator_handling_seconds_total"] ?? 0) > 0)
        // hello, job, ready ×(4 + at least 1 idle poll), heartbeats, 4 results: more than 10 messages.
        #expect((last["circuits_coordinator_messages_total"] ?? 0) > 10)
        #expect((last["circuits_prompts_per_second"] ?? 0) > 0)
        #expect(last["circuits_workers_connected"] == 1, "the real worker; the silent one was dropped with its lease")

        // Merged and reported by the coordinator alone.
        #expect(coordinator.stdout.contains("traced 8 of 8 prompts (0 failed)"), "\(coordinator.stdout)")
        let merged = try MergedRun(job.output.appendingPathComponent("aggregate.h5"))
        #expect(merged.ids.sorted() == (0..<8).map { "p\($0)" })
        #expect(merged.status.allSatisfy { $0 == 1 })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as? [String: Any])
        #expect(report["prompts_total"] as? Int == 8 && report["prompts_done"] as? Int == 8)
        #expect(FileManager.default.fileExists(atPath: job.output.appendingPathComponent("report.html").path))
        #expect(job.completions.sorted() == [0, 1, 2, 3])
    }

    /// --no-merge: the tasks are done and the coordinator exits 0 leaving no aggregate or
    /// report; `circuits merge` and `circuits report` then make them (the re-run path).
    @Test func noMergeLeavesTheShardsOnly() throws {
        let job = try TestJob("coord-nomerge", prompts: Array(CorpusRunTests.prompts.prefix(4)), promptsPerTask: 2)
        defer { job.folder.remove() }
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint, "--no-merge"], logs: job.folder.url, name: "coordinator")
        let worker = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "w"], logs: job.folder.url, name: "worker")
        #expect(coordinator.wait(seconds: 180) == 0, "\(coordinator.stderr)")
        #expect(worker.wait(seconds: 30) == 0, "\(worker.stderr)")
        #expect(job.completions.sorted() == [0, 1])
        for file in ["aggregate.h5", "report.json", "report.html"] {
            #expect(!FileManager.default.fileExists(atPath: job.output.appendingPathComponent(file).path), "\(file) with --no-merge")
        }
        #expect(coordinator.stderr.contains("--no-merge") && coordinator.stderr.contains("circuits merge"), "\(coordinator.stderr)")
        let merge = try CircuitsProcess.run(["merge", job.output.path], in: job.folder.url)
        #expect(merge.status == 0 && merge.stdout.contains("4 prompts, 4 traced, 0 failed"), "\(merge.stderr)")
        let report = try CircuitsProcess.run(["report", job.output.path], in: job.folder.url)
        #expect(report.status == 0 && report.stdout.contains("4/4 traced"), "\(report.stderr)")
    }

    @Test func helpTeachesTheEndOfTheJobAndTheMetrics() throws {
        let folder = try ScratchFolder("coord-help")
        defer { folder.remove() }
        let help = try CircuitsProcess.run(["coordinator", "--help"], in: folder.url, seconds: 30)
        #expect(help.status == 0)
        for needle in ["--no-merge", "--metrics-port <port>", "--metrics-host <host>", "/metrics", "/health",
                       "OUT/report.json", "circuits merge", "--metrics-port 9464"] {
            #expect(help.stdout.contains(needle), "\(needle) in: \(help.stdout)")
        }
    }

    /// A metrics port in use is refused with one error line naming the option, before any work
    /// (the output folder is not even made).
    @Test func aMetricsPortInUseIsAClearError() throws {
        let job = try TestJob("coord-port", prompts: Array(CorpusRunTests.prompts.prefix(2)))
        defer { job.folder.remove() }
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) } }
        _ = listen(holder, 1)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let r = try CircuitsProcess.run(["coordinator", job.spec.path, "--bind", "tcp://127.0.0.1:\(try freePort())", "--metrics-port", String(port)],
                                        in: job.folder.url, seconds: 60)
        #expect(r.status == 2, "\(r.stderr)")
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("127.0.0.1:\(port)") && errors[0].contains("--metrics-port"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: job.output.path))
        let bad = try CircuitsProcess.run(["coordinator", job.spec.path, "--metrics-port", "70000"], in: job.folder.url, seconds: 60)
        #expect(bad.status == 64 && bad.stderr.contains("--metrics-port must be between 0 and 65535"), "\(bad.stderr)")
    }
}
