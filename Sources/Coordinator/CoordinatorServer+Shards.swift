import Foundation
import Logging
import Shared
import Storage

extension CoordinatorServer {
    /// Largest shard the coordinator reads (hashing and verification).
    static let maximumShardBytes = 1 << 40

    /// Verifies the shard of a result and settles its task. Only the worker holding the task's
    /// lease for that attempt may complete it; anything else is ignored (and nothing is deleted:
    /// the coordinator removes no file it did not create).
    func accept(_ r: TaskResult) throws -> Bool {
        guard book.lease(of: r.taskID, heldBy: r.workerID, attempt: r.attempt) != nil else {
            logger.notice("coordinator: ignoring a result for task \(r.taskID) (attempt \(r.attempt)) from \(r.workerID), which does not hold it",
                          metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
            return false
        }
        let incoming = incomingShard(of: r)
        let counts: (done: Int, failed: Int), sha256: String
        switch verify(incoming, task: r.taskID, reportedSHA256: r.sha256) {
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
        if r.taskID < plan.tasks.count { taskCounts[r.taskID] = counts }
        logger.debug("coordinator: task \(r.taskID) completed by \(r.workerID) (\(counts.done) traced, \(counts.failed) failed)",
                     metadata: ["task": "\(r.taskID)", "worker": "\(r.workerID)"])
        return true
    }

    struct ShardProblem: Error { var reason: String }
    struct CheckedShard { var sha256: String; var bytes: Int; var done: Int; var failed: Int }

    /// Checks a shard for `task`: a regular file of bounded size whose sha256 is the reported
    /// one (when given), of this job, holding exactly the task's prompts. Returns its digest and
    /// the prompt counts read from its own table.
    func verify(_ url: URL, task: Int, reportedSHA256: String?) -> Result<CheckedShard, ShardProblem> {
        let sha: String, bytes: Int
        do { (sha, bytes) = try SHA256Digest.hex(ofRegularFileAt: url, maxBytes: Self.maximumShardBytes) } catch {
            return .failure(ShardProblem(reason: "\(error)"))
        }
        if let reportedSHA256, sha != reportedSHA256 {
            return .failure(ShardProblem(reason: "sha256 \(sha.prefix(12)) differs from the reported \(reportedSHA256.prefix(12))"))
        }
        do {
            let f = try HDF5File.open(url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.hash else { return .failure(ShardProblem(reason: "shard of job \(hash.prefix(12)), expected \(job.hash.prefix(12))")) }
            let ids: [String], done: Int
            if task < plan.tasks.count {
                let table = try PromptTable(f)
                (ids, done) = (table.id, table.doneCount)
            } else {
                guard let swaps = try BridgeSwapTable.read(f) else { return .failure(ShardProblem(reason: "no \(BridgeSwapTable.group) group in a bridge-swap shard")) }
                (ids, done) = (swaps.rows.map(\.id), swaps.rows.filter { $0.status == 1 }.count)
            }
            guard ids == assignment(task, attempt: 1).prompts.map(\.id) else { return .failure(ShardProblem(reason: "its prompt ids differ from task \(task)'s")) }
            return .success(CheckedShard(sha256: sha, bytes: bytes, done: done, failed: ids.count - done))
        } catch {
            return .failure(ShardProblem(reason: "unreadable: \(error)"))
        }
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
