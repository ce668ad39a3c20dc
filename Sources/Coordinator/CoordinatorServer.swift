import Foundation
import Logging
import Shared
import Storage

/// The coordinator: owns the job's task book and journal, binds a ROUTER, hands tasks to the
/// workers that ask, watches their leases, verifies and accepts their shards.
///
/// A shard arrives as `shards/incoming/task-NNNNNN.tryK.h5` (the path follows from the task and
/// the attempt; no path is ever taken from a message), written there by the worker on a shared
/// filesystem or, sent over the connection, assembled by `ShardReceiver` in `….tryK.h5.part`;
/// its sha256, job hash and prompt ids are checked on verifier threads (`ShardVerifier`) while
/// the loop keeps dispatching, the task staying leased meanwhile; once they check out the loop
/// renames it to `shards/task-NNNNNN.h5`
/// and journals the completion with the counts read from the shard (fsync'd within
/// milliseconds by the journal's own thread, so the message loop never waits for the disk; a
/// crash before that redoes the task). A coordinator restarted on the same output folder
/// replays the journal, re-hashes every accepted shard against it (a shard that differs is
/// moved to `shards/corrupt/` and its task redone), retries the tasks that failed, and does not
/// hand out completed tasks again.
///
/// Peers are untrusted: beyond loopback the socket is CURVE-authenticated against an allow-list
/// (`TransportSecurity`); every message is checked against the sender's routing id and the task
/// book; replies never block (`trySend`); each peer is rate-limited.
///
/// Logs through `logger` (label `circuits.coordinator`): workers joining and leaving at info,
/// lost leases, failed tasks, rejected shards and ignored messages at warning, task dispatch at
/// debug, heartbeats at trace. Times are on `ContinuousClock`.
public final class CoordinatorServer {
    public let job: JobSpec
    public let layout: RunLayout
    public let plan: TaskPlan
    /// The bridge-swap tasks (ids `plan.tasks.count...`), once the attribution tasks are
    /// settled; nil before, and in jobs without `evaluation.facts`.
    public internal(set) var swapPlan: BridgeSwapPlan?
    /// Journaled completions of bridge-swap tasks, applied when their phase opens.
    var swapCompletions: [Int: (sha256: String, done: Int, failed: Int)] = [:]
    let logger: Logger
    var book: TaskBook
    var journal: Journal
    /// Prompts traced and failed per completed attribution task (from its shard), and their
    /// sums (kept as they change: `progress()` runs after every settled task).
    var taskCounts: [Int: (done: Int, failed: Int)] = [:]
    var countTotals = (done: 0, failed: 0)
    /// Results whose shard the verifier threads are checking, by task.
    var verifying: [Int: TaskResult] = [:]
    /// Threads checking shards for `serve` (`ShardVerifier.defaultThreads()` unless set before it).
    public var verifierThreads = ShardVerifier.defaultThreads()
    private var verifier: ShardVerifier?
    /// Wall and CPU seconds the verifier threads spent checking shards, over finished `serve`s.
    public private(set) var verificationTime = (wall: 0.0, cpu: 0.0)
    var workers: [String: ContinuousClock.Instant] = [:]
    /// Reasons workers gave when they left (model failed to load, ...).
    public internal(set) var goodbyes: [String: String] = [:]
    var settledAtStart = 0
    let started = ContinuousClock.now
    var socket: ZMQSocket?
    var context: ZMQContext?
    var authenticator: ZAPAuthenticator?
    /// Per-peer message budgets (token buckets), by routing id.
    var budgets: [Data: PeerBudget] = [:]
    /// Replies dropped because a peer did not read (its queue was full).
    public internal(set) var droppedReplies = 0
    /// Wall time the message loop spent handling messages (dispatch, lease checks, settling
    /// checked shards: rename and journal writes): the coordinator's overhead, reported by
    /// `circuits bench pipeline`. The shards' sha256 and HDF5 checks run on the verifier threads
    /// meanwhile and are counted in `verificationTime`.
    public private(set) var handlingTime = Duration.zero
    public var handlingSeconds: Double { handlingTime.seconds }
    /// Shards uploaded over the connection (`ShardTransfer.zeromq`).
    lazy var receiver = ShardReceiver(layout: layout, maximumBytes: Self.maximumShardBytes)
    /// Most messages handled between two looks at the leases and the progress.
    static let burst = 256
    /// Where the loop publishes its state for `/metrics` and `/health` (`MetricsServer`); nil:
    /// no metrics. Set before `serve`; setting it records the state at once (the tasks pending
    /// after a resume), so a scrape before any worker joins shows them.
    public var metrics: CoordinatorMetrics? {
        didSet { metrics?.record(snapshot(progress())) }
    }

    /// Prepares the output folder and resumes from its journal.
    ///
    /// - Parameter logger: where the coordinator's lines go (default: nowhere).
    /// - Throws: `MergeError` when the folder holds another job; corpus and journal errors.
    public init(job: JobSpec, layout: RunLayout,
                logger: Logger = Logger(label: "circuits.coordinator", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        HeapRetention.keepFreedMemory()   // every accepted shard is an HDF5 open: keep its blocks
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

        // The last completion of each task counts (a task redone after its shard was found
        // corrupt is completed twice); its shard must still be the file the journal hashed.
        var lastCompletion: [Int: (sha256: String, done: Int, failed: Int)] = [:], retried = 0
        for event in try Journal.replay(layout.journal) {
            switch event {
            case let .taskCompleted(task, _, sha256, done, failedCount):
                if task >= 0, task < plan.tasks.count { lastCompletion[task] = (sha256, done, failedCount) }
                if task >= plan.tasks.count { swapCompletions[task] = (sha256, done, failedCount) }
            case let .taskFailed(task, _):
                // Task-level failures are the machine's or a worker's (a prompt's own failure is a
                // row of its shard): a new session tries the task again.
                if task >= 0, task < plan.tasks.count { retried += 1 }
            default: break
            }
        }
        var completed = Set<Int>(), totals = (done: 0, failed: 0)
        for (task, c) in lastCompletion.sorted(by: { $0.key < $1.key })
        where Self.shardMatchesJournal(task: task, sha256: c.sha256, layout: layout, logger: logger) {
            completed.insert(task)
            taskCounts[task] = (c.done, c.failed)   // each task once (`lastCompletion`)
            totals = (totals.done + c.done, totals.failed + c.failed)
        }
        countTotals = totals
        book = TaskBook(taskCount: plan.tasks.count, completed: completed)
        journal = try Journal(url: layout.journal)
        try journal.append(.started(jobHash: job.hash, tasks: plan.tasks.count, prompts: plan.promptCount))
        let resumed = progress()
        settledAtStart = resumed.promptsDone + resumed.promptsFailed - plan.invalid.count
        if !completed.isEmpty || retried > 0 {
            let again = retried > 0 ? " (tasks that failed in an earlier session are tried again)" : ""
            logger.info("coordinator: resuming: \(completed.count) tasks completed, \(book.pending.count) to do\(again)")
        }
    }

    /// Binding beyond loopback needs keys or an explicit `insecure`: the one place that rule lives
    /// (the CLI calls it before loading anything, `bind` again before binding).
    /// - Throws: `CoordinatorError.keysRequired`.
    public static func checkBindPolicy(_ endpoint: String, security: TransportSecurity, insecure: Bool) throws {
        if case .none = security, !insecure, !isLoopbackEndpoint(endpoint) { throw CoordinatorError.keysRequired(endpoint: endpoint) }
    }

    /// Binds the ROUTER; returns the endpoint actually bound (port chosen for `*`).
    ///
    /// - Parameters:
    ///   - security: `.coordinator(keys)` turns on CURVE with the allow-list of worker keys.
    ///   - insecure: allows binding beyond loopback without keys (the user said `--insecure`).
    /// - Throws: `CoordinatorError.keysRequired` for a non-loopback endpoint without keys or
    ///   `insecure`; ZeroMQ errors.
    @discardableResult
    public func bind(_ endpoint: String, security: TransportSecurity = .none, insecure: Bool = false) throws -> String {
        try Self.checkBindPolicy(endpoint, security: security, insecure: insecure)
        let context = try ZMQContext()
        if case let .coordinator(_, folder) = security {
            let logger = self.logger
            authenticator = try ZAPAuthenticator(context: context, authorizedKeys: folder) { accepted, address, key in
                if !accepted { logger.warning("coordinator: refused a connection from \(address): key \(key.isEmpty ? "(none)" : key) is not in \(folder.path)") }
            }
        }
        let socket = try ZMQSocket(context, kind: .router)
        try socket.limit(maxMessageBytes: MessageCodec.maximumPayload + 64, highWaterMark: 1000)
        try socket.secure(security)
        let bound = try socket.bind(endpoint)
        self.context = context
        self.socket = socket
        return bound
    }

    public func progress() -> RunProgress {
        let done = countTotals.done
        var failedPrompts = countTotals.failed + plan.invalid.count
        for task in book.failed.keys where task < plan.tasks.count { failedPrompts += plan.tasks[task].count }
        return RunProgress(tasksTotal: book.taskCount, tasksCompleted: book.completed.count, tasksFailed: book.failed.count,
                           promptsTotal: plan.promptCount, promptsDone: done, promptsFailed: failedPrompts,
                           promptsThisSession: max(0, done + failedPrompts - plan.invalid.count - settledAtStart),
                           elapsed: ContinuousClock.now - started, workers: workers.count)
    }

    /// Records the prompt counts of completed attribution task `task`.
    func record(_ counts: (done: Int, failed: Int), of task: Int) {
        if let old = taskCounts.updateValue(counts, forKey: task) {
            countTotals.done -= old.done
            countTotals.failed -= old.failed
        }
        countTotals.done += counts.done
        countTotals.failed += counts.failed
    }

    /// The verifier threads of the running `serve`, started on first use.
    var shardVerifier: ShardVerifier {
        if let verifier { return verifier }
        let started = ShardVerifier(threads: verifierThreads)
        verifier = started
        return started
    }

    /// Ends the verifier threads (every submitted shard has been settled) and adds up their time.
    private func stopVerifier() {
        guard let verifier else { return }
        verifier.stop()
        let t = verifier.time
        verificationTime = (verificationTime.wall + t.wall, verificationTime.cpu + t.cpu)
        self.verifier = nil
    }

    deinit { verifier?.stop() }

    /// Every task of every phase is settled.
    public var isFinished: Bool { book.isFinished && !bridgeSwapPhasePending }

    /// The attribution tasks are settled but the bridge swaps of `evaluation.facts` are not planned yet.
    var bridgeSwapPhasePending: Bool { job.evaluation?.facts != nil && swapPlan == nil }

    /// Opens the evaluation's second phase: plans the bridge swaps (or loads the saved plan) and
    /// adds their tasks to the book, those completed in an earlier session settled.
    func openBridgeSwapPhase() throws {
        guard let facts = job.evaluation?.facts, swapPlan == nil else { return }
        let swaps: BridgeSwapPlan
        if let saved = try BridgeSwapPlan.load(layout) { swaps = saved } else {
            swaps = try BridgeSwapPlan.make(job: job, plan: plan, layout: layout, facts: facts)
            try swaps.save(layout)
        }
        let first = plan.tasks.count
        var completed = Set<Int>()
        for (task, c) in swapCompletions.sorted(by: { $0.key < $1.key }) where task < first + swaps.tasks.count
        && Self.shardMatchesJournal(task: task, sha256: c.sha256, layout: layout, logger: logger) {
            completed.insert(task)
        }
        swapPlan = swaps
        book.extend(by: swaps.tasks.count, completed: completed)
        logger.info("coordinator: bridge swap: \(swaps.swapCount) two-hop prompts in \(swaps.tasks.count) tasks (tasks \(first)...)")
    }

    /// The assignment of `task` for `attempt`: corpus prompts, or bridge swaps.
    func assignment(_ task: Int, attempt: Int) -> TaskAssignment {
        let first = plan.tasks.count
        guard task >= first, let swaps = swapPlan?.tasks[task - first] else {
            return TaskAssignment(taskID: task, attempt: attempt, jobHash: job.hash, prompts: plan.tasks[task])
        }
        return TaskAssignment(taskID: task, attempt: attempt, jobHash: job.hash, prompts: swaps.prompts, swaps: swaps.swaps)
    }

    /// Serves until every task is settled (or `shouldStop()`); then tells the workers to shut
    /// down. `onProgress` runs after every settled task and about once a second.
    public func serve(shouldStop: () -> Bool = { false }, onProgress: (RunProgress) -> Void = { _ in }) throws -> RunProgress {
        guard let socket else { throw MergeError(path: layout.root.path, reason: "coordinator: bind() before serve()") }
        metrics?.enter(.serving)
        journal.startBackgroundSync()
        defer { try? journal.stopBackgroundSync() }   // on a thrown error; the normal end syncs below
        defer { stopVerifier() }
        var lastTick = ContinuousClock.now
        while !isFinished && !shouldStop() {
            if book.isFinished {
                metrics?.enter(.planning)
                try openBridgeSwapPhase()
                metrics?.enter(.serving)
                continue
            }
            // A burst: every message waiting (up to `burst`); then the shards checked meanwhile.
            // While shards are being checked the loop looks for their outcomes every millisecond.
            var timeout = verifying.isEmpty ? 100 : 1, settled = false, handled = 0
            let handledBefore = handlingTime
            for _ in 0..<Self.burst {
                guard let frames = try socket.receive(timeoutMilliseconds: timeout) else { break }
                timeout = 0
                let t = ContinuousClock.now
                settled = try handle(frames) || settled
                handlingTime += ContinuousClock.now - t
                handled += 1
            }
            if !verifying.isEmpty {
                let t = ContinuousClock.now
                settled = try settleCheckedShards() || settled
                handlingTime += ContinuousClock.now - t
            }
            metrics?.handled(handled, in: handlingTime - handledBefore)
            if settled { report(progress(), to: onProgress) }
            let now = ContinuousClock.now
            let expired = book.expire(now: now)
            metrics?.leasesExpired(expired.count)
            for (task, lease) in expired {
                let next = book.failed[task] != nil ? "giving up on it" : "handing it to another worker"
                logger.warning("coordinator: task \(task): worker \(lease.worker) silent past its lease; \(next)",
                               metadata: ["task": "\(task)", "worker": "\(lease.worker)"])
                workers[lease.worker] = nil
                if let reason = book.failed[task] { try journal.append(.taskFailed(taskID: task, reason: reason)) }
            }
            if now - lastTick >= .seconds(1) { lastTick = now; report(progress(), to: onProgress) }
        }
        // Stopped early: settle the shards still being checked (their workers are done with them).
        if !verifying.isEmpty, let verifier {
            let t = ContinuousClock.now
            for outcome in verifier.waitForAll() { _ = try settle(outcome) }
            handlingTime += ContinuousClock.now - t
        }
        try journal.stopBackgroundSync()
        let final = progress()
        metrics?.record(snapshot(final))
        if isFinished {
            try journal.append(.finished)
            shutdownWorkers()
        }
        return final
    }

    /// Hands `p` to the progress display and the metrics.
    private func report(_ p: RunProgress, to onProgress: (RunProgress) -> Void) {
        metrics?.record(snapshot(p))
        onProgress(p)
    }

    /// The loop's state for the metrics: the book's task states, `p`'s prompt counts and rate,
    /// and the workers heard from within the job's lease.
    public func snapshot(_ p: RunProgress) -> CoordinatorSnapshot {
        var s = CoordinatorSnapshot()
        s.tasksPending = book.pending.count
        s.tasksLeased = book.leases.count
        s.tasksDone = book.completed.count
        s.tasksFailed = book.failed.count
        s.promptsTotal = p.promptsTotal
        s.promptsDone = p.promptsDone
        s.promptsFailed = p.promptsFailed
        s.promptsPerSecond = p.rate
        let horizon = ContinuousClock.now - .seconds(job.leaseSeconds)
        s.workersConnected = workers.values.lazy.filter { $0 >= horizon }.count
        return s
    }

    /// Tells every known worker the job is over, and keeps answering `shutdown` for a moment so
    /// that workers whose messages were in flight hear it too.
    func shutdownWorkers() {
        guard let socket else { return }
        let bye = (try? MessageCodec.encode(.shutdown)) ?? Data()
        for id in workers.keys { _ = try? socket.trySend([Data(id.utf8), bye]) }
        let until = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < until, let frames = try? socket.receive(timeoutMilliseconds: 100) {
            if frames.count == 2 { _ = try? socket.trySend([frames[0], bye]) }
        }
    }

    public func close() {
        socket?.close()
        authenticator?.stop()
        authenticator = nil
        context?.terminate()
        socket = nil
        context = nil
    }
}

/// The coordinator cannot start as asked.
public enum CoordinatorError: Error, CustomStringConvertible, Equatable {
    /// Binding beyond loopback without keys, and `--insecure` was not given.
    case keysRequired(endpoint: String)

    public var description: String {
        switch self {
        case let .keysRequired(endpoint):
            return "\(endpoint) is reachable beyond this machine: give --keys DIR (see `circuits keys --help`) "
                + "so that only your workers can connect, or --insecure to accept any peer without authentication"
        }
    }
}
