import Foundation
import Shared
import Storage

/// Checks shards on threads of its own, so that the coordinator's message loop keeps
/// dispatching tasks while a shard is hashed and opened (the most expensive step of a result).
///
/// The loop submits a `Job` per result whose sender holds the task's lease, and later takes the
/// `Outcome`s of finished jobs (`takeFinished`), in no particular order. It is the loop, never a
/// verifier thread, that accepts an outcome: renames the shard, journals the completion and
/// settles the task. Until then the task stays leased (so it is neither handed out again nor
/// counted as done), and a crash in between loses nothing: the task, never journaled as
/// completed, is redone by the next session.
///
/// libhdf5 (Debian's build is thread-safe: one global lock) serialises the HDF5 part of the
/// checks; the sha256 of different shards runs in parallel.
final class ShardVerifier: @unchecked Sendable {
    /// A shard to check: where it is, what it must hold, and the result that names it.
    struct Job: Sendable {
        var result: TaskResult
        var url: URL
        var jobHash: String
        /// The task's prompt ids, in order.
        var promptIDs: [String]
        /// A bridge-swap task: the shard holds `/bridge_swap` rows instead of a prompt table.
        var bridgeSwaps: Bool
    }

    /// A checked job: the shard's digest and counts, or why it was refused.
    struct Outcome: Sendable {
        var job: Job
        var checked: Result<CheckedShard, ShardProblem>
        /// Wall time of the check on its thread.
        var seconds: Double
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var finished: [Outcome] = []
    private var running = 0
    private var stopping = false
    private var threadsLeft: Int
    /// Wall and CPU seconds the verifier threads spent checking shards.
    private var wall = 0.0, cpu = 0.0

    /// Starts `threads` verifier threads (at least 1).
    init(threads: Int) {
        threadsLeft = max(1, threads)
        for k in 0..<threadsLeft {
            let thread = Thread { [self] in work() }
            thread.name = "shard-verifier-\(k)"
            thread.start()
        }
    }

    /// Verifier threads for a machine of `cores` cores: one per core beyond the loop's, 1 to 4.
    static func defaultThreads(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        max(1, min(4, cores - 1))
    }

    /// Queues `job`; returns at once.
    func submit(_ job: Job) {
        condition.withLock {
            queue.append(job)
            condition.signal()
        }
    }

    /// Jobs submitted and not yet taken back by `takeFinished`.
    var inFlight: Int { condition.withLock { queue.count + running + finished.count } }

    /// The outcomes finished since the last call (possibly none); never waits.
    func takeFinished() -> [Outcome] {
        condition.withLock {
            defer { finished.removeAll(keepingCapacity: true) }
            return finished
        }
    }

    /// Waits until every submitted job has finished, and returns the outcomes not yet taken.
    func waitForAll() -> [Outcome] {
        condition.withLock {
            while !queue.isEmpty || running > 0 { condition.wait() }
            defer { finished.removeAll(keepingCapacity: true) }
            return finished
        }
    }

    /// Wall and CPU seconds spent checking shards so far, over every verifier thread.
    var time: (wall: Double, cpu: Double) { condition.withLock { (wall, cpu) } }

    /// Ends the threads once the queue is empty, and waits for them.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while threadsLeft > 0 { condition.wait() }
        }
    }

    private func work() {
        condition.lock()
        while true {
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty { break }
            let job = queue.removeFirst()
            running += 1
            condition.unlock()
            let start = ContinuousClock.now, cpuStart = threadCPUSeconds()
            let checked = Self.verify(job)
            let spentCPU = threadCPUSeconds() - cpuStart, seconds = (ContinuousClock.now - start).seconds
            condition.lock()
            running -= 1
            wall += seconds
            cpu += spentCPU
            finished.append(Outcome(job: job, checked: checked, seconds: seconds))
            condition.broadcast()
        }
        threadsLeft -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Checks `job`'s shard: a regular file of bounded size whose sha256 is the reported one,
    /// of this job, holding exactly the task's prompts. Returns its digest, size and the prompt
    /// counts read from its own table.
    static func verify(_ job: Job) -> Result<CheckedShard, ShardProblem> {
        let sha: String, bytes: Int
        do { (sha, bytes) = try SHA256Digest.hex(ofRegularFileAt: job.url, maxBytes: CoordinatorServer.maximumShardBytes) } catch {
            return .failure(ShardProblem(reason: "\(error)"))
        }
        if sha != job.result.sha256 {
            return .failure(ShardProblem(reason: "sha256 \(sha.prefix(12)) differs from the reported \(job.result.sha256.prefix(12))"))
        }
        do {
            let f = try HDF5File.open(job.url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.jobHash else { return .failure(ShardProblem(reason: "shard of job \(hash.prefix(12)), expected \(job.jobHash.prefix(12))")) }
            let ids: [String], done: Int
            if !job.bridgeSwaps {
                let table = try PromptTable(f)
                (ids, done) = (table.id, table.doneCount)
            } else {
                guard let swaps = try BridgeSwapTable.read(f) else { return .failure(ShardProblem(reason: "no \(BridgeSwapTable.group) group in a bridge-swap shard")) }
                (ids, done) = (swaps.rows.map(\.id), swaps.rows.filter { $0.status == 1 }.count)
            }
            guard ids == job.promptIDs else { return .failure(ShardProblem(reason: "its prompt ids differ from task \(job.result.taskID)'s")) }
            return .success(CheckedShard(sha256: sha, bytes: bytes, done: done, failed: ids.count - done))
        } catch {
            return .failure(ShardProblem(reason: "unreadable: \(error)"))
        }
    }
}

/// Why a shard was refused (for the log and the journal).
struct ShardProblem: Error, Sendable { var reason: String }

/// A shard that passed its checks: digest, size, and the prompt counts of its own table.
struct CheckedShard: Sendable { var sha256: String; var bytes: Int; var done: Int; var failed: Int }
