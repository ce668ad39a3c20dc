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
        book.heartbeat(from: "a", task: 0, now: t0 + .seconds(8), lease: .seconds(10))
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
        book.heartbeat(from: "a", task: 0, now: t0 + .seconds(1), lease: .milliseconds(1500))
        #expect(book.expire(now: t0 + .milliseconds(2500)).isEmpty, "due at the deadline, not before")
        #expect(book.expire(now: t0 + .milliseconds(2501)).map(\.task) == [0])
    }

    @Test func heartbeatForAPendingTaskReclaimsIt() {
        // After a coordinator restart, a worker still tracing task 1 heartbeats for it.
        var book = TaskBook(taskCount: 3)
        book.heartbeat(from: "w", task: 1, now: t0, lease: .seconds(10))
        #expect(book.leases[1]?.worker == "w")
        let a6 = book.assign(to: "x", now: t0, lease: .seconds(10))
        #expect(a6?.task == 0)
        let a7 = book.assign(to: "x", now: t0, lease: .seconds(10))
        #expect(a7?.task == 2)
    }
}
