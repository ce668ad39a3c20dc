import Foundation
import Logging
import Shared
import Storage

/// The coordinator under many workers: a real `CoordinatorServer` on loopback TCP serving
/// `workers` simulated workers (`SimulatedWorkers`: real ZeroMQ clients following the real
/// protocol, shards made in advance) through a job of `tasks` tasks, then a replay of a
/// synthetic journal of `replayTasks` completed tasks, as a restarted coordinator reads it.
/// The workers run in a child process when `workerExecutable` is set (`circuits bench
/// coordinator` sets it to itself), else on threads of this process.
public struct CoordinatorBenchmark: Sendable {
    public var workers = 1000
    public var tasks = 10_000
    public var promptsPerTask = 1
    public var replayTasks = 1_000_000
    /// Gives up on the run after this long.
    public var timeoutSeconds = 600.0
    /// When above 0: the coordinator serves its metrics (`MetricsServer` on a free loopback
    /// port) and a client scrapes `/metrics` this many times a second during the run, to show
    /// what scraping costs the serving loop.
    public var metricsScrapesPerSecond = 0.0
    /// The `circuits` executable to run the simulated workers in (`circuits bench
    /// simulated-workers`); nil: threads of this process, which share its CPU time.
    public var workerExecutable: URL?
    /// Threads checking shards beside the coordinator's loop (`ShardVerifier`); nil: its default.
    public var verifierThreads: Int?

    public init() {}

    public struct Result: Codable, Sendable {
        public var workers: Int
        public var tasks: Int
        public var prompts: Int
        public var wall_s: Double
        public var tasks_per_s: Double
        /// Wall time the coordinator spent handling each task, as `circuits bench pipeline`
        /// measures it: its message loop (dispatch, settling checked shards: rename and journal),
        /// `loop_ms_per_task`, plus the shard checks on the verifier threads, `verify_ms_per_task`.
        public var coordinator_ms_per_task: Double
        /// The message loop's share of `coordinator_ms_per_task`.
        public var loop_ms_per_task: Double
        /// Wall time per task of the shard checks (sha256, HDF5) on the verifier threads, which
        /// run beside the loop.
        public var verify_ms_per_task: Double
        /// CPU time per task of the coordinator: with the workers in a child process, the whole
        /// coordinator process during the run (loop, verifiers, ZeroMQ's I/O thread, journal
        /// thread); with the workers on threads, its loop and verifier threads only.
        public var coordinator_cpu_ms_per_task: Double
        /// CPU per task of the loop's thread and of the verifier threads.
        public var loop_cpu_ms_per_task: Double
        public var verify_cpu_ms_per_task: Double
        /// CPU per task of the simulated workers (their process, or their threads).
        public var workers_cpu_ms_per_task: Double
        public var workers_in_child_process: Bool
        public var verifier_threads: Int
        /// The machine's 1-minute load average when the run began (other processes' load).
        public var load_average: Double
        /// From a worker's `ready` to the task that answered it.
        public var p50_ms: Double
        public var p99_ms: Double
        /// Tasks never completed / completed more than once (journal), and handed out again.
        public var lost: Int
        public var duplicated: Int
        public var handed_out_again: Int
        public var journal_bytes: Int
        public var setup_s: Double
        public var replay_tasks: Int
        /// Journal replay (decoding every event) plus the task book a restart builds from it.
        public var replay_s: Double
        public var peak_rss_bytes: Int
        public var cores: Int
        /// Scrapes of `/metrics` answered during the run (0 without `metricsScrapesPerSecond`),
        /// and the slowest one's round trip.
        public var metrics_scrapes = 0
        public var metrics_scrape_max_ms = 0.0
    }

    public func run(logger: Logger) throws -> Result {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("circuits-bench-coordinator-\(UUID().uuidString.prefix(8))")
        defer { try? fm.removeItem(at: root) }
        try fm.createDirectory(at: root.appendingPathComponent("templates"), withIntermediateDirectories: true)

        // A corpus of tasks × promptsPerTask prompts, and a job the coordinator serves (it never
        // reads the model or transcoders).
        let corpusURL = root.appendingPathComponent("corpus.jsonl")
        let prompts = (0..<(tasks * promptsPerTask)).map { PromptItem(id: String(format: "p%08d", $0), text: "bench prompt \($0)") }
        let lines = try prompts.map { String(decoding: try JSONEncoder().encode(["id": $0.id, "prompt": $0.text]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: corpusURL, atomically: true, encoding: .utf8)
        var job = JobSpec(model: "/bench/model", transcoders: "/bench/transcoders", corpus: corpusURL.path,
                          output: root.appendingPathComponent("out").path)
        job.promptsPerTask = promptsPerTask
        job.leaseSeconds = 600
        job.heartbeatSeconds = 60
        let layout = RunLayout(root: URL(fileURLWithPath: job.output))

        let setupStart = ContinuousClock.now
        logger.info("bench coordinator: making \(tasks) shards")
        let server = try CoordinatorServer(job: job, layout: layout)
        if let verifierThreads { server.verifierThreads = verifierThreads }
        let templates = try server.plan.tasks.enumerated().map { task, items in
            try Self.shard(for: items, task: task, jobHash: job.hash, at: root.appendingPathComponent("templates/task-\(task).h5"))
        }
        let endpoint = try server.bind("tcp://127.0.0.1:*")
        var scraper: MetricsScraper?
        if metricsScrapesPerSecond > 0 {
            let metrics = CoordinatorMetrics(jobHash: job.hash)
            server.metrics = metrics
            let http = try MetricsServer.start(metrics, host: "127.0.0.1", port: 0)
            scraper = MetricsScraper(url: http.address + "/metrics", perSecond: metricsScrapesPerSecond, server: http)
        }
        let setup = (ContinuousClock.now - setupStart).seconds

        logger.info("bench coordinator: \(workers) workers, \(tasks) tasks on \(endpoint)")
        let load = Self.loadAverage()
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        var child: (process: Process, report: URL)?
        var sims: SimulatedWorkers?
        let simsDone = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        let cpuStart = processCPUSeconds(), loopCPUStart = threadCPUSeconds()
        if let workerExecutable {
            child = try SimulatedWorkerProcess.start(workerExecutable, plan: .init(
                endpoint: endpoint, output: layout.root.path, templates: templates, count: workers, seconds: timeoutSeconds), folder: root)
        } else {
            let threads = SimulatedWorkers(endpoint: endpoint, layout: layout, templates: templates, count: workers)
            sims = threads
            Thread.detachNewThread { threads.run(deadline: deadline); simsDone.signal() }
        }
        scraper?.start()
        _ = try server.serve(shouldStop: { ContinuousClock.now > deadline })
        let wall = (ContinuousClock.now - start).seconds
        let loopCPU = threadCPUSeconds() - loopCPUStart, processCPU = processCPUSeconds() - cpuStart
        let scrapes = scraper?.stop() ?? (count: 0, maxMilliseconds: 0)
        server.close()
        let latencyList: [Double], handedOutAgain: Int, workersCPU: Double, coordinatorCPU: Double
        let verification = server.verificationTime
        if let child {
            let report = try SimulatedWorkerProcess.finish(child.process, report: child.report)
            if let first = report.errors.first { throw MergeError(path: endpoint, reason: "simulated workers: \(first)") }
            (latencyList, handedOutAgain, workersCPU, coordinatorCPU) = (report.readyToTaskMilliseconds, report.tasksHandedOutAgain, report.cpuSeconds, processCPU)
        } else if let sims {
            simsDone.wait()
            if let first = sims.errors.first { throw MergeError(path: endpoint, reason: "simulated workers: \(first)") }
            (latencyList, handedOutAgain, workersCPU, coordinatorCPU) = (sims.readyToTaskMilliseconds, sims.tasksHandedOutAgain, sims.cpuSeconds, loopCPU + verification.cpu)
        } else {
            preconditionFailure("the simulated workers ran nowhere")
        }

        // Every task completed exactly once, by the journal.
        var completions = [Int](repeating: 0, count: tasks)
        for case let .taskCompleted(task, _, _, _, _) in try Journal.replay(layout.journal) where task < tasks { completions[task] += 1 }
        let journalBytes = (try? fm.attributesOfItem(atPath: layout.journal.path)[.size] as? Int) ?? 0

        let replay = try Self.replay(tasks: replayTasks, in: root)
        let latencies = latencyList.sorted()
        let perTask = 1000 / Double(tasks)
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] }
        return Result(workers: workers, tasks: tasks, prompts: prompts.count, wall_s: wall, tasks_per_s: Double(tasks) / wall,
                      coordinator_ms_per_task: (server.handlingSeconds + verification.wall) * perTask,
                      loop_ms_per_task: server.handlingSeconds * perTask, verify_ms_per_task: verification.wall * perTask,
                      coordinator_cpu_ms_per_task: coordinatorCPU * perTask, loop_cpu_ms_per_task: loopCPU * perTask,
                      verify_cpu_ms_per_task: verification.cpu * perTask, workers_cpu_ms_per_task: workersCPU * perTask,
                      workers_in_child_process: child != nil, verifier_threads: server.verifierThreads, load_average: load,
                      p50_ms: percentile(0.5), p99_ms: percentile(0.99),
                      lost: completions.filter { $0 == 0 }.count, duplicated: completions.filter { $0 > 1 }.count,
                      handed_out_again: handedOutAgain, journal_bytes: journalBytes, setup_s: setup,
                      replay_tasks: replayTasks, replay_s: replay, peak_rss_bytes: peakResidentBytes(),
                      cores: ProcessInfo.processInfo.activeProcessorCount,
                      metrics_scrapes: scrapes.count, metrics_scrape_max_ms: scrapes.maxMilliseconds)
    }

    /// A small valid shard of `items` (task `task`): meta, the prompt table (every prompt
    /// measured), empty feature statistics. Returns it with its sha256.
    static func shard(for items: [PromptItem], task: Int, jobHash: String, at url: URL) throws -> SimulatedWorkers.Template {
        let f = try HDF5File.create(url)
        try ShardMeta(jobHash: jobHash, taskID: task, workerID: "bench", modelChecksum: "", transcoderChecksum: "").write(into: f)
        var table = PromptTable()
        for p in items { table.append(PromptTable.Row(id: p.id, prompt: p.text, status: 1)) }
        try table.write(into: f, withTask: false)
        try FeatureStatisticsFile.write(FeatureStatistics(nLayers: 1, dTranscoder: 1), into: f)
        f.close()
        let sha = try SHA256Digest.hex(ofRegularFileAt: url, maxBytes: CoordinatorServer.maximumShardBytes).hex
        return SimulatedWorkers.Template(url: url, sha256: sha, prompts: items.count)
    }

    /// The 1-minute load average (`/proc/loadavg`; 0 where there is none).
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let load = Double(first) else { return 0 }
        return load
    }

    /// Seconds to replay a journal of `tasks` completions and build the task book from it.
    static func replay(tasks: Int, in folder: URL) throws -> Double {
        let url = folder.appendingPathComponent("replay.jsonl")
        let journal = try Journal(url: url)
        try journal.append(.started(jobHash: String(repeating: "0", count: 64), tasks: tasks, prompts: tasks))
        try journal.append(contentsOf: (0..<tasks).map {
            .taskCompleted(taskID: $0, workerID: "sim-\($0 % 1000)", sha256: String(repeating: "ab", count: 32), promptsDone: 8, promptsFailed: 0)
        })
        let start = ContinuousClock.now
        var completed = Set<Int>()
        for case let .taskCompleted(task, _, _, _, _) in try Journal.replay(url) { completed.insert(task) }
        let book = TaskBook(taskCount: tasks, completed: completed)
        let seconds = (ContinuousClock.now - start).seconds
        precondition(book.isFinished, "replayed journal lacks completions")
        return seconds
    }
}
