import Foundation
import Shared
import Storage
import Testing
import TestSupport
@testable import Coordinator

/// Shards are checked on the verifier threads while the loop goes on; the loop alone settles
/// them. A task stays leased (and unjournaled) until its check is settled, so a crash in between
/// redoes it; a check that outlives the task's lease is dropped; a bad shard counts an attempt.
@Suite struct ShardVerifierTests {
    /// A coordinator (not bound: its replies go nowhere) on a job of `tasks` one-prompt tasks.
    static func coordinator(tasks: Int, in folder: ScratchFolder) throws -> (CoordinatorServer, JobSpec, RunLayout) {
        let corpus = folder.file("corpus.jsonl")
        let lines = (0..<tasks).map { #"{"id":"p\#($0)","prompt":"prompt \#($0)"}"# }
        try (lines.joined(separator: "\n") + "\n").write(to: corpus, atomically: true, encoding: .utf8)
        var job = JobSpec(model: "/m", transcoders: "/t", corpus: corpus.path, output: folder.file("out").path)
        job.promptsPerTask = 1
        job.leaseSeconds = 60
        let layout = RunLayout(root: URL(fileURLWithPath: job.output))
        return (try CoordinatorServer(job: job, layout: layout), job, layout)
    }

    static func send(_ server: CoordinatorServer, from worker: String, _ message: Message) throws -> Bool {
        try server.handle([Data(worker.utf8), MessageCodec.encode(message)])
    }

    /// Leases a task to `worker` and writes its shard (valid, or of another job), returning the result to send.
    static func leaseAndWrite(_ server: CoordinatorServer, _ job: JobSpec, _ layout: RunLayout, worker: String,
                              jobHash: String? = nil, wrongSHA: Bool = false) throws -> TaskResult {
        _ = try send(server, from: worker, .hello(workerID: worker, capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 1, version: "t")))
        _ = try send(server, from: worker, .ready(workerID: worker))
        let (task, lease) = try #require(server.book.leases.first { $0.value.worker == worker })
        let url = layout.incomingShard(taskID: task, attempt: lease.attempt)
        let made = try CoordinatorBenchmark.shard(for: server.plan.tasks[task], task: task, jobHash: jobHash ?? job.hash, at: url)
        return TaskResult(taskID: task, attempt: lease.attempt, workerID: worker, sha256: wrongSHA ? String(repeating: "0", count: 64) : made.sha256,
                          promptsDone: 1, promptsFailed: 0, seconds: 0)
    }

    static func completions(_ layout: RunLayout) throws -> [Int] {
        try Journal.replay(layout.journal).compactMap { if case let .taskCompleted(task, _, _, _, _) = $0 { task } else { nil } }
    }

    @Test func aTaskStaysLeasedAndUnjournaledUntilItsCheckIsSettled() throws {
        let folder = try ScratchFolder("verifier-settle")
        defer { folder.remove() }
        let (server, job, layout) = try Self.coordinator(tasks: 3, in: folder)
        let r = try Self.leaseAndWrite(server, job, layout, worker: "w1")
        #expect(try Self.send(server, from: "w1", .result(r)) == false, "a result settles nothing by itself")
        #expect(server.verifying[r.taskID] == r && server.book.leases[r.taskID] != nil && !server.book.completed.contains(r.taskID))
        // A second copy of the result while the shard is checked is not checked again.
        _ = try Self.send(server, from: "w1", .result(r))
        #expect(server.shardVerifier.inFlight == 1)

        let outcomes = server.shardVerifier.waitForAll()
        #expect(outcomes.count == 1)
        // A crash here (checked, not settled): the journal has no completion, and a coordinator
        // restarted on the folder hands the task out again.
        #expect(try Self.completions(layout).isEmpty)
        let restarted = try CoordinatorServer(job: job, layout: layout)
        #expect(restarted.book.pending.contains(r.taskID) && restarted.book.completed.isEmpty)

        #expect(try server.settle(outcomes[0]))
        #expect(server.book.completed == [r.taskID] && server.book.leases[r.taskID] == nil && server.verifying.isEmpty)
        #expect(try Self.completions(layout) == [r.taskID])
        #expect(FileManager.default.fileExists(atPath: layout.shard(taskID: r.taskID).path))
        #expect(!FileManager.default.fileExists(atPath: layout.incomingShard(taskID: r.taskID, attempt: r.attempt).path))
        #expect(server.progress().promptsDone == 1)
    }

    @Test func aCheckThatOutlivesTheLeaseIsDropped() throws {
        let folder = try ScratchFolder("verifier-expired")
        defer { folder.remove() }
        let (server, job, layout) = try Self.coordinator(tasks: 2, in: folder)
        let r = try Self.leaseAndWrite(server, job, layout, worker: "w1")
        _ = try Self.send(server, from: "w1", .result(r))
        let outcomes = server.shardVerifier.waitForAll()
        _ = server.book.expire(now: .now + .seconds(job.leaseSeconds + 1))
        #expect(server.book.pending.contains(r.taskID))
        #expect(try server.settle(outcomes[0]) == false)
        #expect(server.book.completed.isEmpty && server.verifying.isEmpty)
        #expect(try Self.completions(layout).isEmpty)
        // The shard stays where the worker wrote it (the coordinator deletes nothing it did not make).
        #expect(FileManager.default.fileExists(atPath: layout.incomingShard(taskID: r.taskID, attempt: r.attempt).path))
    }

    /// Shards that fail their checks count as failed attempts (the task is handed out again),
    /// whatever order their checks finish in.
    @Test func badShardsCountAnAttempt() throws {
        let folder = try ScratchFolder("verifier-bad")
        defer { folder.remove() }
        let (server, job, layout) = try Self.coordinator(tasks: 4, in: folder)
        server.verifierThreads = 3
        let good = try Self.leaseAndWrite(server, job, layout, worker: "good")
        let otherJob = try Self.leaseAndWrite(server, job, layout, worker: "other", jobHash: String(repeating: "f", count: 64))
        let badSHA = try Self.leaseAndWrite(server, job, layout, worker: "sha", wrongSHA: true)
        for r in [good, otherJob, badSHA] { _ = try Self.send(server, from: r.workerID, .result(r)) }
        let outcomes = server.shardVerifier.waitForAll()
        #expect(outcomes.count == 3)
        for outcome in outcomes.reversed() { _ = try server.settle(outcome) }
        #expect(server.book.completed == [good.taskID])
        for r in [otherJob, badSHA] {
            #expect(server.book.pending.contains(r.taskID) && server.book.attempts[r.taskID] == 1, "task \(r.taskID)")
        }
        let reasons = outcomes.compactMap { if case let .failure(p) = $0.checked { p.reason } else { nil } }.sorted()
        #expect(reasons.count == 2)
        #expect(reasons.contains { $0.contains("shard of job ffffffffffff") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("differs from the reported 000000000000") }, "\(reasons)")
        #expect(try Self.completions(layout) == [good.taskID])
        let time = server.shardVerifier.time
        #expect(time.wall > 0 && time.cpu > 0)
    }
}
