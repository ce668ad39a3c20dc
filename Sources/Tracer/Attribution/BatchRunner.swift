import Dispatch
import Foundation

/// Runs batches of backward passes on several threads, each with its own work buffers and
/// single-threaded BLAS (batches are independent, so this scales better than BLAS threads on
/// these mid-size products), writing each target's row straight to its destination.
final class BatchRunner: @unchecked Sendable {
    /// One batch: its targets and, for each, the destination row index.
    struct Batch {
        var targets: [AttributionTarget]
        var rows: [Int]
    }

    private let workers: [LinearisedBackward]
    let nColumns: Int
    private let batchSize: Int
    /// One `[batchSize, nColumns]` row buffer per worker, owned here.
    private let buffers: [UnsafeMutablePointer<Float>]

    init(threads: Int, batchSize: Int, make: () -> LinearisedBackward) {
        workers = (0..<max(1, threads)).map { _ in make() }
        nColumns = workers[0].nColumns
        self.batchSize = batchSize
        buffers = workers.map { w in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * w.nColumns)
            p.initialize(repeating: 0, count: batchSize * w.nColumns)
            return p
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Floating-point work of every backward pass so far.
    var flops: Double { workers.reduce(0) { $0 + $1.flops } }

    /// Computes `batches` and copies row `b` of batch `k` to `destination + batches[k].rows[b] · stride`
    /// (the first `nColumns` entries). Destinations must be distinct rows.
    /// - Parameter done: called (on the calling thread's lock) with the targets finished so far.
    func run(_ batches: [Batch], into destination: UnsafeMutablePointer<Float>, stride: Int, done: ((Int) -> Void)? = nil) {
        guard !batches.isEmpty else { return }
        let nThreads = min(workers.count, batches.count)
        let blas = blasThreads
        if nThreads > 1 { setBLASThreads(1) }
        defer { if nThreads > 1 { setBLASThreads(blas) } }
        let job = Job(batches: batches, destination: destination, stride: stride, done: done)
        DispatchQueue.concurrentPerform(iterations: nThreads) { w in
            self.work(worker: w, job: job)
        }
    }

    /// One worker's loop: take the next batch, compute it, copy its rows out.
    private func work(worker w: Int, job: Job) {
        let scratch = buffers[w], cols = nColumns
        while let k = job.nextBatch() {
            let batch = job.batches[k]
            workers[w].computeRows(batch.targets, into: scratch)
            for (b, row) in batch.rows.enumerated() {
                (job.destination + row * job.stride).update(from: scratch + b * cols, count: cols)
            }
            job.finished(batch.targets.count)
        }
    }

    /// The shared state of one `run`: the batch queue, the destination, progress.
    /// Workers write disjoint destination rows; the queue and counter are locked.
    private final class Job: @unchecked Sendable {
        let batches: [Batch]
        let destination: UnsafeMutablePointer<Float>
        let stride: Int
        let done: ((Int) -> Void)?
        private let lock = NSLock()
        private var next = 0
        private var count = 0

        init(batches: [Batch], destination: UnsafeMutablePointer<Float>, stride: Int, done: ((Int) -> Void)?) {
            self.batches = batches
            self.destination = destination
            self.stride = stride
            self.done = done
        }

        func nextBatch() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard next < batches.count else { return nil }
            next += 1
            return next - 1
        }

        func finished(_ n: Int) {
            lock.lock(); defer { lock.unlock() }
            count += n
            done?(count)
        }
    }
}
