import Foundation
import Shared

/// The state of every task of a run: pending, leased to a worker until a deadline, completed,
/// or failed. Pure bookkeeping (no I/O, no clock of its own: every call is given `now`), so the
/// lease rules are testable without sockets or waiting.
///
/// Rules: a task goes to the first worker that asks; a heartbeat extends every lease of its
/// worker; an expired lease returns the task to the queue; a task whose attempts (expired
/// leases and reported failures) reach `maxAttempts` fails for good; a transient failure (disk
/// full) counts no attempt and holds the task back for a growing pause (2 s, 4 s, ... 60 s);
/// a completed task is never handed out or completed again. Deadlines are instants of `ContinuousClock` (monotonic), so a
/// wall-clock step cannot expire or extend a lease.
public struct TaskBook: Sendable {
    public struct Lease: Sendable, Equatable {
        public var worker: String
        public var deadline: ContinuousClock.Instant
        public var attempt: Int
    }

    public private(set) var taskCount: Int
    public let maxAttempts: Int
    public private(set) var pending: [Int]
    public private(set) var leases: [Int: Lease] = [:]
    public private(set) var completed: Set<Int> = []
    public private(set) var failed: [Int: String] = [:]
    public private(set) var attempts: [Int: Int] = [:]
    /// Tasks held back after a transient failure, and until when.
    public private(set) var deferred: [Int: ContinuousClock.Instant] = [:]
    /// Consecutive transient failures per task (sets the pause).
    private var transientFailures: [Int: Int] = [:]

    /// A book where `completed` and `failed` tasks (from the journal) are already settled.
    public init(taskCount: Int, completed: Set<Int> = [], failed: [Int: String] = [:], maxAttempts: Int = 3) {
        self.taskCount = taskCount
        self.maxAttempts = maxAttempts
        self.completed = completed
        self.failed = failed
        pending = (0..<taskCount).filter { !completed.contains($0) && failed[$0] == nil }
    }

    public var isFinished: Bool { completed.count + failed.count == taskCount }

    /// Adds `count` tasks (ids from the current `taskCount` on: a later phase of the job), those
    /// in `completed` already settled (from the journal), the others pending.
    public mutating func extend(by count: Int, completed done: Set<Int>) {
        let first = taskCount
        taskCount += max(0, count)
        for task in first..<taskCount {
            if done.contains(task) { completed.insert(task) } else { pending.append(task) }
        }
    }

    public func isSettled(_ task: Int) -> Bool { completed.contains(task) || failed[task] != nil }

    /// Leases the next pending task that is not held back to `worker`; nil when none is.
    public mutating func assign(to worker: String, now: ContinuousClock.Instant, lease: Duration) -> (task: Int, attempt: Int)? {
        guard let k = pending.firstIndex(where: { deferred[$0].map { $0 <= now } ?? true }) else { return nil }
        let task = pending.remove(at: k)
        deferred[task] = nil
        return (task, self.lease(task, to: worker, now: now, lease: lease))
    }

    private mutating func lease(_ task: Int, to worker: String, now: ContinuousClock.Instant, lease: Duration, attempt given: Int? = nil) -> Int {
        let attempt = given ?? (attempts[task] ?? 0) + 1
        attempts[task] = max(attempts[task] ?? 0, attempt)
        leases[task] = Lease(worker: worker, deadline: now + lease, attempt: attempt)
        return attempt
    }

    /// The lease of `task` if `worker` holds it for `attempt`.
    public func lease(of task: Int, heldBy worker: String, attempt: Int) -> Lease? {
        guard let l = leases[task], l.worker == worker, l.attempt == attempt else { return nil }
        return l
    }

    /// Extends every lease `worker` holds. A heartbeat for a pending task (the worker kept
    /// working while a restarted coordinator lost its lease) leases that task back to it, under
    /// the attempt the worker is writing.
    public mutating func heartbeat(from worker: String, task: Int?, attempt: Int?, now: ContinuousClock.Instant, lease: Duration) {
        for (t, l) in leases where l.worker == worker { leases[t]?.deadline = now + lease }
        if let task, let k = pending.firstIndex(of: task) {
            pending.remove(at: k)
            deferred[task] = nil
            _ = self.lease(task, to: worker, now: now, lease: lease, attempt: attempt)
        }
    }

    /// Returns tasks whose lease has expired to the queue (or fails them after `maxAttempts`).
    /// - Returns: the expired leases, for logging.
    public mutating func expire(now: ContinuousClock.Instant) -> [(task: Int, lease: Lease)] {
        let expired = leases.filter { $0.value.deadline < now }.sorted { $0.key < $1.key }
        for (task, lease) in expired {
            leases[task] = nil
            retryOrFail(task, reason: "worker \(lease.worker) stopped heartbeating (attempt \(lease.attempt))")
        }
        return expired.map { ($0.key, $0.value) }
    }

    /// Marks `task` completed. False (and no change) when it was already settled: a late or
    /// duplicate result.
    public mutating func complete(_ task: Int) -> Bool {
        guard task >= 0, task < taskCount, !isSettled(task) else { return false }
        completed.insert(task)
        deferred[task] = nil
        // A leased task is never pending (every path that leases one takes it off the queue), so
        // the common case skips the scan of the queue.
        if leases.removeValue(forKey: task) == nil { pending.removeAll { $0 == task } }
        return true
    }

    /// A worker reported that `task` failed as a whole. Returns true when this failure is final.
    @discardableResult
    public mutating func reportFailure(_ task: Int, reason: String) -> Bool {
        guard task >= 0, task < taskCount, !isSettled(task) else { return false }
        leases[task] = nil
        pending.removeAll { $0 == task }
        retryOrFail(task, reason: reason)
        return failed[task] != nil
    }

    /// `task` failed for a reason of the machine, not of the task (disk full, I/O error): back to
    /// the queue without counting an attempt, held back for 2 s, doubling with each consecutive
    /// transient failure up to 60 s. Returns the pause.
    @discardableResult
    public mutating func reportTransientFailure(_ task: Int, now: ContinuousClock.Instant) -> Duration {
        guard task >= 0, task < taskCount, !isSettled(task) else { return .zero }
        if let l = leases[task] { attempts[task] = max(0, l.attempt - 1) }
        leases[task] = nil
        let n = (transientFailures[task] ?? 0) + 1
        transientFailures[task] = n
        let pause = Duration.seconds(min(60, 1 << min(n, 6)))
        deferred[task] = now + pause
        if !pending.contains(task) { pending.insert(task, at: 0) }
        return pause
    }

    private mutating func retryOrFail(_ task: Int, reason: String) {
        if (attempts[task] ?? 0) >= maxAttempts {
            failed[task] = "\(reason); gave up after \(maxAttempts) attempts"
        } else if !pending.contains(task) {
            // Back to the front: the oldest work first, so the run's tail is not one lost task.
            pending.insert(task, at: 0)
        }
    }
}
