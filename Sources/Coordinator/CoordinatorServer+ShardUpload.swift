import Foundation
import Logging
import Shared
import Storage

extension CoordinatorServer {
    /// Handles a worker's shard upload message (`shardStart`, `shardChunk`) and answers it with a
    /// `shardAck`. It extends the worker's leases, as a heartbeat does (but never leases a task to
    /// it); only the worker holding the task's lease for that attempt may upload its shard.
    func handleUpload(_ message: Message, from peer: Data, now: ContinuousClock.Instant) {
        let (id, task, attempt): (String, Int, Int)
        switch message {
        case let .shardStart(s): (id, task, attempt) = (s.workerID, s.taskID, s.attempt)
        case let .shardChunk(c): (id, task, attempt) = (c.workerID, c.taskID, c.attempt)
        default: return
        }
        remember(id, now: now)
        let valid = task >= 0 && task < book.taskCount && !book.isSettled(task) && (1...1_000_000).contains(attempt)
        book.heartbeat(from: id, task: nil, attempt: nil, now: now, lease: .seconds(job.leaseSeconds))
        guard valid, book.lease(of: task, heldBy: id, attempt: attempt) != nil else {
            logger.notice("coordinator: refusing a shard upload for task \(task) (attempt \(attempt)) from \(id), which does not hold it",
                          metadata: ["task": "\(task)", "worker": "\(id)"])
            reply(peer, .shardAck(ShardAck(taskID: task, attempt: attempt, offset: 0, refused: "this worker does not hold task \(task) (attempt \(attempt))")))
            return
        }
        guard verifying[task] == nil else {
            logger.notice("coordinator: refusing a shard upload for task \(task) from \(id): its shard is being checked",
                          metadata: ["task": "\(task)", "worker": "\(id)"])
            reply(peer, .shardAck(ShardAck(taskID: task, attempt: attempt, offset: 0, refused: "the shard of task \(task) is being checked")))
            return
        }
        switch message {
        case let .shardStart(s):
            let ack = receiver.start(s)
            if let refused = ack.refused {
                logger.warning("coordinator: task \(task): refusing the shard upload of \(id): \(refused)", metadata: ["task": "\(task)", "worker": "\(id)"])
            } else {
                logger.debug("coordinator: task \(task): shard upload of \(s.totalBytes) bytes from \(id) \(ack.offset > 0 ? "resumes at \(ack.offset)" : "starts")",
                             metadata: ["task": "\(task)", "worker": "\(id)"])
            }
            reply(peer, .shardAck(ack))
        case let .shardChunk(c):
            let (ack, refusal) = receiver.receive(c)
            if let refusal {
                logger.warning("coordinator: task \(task): not writing a chunk from \(id): \(refusal)", metadata: ["task": "\(task)", "worker": "\(id)"])
            }
            reply(peer, .shardAck(ack))
        default:
            return
        }
    }

    /// Where the shard of a result is: the finished upload's part file when the worker sent it
    /// over the connection, else the path a worker writes on a shared filesystem.
    func incomingShard(of r: TaskResult) -> URL {
        receiver.finished(task: r.taskID, attempt: r.attempt, worker: r.workerID)
            ?? layout.incomingShard(taskID: r.taskID, attempt: r.attempt)
    }
}
