import Foundation
import Logging
import Shared
import Storage

/// A peer's message allowance: `rate` messages a second on average, bursts of `burst`.
/// Workers send a few a second (heartbeats at most 20/s); a flood is dropped, never queued.
struct PeerBudget {
    static let rate = 200.0, burst = 400.0
    var tokens = PeerBudget.burst
    var last: ContinuousClock.Instant
    /// Set when the peer went over its budget, so that the drop is logged once.
    var overSince: ContinuousClock.Instant?

    /// Takes one token; false when there is none (the message is dropped).
    mutating func take(now: ContinuousClock.Instant) -> Bool {
        tokens = min(Self.burst, tokens + (now - last).seconds * Self.rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

extension CoordinatorServer {
    /// Most distinct peers remembered (budgets, workers); older entries are forgotten beyond it.
    static let maximumPeers = 100_000

    /// Handles one message; true when a task was settled.
    func handle(_ frames: [Data]) throws -> Bool {
        guard frames.count == 2 else {
            logger.warning("coordinator: ignoring a message: \(MessageError.unexpectedFrames(frames.count - 1))")
            return false
        }
        let peer = frames[0], now = ContinuousClock.now
        guard admit(peer, now: now) else { return false }
        let peerID = String(decoding: peer, as: UTF8.self)
        let message: Message
        do { message = try MessageCodec.decode(frames[1]) } catch {
            logger.warning("coordinator: ignoring a message from \(peerID): \(error)")
            if case MessageError.versionMismatch = error { reply(peer, .reject(reason: "\(error)")) }
            return false
        }
        // Every worker message names its sender; it must be the connection's own routing id.
        if let claimed = message.workerID, claimed != peerID {
            logger.warning("coordinator: ignoring a \(message.kind) from \(peerID) that claims to be worker \(claimed)")
            return false
        }
        let lease = Duration.seconds(job.leaseSeconds)
        switch message {
        case let .hello(id, caps):
            remember(id, now: now)
            logger.info("coordinator: worker \(id) joined (\(caps.host), pid \(caps.pid), \(caps.threads) threads, circuits \(caps.version))",
                        metadata: ["worker": "\(id)"])
            reply(peer, .job(job))
        case let .ready(id):
            remember(id, now: now)
            if let (task, attempt) = book.assign(to: id, now: now, lease: lease) {
                let assignment = assignment(task, attempt: attempt)
                logger.debug("coordinator: task \(task) → worker \(id) (attempt \(attempt), \(assignment.prompts.count) prompts\(assignment.swaps == nil ? "" : ", bridge swaps"))",
                             metadata: ["task": "\(task)", "worker": "\(id)"])
                reply(peer, .task(assignment))
            } else if isFinished {
                reply(peer, .shutdown)
            } else {
                reply(peer, .idle(retryMilliseconds: 500))
            }
        case let .heartbeat(id, task, attempt):
            remember(id, now: now)
            logger.trace("coordinator: heartbeat from \(id)\(task.map { " (task \($0))" } ?? "")", metadata: ["worker": "\(id)"])
            let valid = task.map { $0 >= 0 && $0 < book.taskCount && !book.isSettled($0) } ?? false
            let sane = attempt.map { (1...1_000_000).contains($0) } ?? false
            book.heartbeat(from: id, task: valid && sane ? task : nil, attempt: attempt, now: now, lease: lease)
        case let .result(r):
            remember(r.workerID, now: now)
            accept(r)
        case let .failure(task, attempt, id, reason, transient):
            remember(id, now: now)
            guard book.lease(of: task, heldBy: id, attempt: attempt) != nil else {
                logger.warning("coordinator: ignoring a failure of task \(task) from \(id), which does not hold it (attempt \(attempt))")
                return false
            }
            let why = String(reason.prefix(2000))
            if transient {
                let pause = book.reportTransientFailure(task, now: now)
                logger.warning("coordinator: task \(task): worker \(id) could not write its shard (\(why)); waiting for space: retrying in \(Int(pause.seconds)) s", metadata: ["task": "\(task)", "worker": "\(id)"])
                return false
            }
            logger.warning("coordinator: task \(task) failed on \(id): \(why)", metadata: ["task": "\(task)", "worker": "\(id)"])
            if book.reportFailure(task, reason: why) {
                try journal.append(.taskFailed(taskID: task, reason: book.failed[task] ?? why))
                return true
            }
        case let .goodbye(id, reason):
            workers[id] = nil
            goodbyes[id] = String(reason.prefix(2000))
            logger.warning("coordinator: worker \(id) left: \(reason.prefix(2000))", metadata: ["worker": "\(id)"])
        case .shardStart, .shardChunk:
            handleUpload(message, from: peer, now: now)
        case .job, .reject, .task, .idle, .shutdown, .shardAck:
            logger.warning("coordinator: ignoring a \(message.kind) message (only workers' messages are expected)")
        }
        return false
    }

    /// Rate-limits `peer`; false drops its message.
    func admit(_ peer: Data, now: ContinuousClock.Instant) -> Bool {
        if budgets[peer] == nil && budgets.count >= Self.maximumPeers { budgets.removeAll(keepingCapacity: true) }
        var budget = budgets[peer] ?? PeerBudget(last: now)
        let ok = budget.take(now: now)
        if !ok && budget.overSince == nil {
            budget.overSince = now
            logger.warning("coordinator: \(String(decoding: peer, as: UTF8.self)) sends more than \(Int(PeerBudget.rate)) messages a second; dropping the excess")
        } else if ok {
            budget.overSince = nil
        }
        budgets[peer] = budget
        return ok
    }

    /// Notes that worker `id` is alive (bounded: the oldest are forgotten past `maximumPeers`).
    func remember(_ id: String, now: ContinuousClock.Instant) {
        if workers[id] == nil && workers.count >= Self.maximumPeers {
            let horizon = now - .seconds(2 * job.leaseSeconds)
            workers = workers.filter { $0.value >= horizon }
        }
        workers[id] = now
    }

    /// Sends `message` to `peer` without blocking: a peer whose queue is full (it does not read)
    /// misses the reply, which it asks for again if it is a real worker.
    func reply(_ peer: Data, _ message: Message) {
        guard let socket, let frame = try? MessageCodec.encode(message) else { return }
        do {
            if try !socket.trySend([peer, frame]) {
                droppedReplies += 1
                if droppedReplies == 1 || droppedReplies % 1000 == 0 {
                    logger.warning("coordinator: \(String(decoding: peer, as: UTF8.self)) does not read its messages; dropped \(droppedReplies) replies so far")
                }
            }
        } catch {
            logger.warning("coordinator: cannot send \(message.kind) to \(String(decoding: peer, as: UTF8.self)): \(error)")
        }
    }
}

extension Message {
    /// The worker a worker's message says it comes from; nil for the coordinator's messages.
    var workerID: String? {
        switch self {
        case let .hello(id, _), let .ready(id), let .heartbeat(id, _, _), let .failure(_, _, id, _, _), let .goodbye(id, _): return id
        case let .result(r): return r.workerID
        case let .shardStart(s): return s.workerID
        case let .shardChunk(c): return c.workerID
        case .job, .reject, .task, .idle, .shutdown, .shardAck: return nil
        }
    }
}
