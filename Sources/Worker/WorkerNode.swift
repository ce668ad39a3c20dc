import Foundation
import Logging
import Shared
import Storage

/// Why a worker stopped without an error.
public enum WorkerExit: Sendable, Equatable {
    /// The coordinator said the job is finished.
    case shutdown
}

/// A worker failed: rejected by the coordinator, could not load the model, or lost the coordinator.
public struct WorkerError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// One worker process: connects a DEALER to the coordinator, says hello, loads the job's model
/// once, then asks for tasks and traces them one at a time, heartbeating while it works.
///
/// The socket lives on the thread that calls `run()`; tracing runs on a second thread, so
/// heartbeats keep flowing during long prompts. Silences, patience and heartbeats are timed on
/// `ContinuousClock`.
///
/// The coordinator is not trusted either: the job and every task are validated before use, the
/// shard path is composed here (`ShardDestination`), `idle` waits are bounded, and beyond
/// loopback the connection is CURVE-authenticated (`Options.security`) unless `insecure`.
///
/// Logs through `logger` (label `circuits.worker`, metadata `worker`): connecting, loading,
/// tasks started and done at info, failed tasks and ignored messages at warning, waiting for the
/// coordinator at debug, heartbeats and idle polls at trace.
public final class WorkerNode {
    public struct Options: Sendable {
        public var endpoint: String
        public var threads: Int
        public var workerID: String
        /// Give up when the coordinator has been silent this long while we wait for it.
        public var patienceSeconds: Double = 120
        /// CURVE keys (`TransportSecurity.worker(keys:)`), or `.none`.
        public var security: TransportSecurity = .none
        /// Connect beyond loopback without keys (the user said `--insecure`).
        public var insecure = false
        /// How shards reach the coordinator; nil: as the job says (`JobSpec.shardTransfer`).
        public var shardTransfer: ShardTransfer?
        /// Where shards are written before they are sent (`ShardTransfer.zeromq`); nil: the
        /// temporary folder.
        public var scratch: URL?
        /// Upload rate limit in bytes per second (`ShardTransfer.zeromq`); nil: none.
        public var uploadBytesPerSecond: Double?
        public init(endpoint: String, threads: Int, workerID: String? = nil) {
            self.endpoint = endpoint
            self.threads = threads
            self.workerID = workerID ?? WorkerNode.defaultID()
        }
    }

    public let options: Options
    let logger: Logger
    var socket: ZMQSocket!
    var lastHeard = ContinuousClock.now

    /// - Parameter logger: where the worker's lines go (default: nowhere); its metadata gains
    ///   `worker` (the worker id).
    public init(options: Options, logger: Logger = Logger(label: "circuits.worker", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.options = options
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.workerID)"
        self.logger = logger
    }

    /// `host-pid-random`: unique across restarts, readable in logs.
    public static func defaultID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(String(UInt32.random(in: 0...0xffff), radix: 16))"
    }

    public func run() throws -> WorkerExit {
        if case .none = options.security, !options.insecure, !isLoopbackEndpoint(options.endpoint) {
            throw WorkerError(reason: "\(options.endpoint) is beyond this machine: give --keys DIR (see `circuits keys --help`) to "
                              + "authenticate the coordinator, or --insecure to connect without authentication")
        }
        // Every task builds its dashboards and shard in tens of MB of fresh buffers: keep the freed
        // blocks for the next task instead of faulting new pages in (docs/shard-schema.md, Building).
        HeapRetention.keepFreedMemory()
        let context = try ZMQContext()
        socket = try ZMQSocket(context, kind: .dealer, identity: options.workerID)
        defer { socket.close(); context.terminate() }
        try socket.limit(maxMessageBytes: MessageCodec.maximumPayload + 64, highWaterMark: 1000)
        try socket.secure(options.security)
        try socket.connect(options.endpoint)
        let id = options.workerID
        logger.info("worker \(id): connecting to \(options.endpoint)")
        logger.debug("worker \(id): \(options.threads) threads, patience \(options.patienceSeconds) s, circuits \(CircuitsVersion.string)")

        // hello → job
        let capabilities = WorkerCapabilities(host: ProcessInfo.processInfo.hostName, pid: getpid(),
                                              threads: options.threads, version: CircuitsVersion.string)
        var job: JobSpec?
        while job == nil {
            // Never blocking: a coordinator that refused this worker's handshake (CURVE keys it
            // lacks) leaves the socket without a peer, where a blocking send would wait forever;
            // an unsent hello is an unanswered one, and patience ends the wait.
            if try !socket.trySend([try MessageCodec.encode(.hello(workerID: id, capabilities: capabilities))]) {
                logger.debug("worker \(id): no connection to \(options.endpoint) to say hello on")
            }
            switch try next(within: 5) {
            case let .job(spec)?: job = spec
            case let .reject(reason)?: throw WorkerError(reason: "coordinator rejected this worker: \(reason)")
            case .shutdown?: return .shutdown
            default:
                logger.debug("worker \(id): no job from \(options.endpoint) yet (silent \(Int(silence.seconds)) s); saying hello again")
                try checkPatience()
            }
        }
        guard let job else { return .shutdown }
        do { try job.validate(source: "the job sent by \(options.endpoint)") } catch {
            try? send(.goodbye(workerID: id, reason: "refusing the job: \(error)"))
            throw WorkerError(reason: "refusing the job from \(options.endpoint): \(error)")
        }
        let what = job.eap.map { "(EAP, metric \($0.metric))" } ?? "with \(job.transcoders)"
        logger.info("worker \(id): loading \(job.model) \(what)")
        let runner: any TaskRunning
        do {
            runner = job.eap == nil ? try TaskRunner(job: job, workerID: id, threads: options.threads)
                                    : try EAPTaskRunner(job: job, workerID: id, threads: options.threads)
        } catch {
            try? send(.goodbye(workerID: id, reason: "cannot load the model: \(error)"))
            throw WorkerError(reason: "cannot load the model: \(error)")
        }
        logger.info("worker \(id): ready")

        var queue: [TaskAssignment] = []
        while true {
            if queue.isEmpty {
                try send(.ready(workerID: id))
                var asked = ContinuousClock.now
                waiting: while queue.isEmpty {
                    switch try next(within: 1) {
                    case let .task(task)?: queue.append(task)
                    case let .idle(ms)?:
                        // Whatever the coordinator says, wait between 10 ms and 10 s.
                        let wait = min(max(ms, 10), 10_000)
                        logger.trace("worker \(id): no task yet; asking again in \(wait) ms")
                        if case .shutdown? = try next(within: Double(wait) / 1000) { return .shutdown }
                        break waiting
                    case .shutdown?: return .shutdown
                    default:
                        try checkPatience()
                        // The coordinator may have restarted and lost our request: ask again.
                        if ContinuousClock.now - asked > .seconds(5) {
                            logger.debug("worker \(id): no answer to ready for 5 s; asking again")
                            try send(.ready(workerID: id))
                            asked = ContinuousClock.now
                        }
                    }
                }
                if queue.isEmpty { continue }
            }
            let task = queue.removeFirst()
            guard task.jobHash == job.hash else {
                try send(.failure(taskID: task.taskID, attempt: task.attempt, workerID: id,
                                  reason: "worker loaded job \(job.hash), task is for job \(task.jobHash)", transient: false))
                throw WorkerError(reason: "the coordinator now runs another job (\(task.jobHash)); restart this worker")
            }
            if let problem = task.problem {
                logger.warning("worker \(id): ignoring a task: \(problem)")
                continue
            }
            if try runTask(task, runner: runner, job: job, queue: &queue) == .shutdown { return .shutdown }
        }
    }

    /// How often, in seconds, the socket thread looks for the finished task between messages:
    /// the most a result waits before it is sent (at 0.2 s, a demo task of 0.1 s took 0.2).
    static let resultLatency = 0.005

    /// Traces `task` on a second thread, heartbeating every `job.heartbeatSeconds`; tasks that
    /// arrive meanwhile are queued. Returns `.shutdown` if the coordinator ends the job.
    func runTask(_ task: TaskAssignment, runner: any TaskRunning, job: JobSpec, queue: inout [TaskAssignment]) throws -> WorkerExit? {
        let id = options.workerID
        let outcome = TaskOutcome()
        let scratch = try scratchRoot(for: job)
        let thread = Thread {
            do {
                let shard = try ShardDestination.url(job: job, task: task, root: scratch)
                let result = try runner.run(task, to: shard) { done in outcome.setProgress(done) }
                outcome.finish(.result(result))
            } catch let error as ShardWriteFailure {
                outcome.finish(.failure(taskID: task.taskID, attempt: task.attempt, workerID: id, reason: error.description, transient: error.isTransient))
            } catch {
                outcome.finish(.failure(taskID: task.taskID, attempt: task.attempt, workerID: id, reason: "\(error)", transient: false))
            }
        }
        thread.stackSize = 16 << 20
        thread.start()
        var taskLogger = logger
        taskLogger[metadataKey: "task"] = "\(task.taskID)"
        taskLogger.info("worker \(id): task \(task.taskID) (\(task.prompts.count) prompts\(task.swaps == nil ? "" : ", bridge swaps"))")
        var lastBeat = ContinuousClock.now
        let heartbeat = Duration.seconds(job.heartbeatSeconds)
        while true {
            if var message = outcome.message {
                if case let .result(r) = message, let scratch {
                    // Send the shard first; without it the result would be refused.
                    let shard = RunLayout(root: scratch).incomingShard(taskID: r.taskID, attempt: r.attempt)
                    defer { unlink(shard.path) }
                    switch try upload(r, shard: shard, job: job, queue: &queue, logger: taskLogger) {
                    case .sent: break
                    case .shutdown: return .shutdown
                    case let .abandoned(reason):
                        message = .failure(taskID: r.taskID, attempt: r.attempt, workerID: id, reason: "shard upload: \(reason)", transient: false)
                    }
                }
                try send(message)
                switch message {
                case let .result(r): taskLogger.info("worker \(id): task \(r.taskID) done (\(r.promptsDone) traced, \(r.promptsFailed) failed) in \(String(format: "%.1f", r.seconds)) s")
                case let .failure(_, _, _, reason, transient):
                    taskLogger.warning("worker \(id): task \(task.taskID) failed\(transient ? " (a fault of this machine; the coordinator retries it)" : ""): \(reason)")
                default: break
                }
                return nil
            }
            switch try next(within: min(Self.resultLatency, job.heartbeatSeconds)) {
            case let .task(t)?: queue.append(t)
            case .shutdown?: return .shutdown
            default: break
            }
            if ContinuousClock.now - lastBeat >= heartbeat {
                taskLogger.trace("worker \(id): heartbeat (task \(task.taskID), \(outcome.progress)/\(task.prompts.count) prompts)")
                try send(.heartbeat(workerID: id, taskID: task.taskID, attempt: task.attempt))
                lastBeat = ContinuousClock.now
            }
        }
    }

    func send(_ message: Message) throws {
        try socket.send([try MessageCodec.encode(message)])
    }

    /// The next message within `seconds`, or nil. Undecodable frames are logged and skipped.
    func next(within seconds: Double) throws -> Message? {
        if ParentDeath.parentIsGone { throw WorkerError(reason: "the circuits run that started this worker has gone") }
        let ms = seconds.isFinite ? Int(min(max(seconds, 0), 3600) * 1000) : 1000
        guard let frames = try socket.receive(timeoutMilliseconds: ms) else { return nil }
        lastHeard = ContinuousClock.now
        guard frames.count == 1 else {
            logger.warning("worker \(options.workerID): ignoring a message: \(MessageError.unexpectedFrames(frames.count))")
            return nil
        }
        do { return try MessageCodec.decode(frames[0]) } catch {
            logger.warning("worker \(options.workerID): ignoring a message: \(error)")
            return nil
        }
    }

    /// How long the coordinator has been silent.
    var silence: Duration { ContinuousClock.now - lastHeard }

    func checkPatience() throws {
        let silent = silence
        if silent > .seconds(options.patienceSeconds) {
            throw WorkerError(reason: "the coordinator at \(options.endpoint) has not answered for \(Int(silent.seconds)) s; giving up")
        }
    }
}

/// The tracing thread's result, read by the socket thread.
final class TaskOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var _message: Message?
    private var _progress = 0

    var message: Message? { lock.lock(); defer { lock.unlock() }; return _message }
    var progress: Int { lock.lock(); defer { lock.unlock() }; return _progress }
    func finish(_ m: Message) { lock.lock(); _message = m; lock.unlock() }
    func setProgress(_ k: Int) { lock.lock(); _progress = k; lock.unlock() }
}
