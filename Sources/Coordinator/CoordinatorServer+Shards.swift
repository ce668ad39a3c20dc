import Foundation
import Logging
import Shared
import Storage

extension CoordinatorServer {
    /// Largest shard the coordinator reads (hashing and verification).
    static let maximumShardBytes = 1 << 40

    /// Hands the shard of a result to the verifier threads (`ShardVerifier`); `settle` accepts
    /// or refuses it when its check is done. Only the worker holding the task's lease for that
    /// attempt may complete it; anything else is ignored (and nothing is deleted: the coordinator
    /// removes no file it did not create), and so is a second result for a shard being checked.
    /// The task stays leased while its shard is checked.
    func accept(_ r: TaskResult) {
        guard book.lease(of: r.taskID, heldBy: r.workerID, attempt: r.attempt) != nil else {
            logger.notice("coordinator: ignoring a result for task \(r.taskID) (attempt \(r.attempt)) from \(r.workerID), which does not hold it",
                          metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            return
        }
        guard verifying[r.taskID] == nil else {
            logger.notice("coordinator: ignoring a second result for task \(r.taskID) from \(r.workerID) while its shard is being checked",
                          metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            return
        }
        verifying[r.taskID] = r
        let swap = r.taskID >= plan.tasks.count
        shardVerifier.submit(ShardVerifier.Job(result: r, url: incomingShard(of: r), jobHash: job.hash,
                                               promptIDs: assignment(r.taskID, attempt: r.attempt).prompts.map(\.id), bridgeSwaps: swap))
    }

    /// Settles the task of a checked shard: renames an accepted shard into place and journals the
    /// completion, or counts a refused shard as a failed attempt. An outcome whose task's lease
    /// has meanwhile expired (the check took longer than the lease) is dropped: the task went
    /// back to the queue. Returns true when a task was settled.
    func settle(_ outcome: ShardVerifier.Outcome) throws -> Bool {
        let r = outcome.job.result, incoming = outcome.job.url
        verifying[r.taskID] = nil
        guard book.lease(of: r.taskID, heldBy: r.workerID, attempt: r.attempt) != nil else {
            logger.warning("coordinator: dropping the checked shard of task \(r.taskID) from \(r.workerID): its lease ended while it was being checked",
                           metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            return false
        }
        let counts: (done: Int, failed: Int), sha256: String
        switch outcome.checked {
        case let .failure(problem):
            logger.warning("coordinator: rejecting the shard of task \(r.taskID) from \(r.workerID): \(problem.reason)",
                           metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            receiver.discard(task: r.taskID)
            if book.reportFailure(r.taskID, reason: "bad shard: \(problem.reason)") {
                try journal.append(.taskFailed(taskID: r.taskID, reason: book.failed[r.taskID] ?? problem.reason))
                return true
            }
            return false
        case let .success(checked):
            (counts, sha256) = ((checked.done, checked.failed), checked.sha256)
            metrics?.shardAccepted(bytes: checked.bytes)
        }
        let final = layout.shard(taskID: r.taskID)
        guard rename(incoming.path, final.path) == 0 else {
            throw MergeError(path: final.path, reason: "cannot move the shard into place: \(String(cString: strerror(errno)))")
        }
        receiver.discard(task: r.taskID)   // a part file left by an earlier upload of the task, if any
        // Synced within milliseconds by the journal's thread (`serve`): a crash before that redoes the task.
        try journal.appendDeferred(.taskCompleted(taskID: r.taskID, workerID: r.workerID, sha256: sha256,
                                                  promptsDone: counts.done, promptsFailed: counts.failed))
        _ = book.complete(r.taskID)
        if r.taskID < plan.tasks.count { record(counts, of: r.taskID) }
        logger.debug("coordinator: task \(r.taskID) completed by \(r.workerID) (\(counts.done) traced, \(counts.failed) failed)",
                     metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
        return true
    }

    /// Settles every shard whose check has finished; true when a task was settled.
    func settleCheckedShards() throws -> Bool {
        var settled = false
        for outcome in shardVerifier.takeFinished() { settled = try settle(outcome) || settled }
        return settled
    }

    /// On resume: whether the accepted shard of `task` is still the file the journal recorded.
    /// A missing shard, or one whose sha256 differs (truncated, overwritten), is reported, the
    /// differing file moved to `shards/corrupt/`, and the task redone.
    static func shardMatchesJournal(task: Int, sha256: String, layout: RunLayout, logger: Logger) -> Bool {
        let url = layout.shard(taskID: task)
        guard FileManager.default.fileExists(atPath: url.path) else {
            logger.warning("coordinator: task \(task) was completed but its shard is missing; it will be redone", metadata: ["task": "\(task)"])
            return false
        }
        let actual = try? SHA256Digest.hex(ofRegularFileAt: url, maxBytes: maximumShardBytes).hex
        if actual == sha256 { return true }
        let corrupt = layout.shards.appendingPathComponent("corrupt")
        let aside = corrupt.appendingPathComponent(url.lastPathComponent + ".\(Int(Date().timeIntervalSince1970))")
        try? FileManager.default.createDirectory(at: corrupt, withIntermediateDirectories: true)
        let moved = rename(url.path, aside.path) == 0
        let found = actual.map { String($0.prefix(12)) } ?? "unreadable", fate = moved ? "moved to \(aside.path)" : "could not move it aside"
        logger.warning("coordinator: the shard of task \(task) differs from the one accepted (sha256 \(found), journal \(sha256.prefix(12))); \(fate); the task will be redone",
                       metadata: ["task": "\(task)"])
        return false
    }
}
