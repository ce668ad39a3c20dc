// Lease rules of the task book.
import Coordinator
import Foundation
import Testing

@Suite struct TaskBookTests {
    let t0 = ContinuousClock.now

    @Test func handsOutInOrderAndSkipsSettledTasks() {
        var book = TaskBook(taskCount: 4, completed: [1], failed: [3: "x"])
        let a1 = book.assign(to: "a", now: t0, lease: .seconds(10))
        #expect(a1?.task == 0)
        let a2 = book.assign(to: "b", now: t0, lease: .seconds(10))
        #expect(a2?.task == 2)
        let a3 = book.assign(to: "c", now: t0, lease: .seconds(10))
        #expect(a3 == nil)
        #expect(!book.isFinished)
        let c0 = book.complete(0), c2 = book.complete(2)
        #expect(c0 && c2)
        #expect(book.isFinished)
    }

    @Test func expiredLeaseGoesToAnotherWorkerAndLateResultIsIgnored() {
        var book = TaskBook(taskCount: 2)
        let a4 = book.assign(to: "a", now: t0, lease: .seconds(10))
        #expect(a4?.task == 0)
        // Heartbeats extend the lease.
        book.heartbeat(from: "a", task: 0, attempt: nil, now: t0 + .seconds(8), lease: .seconds(10))
        let none = book.expire(now: t0 + .seconds(15))
        #expect(none.isEmpty)
        // Silence past the lease: the task returns to the front of the queue.
        let expired = book.expire(now: t0 + .seconds(19))
        #expect(expired.map(\.task) == [0])
        let retry = book.assign(to: "b", now: t0 + .seconds(19), lease: .seconds(10))
        #expect(retry?.task == 0 && retry?.attempt == 2)
        let first = book.complete(0), again = book.complete(0)
        #expect(first)
        #expect(!again, "a late duplicate result is ignored")
    }

    @Test func failsForGoodAfterMaxAttempts() {
        var book = TaskBook(taskCount: 1, maxAttempts: 2)
        _ = book.assign(to: "a", now: t0, lease: .seconds(1))
        let final = book.reportFailure(0, reason: "disk full")
        #expect(!final)
        _ = book.assign(to: "b", now: t0, lease: .seconds(1))
        _ = book.expire(now: t0 + .seconds(5))
        #expect(book.failed[0]?.contains("gave up after 2 attempts") == true)
        #expect(book.isFinished)
        let a5 = book.assign(to: "c", now: t0, lease: .seconds(1))
        #expect(a5 == nil)
    }

    @Test func aLeaseLastsExactlyItsDurationAfterTheLastHeartbeat() {
        var book = TaskBook(taskCount: 1)
        _ = book.assign(to: "a", now: t0, lease: .milliseconds(1500))
        #expect(book.leases[0]?.deadline == t0 + .milliseconds(1500))
        book.heartbeat(from: "a", task: 0, attempt: nil, now: t0 + .seconds(1), lease: .milliseconds(1500))
        #expect(book.expire(now: t0 + .milliseconds(2500)).isEmpty, "due at the deadline, not before")
        #expect(book.expire(now: t0 + .milliseconds(2501)).map(\.task) == [0])
    }

    @Test func heartbeatForAPendingTaskReclaimsIt() {
        // After a coordinator restart, a worker still tracing task 1 heartbeats for it.
        var book = TaskBook(taskCount: 3)
        book.heartbeat(from: "w", task: 1, attempt: nil, now: t0, lease: .seconds(10))
        #expect(book.leases[1]?.worker == "w")
        let a6 = book.assign(to: "x", now: t0, lease: .seconds(10))
        #expect(a6?.task == 0)
        let a7 = book.assign(to: "x", now: t0, lease: .seconds(10))
        #expect(a7?.task == 2)
    }

    @Test func heartbeatReclaimKeepsTheWorkersAttempt() {
        var book = TaskBook(taskCount: 2, maxAttempts: 10)
        book.heartbeat(from: "w", task: 1, attempt: 4, now: t0, lease: .seconds(10))
        #expect(book.lease(of: 1, heldBy: "w", attempt: 4) != nil)
        #expect(book.lease(of: 1, heldBy: "w", attempt: 3) == nil && book.lease(of: 1, heldBy: "v", attempt: 4) == nil)
        // The next lease of task 1 counts on from the worker's attempt.
        _ = book.reportFailure(1, reason: "x")
        #expect(book.assign(to: "v", now: t0, lease: .seconds(10))! == (1, 5))
    }

    @Test func transientFailuresCountNoAttemptAndBackOff() {
        var book = TaskBook(taskCount: 2, maxAttempts: 3)
        for k in 1...10 {   // far more than maxAttempts: a full disk never fails a task for good
            let now = t0 + .seconds(1000 * k)
            let (task, attempt) = book.assign(to: "a", now: now, lease: .seconds(10))!
            #expect(task == 0 && attempt == 1, "round \(k): attempt \(attempt)")
            let pause = book.reportTransientFailure(0, now: now)
            #expect(pause == .seconds(min(60, 1 << min(k, 6))))
            #expect(book.failed.isEmpty && book.pending.contains(0))
            // Held back: another worker gets task 1 (or nothing), not task 0, until the pause is over.
            let other = book.assign(to: "b", now: now + pause - .milliseconds(1), lease: .seconds(10))
            #expect(other?.task != 0)
            if let other { _ = book.complete(other.task) }
        }
        #expect(book.assign(to: "a", now: t0 + .seconds(20_000), lease: .seconds(10))?.task == 0)
        #expect(book.complete(0) && book.isFinished)
    }
}
