import Foundation
import Shared
import Storage

/// Many workers that follow the real protocol over real ZeroMQ sockets without tracing: each
/// says hello, asks for tasks, "writes" the task's shard (a hard link to a valid shard made in
/// advance, so the coordinator's sha256 and HDF5 checks run on a real file) and reports the
/// result. For `circuits bench coordinator`.
///
/// Sockets are spread over `contexts` ZeroMQ contexts (libzmq allows 1,023 sockets per context)
/// and served by one thread per context, which polls all of its sockets at once.
final class SimulatedWorkers: @unchecked Sendable {
    /// A valid shard per task and its sha256, made before the clock starts.
    struct Template: Codable { var url: URL; var sha256: String; var prompts: Int }

    let endpoint: String
    let layout: RunLayout
    let templates: [Template]
    let count: Int
    let contexts: Int
    private let lock = NSLock()
    /// Milliseconds from each `ready` to the task that answered it.
    private var latencies: [Double] = []
    /// Assignments received per task (more than one: the task was handed out again).
    private var assignments: [Int: Int] = [:]
    private(set) var errors: [String] = []
    /// CPU seconds the workers' own threads ran (ZeroMQ's I/O threads not counted).
    private var cpu = 0.0

    init(endpoint: String, layout: RunLayout, templates: [Template], count: Int, perContext: Int = 250) {
        self.endpoint = endpoint
        self.layout = layout
        self.templates = templates
        self.count = count
        contexts = (count + perContext - 1) / perContext
    }

    /// Runs every worker until the coordinator says shutdown (or `deadline`); blocks.
    func run(deadline: ContinuousClock.Instant) {
        let group = DispatchGroup()
        for c in 0..<contexts {
            let ids = Array(stride(from: c, to: count, by: contexts))
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do { try self.serve(ids, deadline: deadline) } catch { self.record(error: "context \(c): \(error)") }
            }
        }
        group.wait()
    }

    var readyToTaskMilliseconds: [Double] { lock.withLock { latencies } }
    var tasksHandedOutAgain: Int { lock.withLock { assignments.values.reduce(0) { $0 + max(0, $1 - 1) } } }
    var cpuSeconds: Double { lock.withLock { cpu } }

    private func record(error: String) { lock.withLock { errors.append(error) } }

    /// One thread's share: `ids` workers on one context.
    private func serve(_ ids: [Int], deadline: ContinuousClock.Instant) throws {
        let cpuStart = threadCPUSeconds()
        defer { let spent = threadCPUSeconds() - cpuStart; lock.withLock { cpu += spent } }
        let context = try ZMQContext()
        defer { context.terminate() }
        let names = ids.map { "sim-\($0)" }
        let sockets = try names.map { name -> ZMQSocket in
            let s = try ZMQSocket(context, kind: .dealer, identity: name)
            try s.connect(endpoint)
            return s
        }
        defer { sockets.forEach { $0.close() } }
        let caps = WorkerCapabilities(host: "bench", pid: getpid(), threads: 1, version: "bench")
        var readySince = [ContinuousClock.Instant?](repeating: nil, count: sockets.count)
        var retryAt: [(Int, ContinuousClock.Instant)] = []
        var finished = Set<Int>()
        var mine: [Double] = [], handed: [Int: Int] = [:]
        func send(_ k: Int, _ m: Message) throws { try sockets[k].send([try MessageCodec.encode(m)]) }
        func ready(_ k: Int) throws { readySince[k] = .now; try send(k, .ready(workerID: names[k])) }
        for k in sockets.indices { try send(k, .hello(workerID: names[k], capabilities: caps)) }

        while finished.count < sockets.count, ContinuousClock.now < deadline {
            let now = ContinuousClock.now
            for (k, at) in retryAt where at <= now { try ready(k) }
            retryAt.removeAll { $0.1 <= now }
            for k in try ZMQSocket.poll(sockets, timeoutMilliseconds: 10) {
                while let frames = try sockets[k].receive(timeoutMilliseconds: 0) {
                    guard let frame = frames.last else { continue }
                    switch try MessageCodec.decode(frame) {
                    case .job: try ready(k)
                    case let .task(t):
                        if let since = readySince[k] { mine.append((ContinuousClock.now - since).seconds * 1000) }
                        handed[t.taskID, default: 0] += 1
                        let template = templates[t.taskID]
                        let incoming = layout.incomingShard(taskID: t.taskID, attempt: t.attempt)
                        unlink(incoming.path)
                        guard link(template.url.path, incoming.path) == 0 else {
                            throw MergeError(path: incoming.path, reason: "cannot link the shard: \(String(cString: strerror(errno)))")
                        }
                        try send(k, .result(TaskResult(taskID: t.taskID, attempt: t.attempt, workerID: names[k], sha256: template.sha256,
                                                       promptsDone: template.prompts, promptsFailed: 0, seconds: 0)))
                        try ready(k)
                    case let .idle(ms): retryAt.append((k, .now + .milliseconds(max(1, min(ms, 1000)))))
                    case .shutdown: finished.insert(k)
                    case let .reject(reason): throw MergeError(path: endpoint, reason: "rejected: \(reason)")
                    default: break
                    }
                }
            }
        }
        lock.withLock {
            latencies += mine
            for (task, n) in handed { assignments[task, default: 0] += n }
        }
    }
}

/// The simulated workers in a process of their own: `circuits bench coordinator` starts
/// `circuits bench simulated-workers` (this executable), so that the coordinator's process time
/// is its own. The plan (endpoint, shards, count) goes in a JSON file, and the workers' report
/// (latencies, tasks handed out again, errors, CPU time) comes back in another.
public enum SimulatedWorkerProcess {
    struct Plan: Codable {
        var endpoint: String
        var output: String
        var templates: [SimulatedWorkers.Template]
        var count: Int
        /// Give up after this long.
        var seconds: Double
    }

    struct Report: Codable {
        var readyToTaskMilliseconds: [Double]
        var tasksHandedOutAgain: Int
        var errors: [String]
        /// CPU seconds of the whole worker process (every thread, ZeroMQ's included).
        var cpuSeconds: Double
    }

    /// Runs the workers `plan` describes until the coordinator says shutdown, then writes the
    /// report. The body of `circuits bench simulated-workers`.
    /// - Throws: when the plan cannot be read or the report written.
    public static func main(plan planURL: URL, report reportURL: URL) throws {
        let plan: Plan
        do { plan = try JSONDecoder().decode(Plan.self, from: Data(contentsOf: planURL)) } catch {
            throw MergeError(path: planURL.path, reason: "not a simulated-workers plan: \(error)")
        }
        let sims = SimulatedWorkers(endpoint: plan.endpoint, layout: RunLayout(root: URL(fileURLWithPath: plan.output)),
                                    templates: plan.templates, count: plan.count)
        sims.run(deadline: .now + .seconds(plan.seconds))
        let report = Report(readyToTaskMilliseconds: sims.readyToTaskMilliseconds, tasksHandedOutAgain: sims.tasksHandedOutAgain,
                            errors: sims.errors, cpuSeconds: processCPUSeconds())
        try JSONEncoder().encode(report).write(to: reportURL, options: .atomic)
    }

    /// Starts `executable bench simulated-workers` on `plan`, its files in `folder`; it stops
    /// when this process dies (`ParentDeath`). Returns the process and where its report will be.
    static func start(_ executable: URL, plan: Plan, folder: URL) throws -> (process: Process, report: URL) {
        let planURL = folder.appendingPathComponent("simulated-workers.json")
        let reportURL = folder.appendingPathComponent("simulated-workers-report.json")
        try JSONEncoder().encode(plan).write(to: planURL, options: .atomic)
        let p = Process()
        p.executableURL = executable
        p.arguments = ["bench", "simulated-workers", "--plan", planURL.path, "--report", reportURL.path]
        var environment = ProcessInfo.processInfo.environment
        environment[ParentDeath.environmentKey] = String(getpid())
        p.environment = environment
        try p.run()
        return (p, reportURL)
    }

    /// Waits for the process `start` began and reads its report.
    /// - Throws: when it failed or left no report.
    static func finish(_ process: Process, report: URL) throws -> Report {
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: report.path) else {
            throw MergeError(path: report.path, reason: "the simulated workers' process ended with status \(process.terminationStatus) and no report")
        }
        return try JSONDecoder().decode(Report.self, from: data)
    }
}
