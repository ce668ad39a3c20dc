import Foundation
import Shared

/// The state of every task of a run: pending, leased to a worker until a deadline, completed,
/// or failed. Pure bookkeeping (no I/O, no clock of its own: every call is given `now`), so the
/// lease rules are testable without sockets or waiting.
///
/// Rules: a task goes to the first worker that asks; a heartbeat extends every lease of its
/// worker; an expired lease returns the task to the queue; a task whose attempts (expired
/// leases and reported failures) reach `maxAttempts` fails for good; a completed task is never
/// handed out or completed again. Deadlines are instants of `ContinuousClock` (monotonic), so a
/// wall-clock step cannot expire or extend a lease.
public struct TaskBook: Sendable {
    public struct Lease: Sendable, Equatable {
        public var worker: String
        public var deadline: ContinuousClock.Instant
        public var attempt: Int
    }

    public let taskCount: Int
    public let maxAttempts: Int
    public private(set) var pending: [Int]
    public private(set) var leases: [Int: Lease] = [:]
    public private(set) var completed: Set<Int> = []
    public private(set) var failed: [Int: String] = [:]
    public private(set) var attempts: [Int: Int] = [:]

    /// A book where `completed` and `failed` tasks (from the journal) are already settled.
    public init(taskCount: Int, completed: Set<Int> = [], failed: [Int: String] = [:], maxAttempts: Int = 3) {
        self.taskCount = taskCount
        self.maxAttempts = maxAttempts
        self.completed = completed
        self.failed = failed
        pending = (0..<taskCount).filter { !completed.contains($0) && failed[$0] == nil }
    }

    public var isFinished: Bool { completed.count + failed.count == taskCount }

    public func isSettled(_ task: Int) -> Bool { completed.contains(task) || failed[task] != nil }

    /// Leases the next pending task to `worker`; nil when none is pending.
    public mutating func assign(to worker: String, now: ContinuousClock.Instant, lease: Duration) -> (task: Int, attempt: Int)? {
        guard !pending.isEmpty else { return nil }
        let task = pending.removeFirst()
        return (task, self.lease(task, to: worker, now: now, lease: lease))
    }

    private mutating func lease(_ task: Int, to worker: String, now: ContinuousClock.Instant, lease: Duration) -> Int {
        let attempt = (attempts[task] ?? 0) + 1
        attempts[task] = attempt
        leases[task] = Lease(worker: worker, deadline: now + lease, attempt: attempt)
        return attempt
    }

    /// Extends every lease `worker` holds. A heartbeat for a pending task (the worker kept
    /// working while a restarted coordinator lost its lease) leases that task back to it.
    public mutating func heartbeat(from worker: String, task: Int?, now: ContinuousClock.Instant, lease: Duration) {
        for (t, l) in leases where l.worker == worker { leases[t]?.deadline = now + lease }
        if let task, let k = pending.firstIndex(of: task) {
            pending.remove(at: k)
            _ = self.lease(task, to: worker, now: now, lease: lease)
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
        leases[task] = nil
        pending.removeAll { $0 == task }
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

    private mutating func retryOrFail(_ task: Int, reason: String) {
        if (attempts[task] ?? 0) >= maxAttempts {
            failed[task] = "\(reason); gave up after \(maxAttempts) attempts"
        } else if !pending.contains(task) {
            // Back to the front: the oldest work first, so the run's tail is not one lost task.
            pending.insert(task, at: 0)
        }
    }
}
