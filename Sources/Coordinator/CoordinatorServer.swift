import Foundation
import Logging
import Shared
import Storage

/// The coordinator: owns the job's task book and journal, binds a ROUTER, hands tasks to the
/// workers that ask, watches their leases, verifies and accepts their shards.
///
/// A shard arrives as `shards/incoming/task-NNNNNN.tryK.h5`; once its sha256, job hash and
/// prompt ids check out it is renamed to `shards/task-NNNNNN.h5` and the completion is journaled
/// (fsync'd). A coordinator restarted on the same output folder replays the journal and does not
/// hand out completed tasks again.
///
/// Logs through `logger` (label `circuits.coordinator`): workers joining and leaving at info,
/// lost leases, failed tasks, rejected shards and ignored messages at warning, task dispatch at
/// debug, heartbeats at trace. Times are on `ContinuousClock`.
public final class CoordinatorServer {
    public let job: JobSpec
    public let layout: RunLayout
    public let plan: TaskPlan
    let logger: Logger
    var book: TaskBook
    var journal: Journal
    var taskCounts: [Int: (done: Int, failed: Int)] = [:]
    var workers: [String: ContinuousClock.Instant] = [:]
    /// Reasons workers gave when they left (model failed to load, ...).
    public private(set) var goodbyes: [String: String] = [:]
    var settledAtStart = 0
    let started = ContinuousClock.now
    var socket: ZMQSocket?
    var context: ZMQContext?
    /// Time spent handling messages (dispatch, shard verification, journal fsync): the
    /// coordinator's overhead, reported by `circuits bench pipeline`.
    public private(set) var handlingTime = Duration.zero
    public var handlingSeconds: Double { handlingTime.seconds }

    /// Prepares the output folder and resumes from its journal.
    ///
    /// - Parameter logger: where the coordinator's lines go (default: nowhere).
    /// - Throws: `MergeError` when the folder holds another job; corpus and journal errors.
    public init(job: JobSpec, layout: RunLayout,
                logger: Logger = Logger(label: "circuits.coordinator", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        self.job = job
        self.layout = layout
        self.logger = logger
        plan = try TaskPlan(job: job)
        let fm = FileManager.default
        try fm.createDirectory(at: layout.incoming, withIntermediateDirectories: true)
        if fm.fileExists(atPath: layout.job.path) {
            let saved = try layout.loadJob()
            guard saved.hash == job.hash else {
                throw MergeError(path: layout.root.path, reason: "this output folder holds job \(saved.hash.prefix(12)) "
                                 + "(model \(saved.model), corpus \(saved.corpus)); this job is \(job.hash.prefix(12)): "
                                 + "use another output folder or delete this one")
            }
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(job).write(to: layout.job, options: .atomic)
        }

        var completed = Set<Int>(), failed: [Int: String] = [:]
        for event in try Journal.replay(layout.journal) {
            switch event {
            case let .taskCompleted(task, _, _, done, failedCount):
                guard task < plan.tasks.count else { continue }
                if fm.fileExists(atPath: layout.shard(taskID: task).path) {
                    completed.insert(task)
                    taskCounts[task] = (done, failedCount)
                } else {
                    logger.warning("coordinator: task \(task) was completed but its shard is missing; it will be redone",
                                   metadata: ["task": "\(task)"])
                }
            case let .taskFailed(task, reason): if task < plan.tasks.count { failed[task] = reason }
            default: break
            }
        }
        book = TaskBook(taskCount: plan.tasks.count, completed: completed, failed: failed)
        journal = try Journal(url: layout.journal)
        try journal.append(.started(jobHash: job.hash, tasks: plan.tasks.count, prompts: plan.promptCount))
        let resumed = progress()
        settledAtStart = resumed.promptsDone + resumed.promptsFailed - plan.invalid.count
        if !completed.isEmpty || !failed.isEmpty {
            logger.info("coordinator: resuming: \(completed.count) tasks completed, \(failed.count) failed, \(book.pending.count) to do")
        }
    }

    /// Binds the ROUTER; returns the endpoint actually bound (port chosen for `*`).
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, kind: .router)
        let bound = try socket.bind(endpoint)
        self.context = context
        self.socket = socket
        return bound
    }

    public func progress() -> RunProgress {
        let done = taskCounts.values.reduce(0) { $0 + $1.done }
        var failedPrompts = taskCounts.values.reduce(0) { $0 + $1.failed } + plan.invalid.count
        for task in book.failed.keys { failedPrompts += plan.tasks[task].count }
        return RunProgress(tasksTotal: plan.tasks.count, tasksCompleted: book.completed.count, tasksFailed: book.failed.count,
                           promptsTotal: plan.promptCount, promptsDone: done, promptsFailed: failedPrompts,
                           promptsThisSession: max(0, done + failedPrompts - plan.invalid.count - settledAtStart),
                           elapsed: ContinuousClock.now - started, workers: workers.count)
    }

    public var isFinished: Bool { book.isFinished }

    /// Serves until every task is settled (or `shouldStop()`); then tells the workers to shut
    /// down. `onProgress` runs after every settled task and about once a second.
    public func serve(shouldStop: () -> Bool = { false }, onProgress: (RunProgress) -> Void = { _ in }) throws -> RunProgress {
        guard let socket else { throw MergeError(path: layout.root.path, reason: "coordinator: bind() before serve()") }
        var lastTick = ContinuousClock.now
        while !book.isFinished && !shouldStop() {
            if let frames = try socket.receive(timeoutMilliseconds: 100) {
                let t = ContinuousClock.now
                let settled = try handle(frames)
                handlingTime += ContinuousClock.now - t
                if settled { onProgress(progress()) }
            }
            let now = ContinuousClock.now
            for (task, lease) in book.expire(now: now) {
                let next = book.failed[task] != nil ? "giving up on it" : "handing it to another worker"
                logger.warning("coordinator: task \(task): worker \(lease.worker) silent past its lease; \(next)",
                               metadata: ["task": "\(task)", "worker": "\(lease.worker)"])
                workers[lease.worker] = nil
                if let reason = book.failed[task] { try journal.append(.taskFailed(taskID: task, reason: reason)) }
            }
            if now - lastTick >= .seconds(1) { lastTick = now; onProgress(progress()) }
        }
        if book.isFinished {
            try journal.append(.finished)
            shutdownWorkers()
        }
        return progress()
    }

    /// Tells every known worker the job is over, and keeps answering `shutdown` for a moment so
    /// that workers whose messages were in flight hear it too.
    func shutdownWorkers() {
        guard let socket else { return }
        let bye = (try? MessageCodec.encode(.shutdown)) ?? Data()
        for id in workers.keys { try? socket.send([Data(id.utf8), bye]) }
        let until = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < until, let frames = try? socket.receive(timeoutMilliseconds: 100) {
            if frames.count == 2 { try? socket.send([frames[0], bye]) }
        }
    }

    public func close() {
        socket?.close()
        context?.terminate()
        socket = nil
        context = nil
    }

    /// Handles one message; true when a task was settled.
    func handle(_ frames: [Data]) throws -> Bool {
        guard frames.count == 2 else {
            logger.warning("coordinator: ignoring a message: \(MessageError.unexpectedFrames(frames.count - 1))")
            return false
        }
        let peer = frames[0]
        let message: Message
        do { message = try MessageCodec.decode(frames[1]) } catch {
            logger.warning("coordinator: ignoring a message from \(String(decoding: peer, as: UTF8.self)): \(error)")
            if case MessageError.versionMismatch = error { reply(peer, .reject(reason: "\(error)")) }
            return false
        }
        let now = ContinuousClock.now
        let lease = Duration.seconds(job.leaseSeconds)
        switch message {
        case let .hello(id, caps):
            workers[id] = now
            logger.info("coordinator: worker \(id) joined (\(caps.host), pid \(caps.pid), \(caps.threads) threads, circuits \(caps.version))",
                        metadata: ["worker": "\(id)"])
            reply(peer, .job(job))
        case let .ready(id):
            workers[id] = now
            if let (task, attempt) = book.assign(to: id, now: now, lease: lease) {
                let path = layout.incomingShard(taskID: task, attempt: attempt).path
                logger.debug("coordinator: task \(task) → worker \(id) (attempt \(attempt), \(plan.tasks[task].count) prompts)",
                             metadata: ["task": "\(task)", "worker": "\(id)"])
                reply(peer, .task(TaskAssignment(taskID: task, jobHash: job.hash, prompts: plan.tasks[task], shardPath: path)))
            } else if book.isFinished {
                reply(peer, .shutdown)
            } else {
                reply(peer, .idle(retryMilliseconds: 500))
            }
        case let .heartbeat(id, task):
            workers[id] = now
            logger.trace("coordinator: heartbeat from \(id)\(task.map { " (task \($0))" } ?? "")", metadata: ["worker": "\(id)"])
            if let task, task >= 0, task < plan.tasks.count, !book.isSettled(task) {
                book.heartbeat(from: id, task: task, now: now, lease: lease)
            } else {
                book.heartbeat(from: id, task: nil, now: now, lease: lease)
            }
        case let .result(r):
            workers[r.workerID] = now
            return try accept(r)
        case let .failure(task, id, reason):
            workers[id] = now
            guard task >= 0, task < plan.tasks.count, !book.isSettled(task) else { return false }
            logger.warning("coordinator: task \(task) failed on \(id): \(reason)", metadata: ["task": "\(task)", "worker": "\(id)"])
            if book.reportFailure(task, reason: reason) {
                try journal.append(.taskFailed(taskID: task, reason: book.failed[task] ?? reason))
                return true
            }
        case let .goodbye(id, reason):
            workers[id] = nil
            goodbyes[id] = reason
            logger.warning("coordinator: worker \(id) left: \(reason)", metadata: ["worker": "\(id)"])
        case .job, .reject, .task, .idle, .shutdown:
            logger.warning("coordinator: ignoring a \(message.kind) message (only workers' messages are expected)")
        }
        return false
    }

    /// Verifies a shard and settles its task. A result for a settled task is ignored.
    func accept(_ r: TaskResult) throws -> Bool {
        let incoming = URL(fileURLWithPath: r.shardPath)
        guard r.taskID >= 0, r.taskID < plan.tasks.count, !book.isSettled(r.taskID) else {
            logger.notice("coordinator: ignoring a late or duplicate result for task \(r.taskID) from \(r.workerID)",
                          metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            if incoming.deletingLastPathComponent().standardizedFileURL == layout.incoming.standardizedFileURL {
                try? FileManager.default.removeItem(at: incoming)
            }
            return false
        }
        if let problem = verify(r) {
            logger.warning("coordinator: rejecting the shard of task \(r.taskID) from \(r.workerID): \(problem)",
                           metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            if book.reportFailure(r.taskID, reason: "bad shard: \(problem)") {
                try journal.append(.taskFailed(taskID: r.taskID, reason: book.failed[r.taskID] ?? problem))
                return true
            }
            return false
        }
        let final = layout.shard(taskID: r.taskID)
        guard rename(incoming.path, final.path) == 0 else {
            throw MergeError(path: final.path, reason: "cannot move the shard into place: \(String(cString: strerror(errno)))")
        }
        try journal.append(.taskCompleted(taskID: r.taskID, workerID: r.workerID, sha256: r.sha256,
                                          promptsDone: r.promptsDone, promptsFailed: r.promptsFailed))
        _ = book.complete(r.taskID)
        taskCounts[r.taskID] = (r.promptsDone, r.promptsFailed)
        logger.debug("coordinator: task \(r.taskID) completed by \(r.workerID) (\(r.promptsDone) traced, \(r.promptsFailed) failed)",
                     metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
        return true
    }

    /// Why a result's shard cannot be accepted, or nil.
    func verify(_ r: TaskResult) -> String? {
        let url = URL(fileURLWithPath: r.shardPath)
        guard url.deletingLastPathComponent().standardizedFileURL == layout.incoming.standardizedFileURL else {
            return "shard path \(r.shardPath) is not in \(layout.incoming.path)"
        }
        guard let sha = try? SHA256Digest.hex(ofFileAt: url) else { return "no file at \(r.shardPath)" }
        guard sha == r.sha256 else { return "sha256 \(sha.prefix(12)) differs from the reported \(r.sha256.prefix(12))" }
        do {
            let f = try HDF5File.open(url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.hash else { return "shard of job \(hash.prefix(12)), expected \(job.hash.prefix(12))" }
            let ids = try PromptTable.readIDs(f)
            guard ids == plan.tasks[r.taskID].map(\.id) else { return "its prompt ids differ from task \(r.taskID)'s" }
        } catch {
            return "unreadable: \(error)"
        }
        return nil
    }

    func reply(_ peer: Data, _ message: Message) {
        guard let socket, let frame = try? MessageCodec.encode(message) else { return }
        do { try socket.send([peer, frame]) } catch {
            logger.warning("coordinator: cannot send \(message.kind) to \(String(decoding: peer, as: UTF8.self)): \(error)")
        }
    }
}
