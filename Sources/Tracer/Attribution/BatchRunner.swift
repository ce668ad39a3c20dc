import Dispatch
import Foundation

/// Runs batches of backward passes on several threads, each with its own work buffers and
/// single-threaded BLAS (batches are independent, so this scales better than BLAS threads on
/// these mid-size products), handing each target's row to a sink as soon as it is computed.
/// Work buffers are kept from run to run until `releaseWorkBuffers()`.
final class BatchRunner: @unchecked Sendable {
    /// One batch: its targets and, for each, the destination row index given to the sink.
    struct Batch {
        var targets: [AttributionTarget]
        var rows: [Int]
    }

    private let workers: [LinearisedBackward]
    let nColumns: Int
    /// Targets per backward pass: the requested batch size, or fewer where the per-thread memory
    /// budget demands it (long prompts). Rows do not depend on it beyond float32 round-off.
    let chunkSize: Int
    /// One `[chunkSize, nColumns]` row buffer per worker, allocated by its first run.
    private var buffers: [UnsafeMutablePointer<Float>?]

    init(threads: Int, batchSize: Int, memoryBytes: Int, make: () -> LinearisedBackward) {
        workers = (0..<max(1, threads)).map { _ in make() }
        let w0 = workers[0]
        nColumns = w0.nColumns
        // Per target: five [nPos, dModel] gradient buffers and one row; per worker: one [nPos, nPos] pattern.
        let perTarget = 5 * w0.nPos * w0.model.config.dModel + nColumns
        let fixed = w0.nPos * w0.nPos
        let chunk = max(1, min(batchSize, (memoryBytes / 4 - fixed) / perTarget))
        chunkSize = chunk
        buffers = Array(repeating: nil, count: workers.count)
    }

    deinit { releaseWorkBuffers() }

    /// Frees every worker's buffers (gradient blocks, rows); the next run allocates them again.
    /// Under `max_feature_nodes` the selection calls this between runs, so that re-ranking and
    /// assembly do not hold them.
    func releaseWorkBuffers() {
        for w in buffers.indices {
            buffers[w]?.deallocate()
            buffers[w] = nil
            workers[w].releaseWorkBuffers()
        }
    }

    /// Floating-point work of every backward pass so far.
    var flops: Double { workers.reduce(0) { $0 + $1.flops } }

    /// `items` (target, destination row) in batches of at most `chunkSize`, in the given order.
    func batches(_ items: [(AttributionTarget, Int)]) -> [Batch] {
        stride(from: 0, to: items.count, by: chunkSize).map { start in
            let slice = items[start..<min(start + chunkSize, items.count)]
            return Batch(targets: slice.map { $0.0 }, rows: slice.map { $0.1 })
        }
    }

    /// Computes `batches` and copies row `b` of batch `k` to `destination + batches[k].rows[b] · stride`
    /// (the first `nColumns` entries). Destinations must be distinct rows.
    func run(_ batches: [Batch], into destination: UnsafeMutablePointer<Float>, stride: Int, done: ((Int) -> Void)? = nil) {
        let cols = nColumns
        run(batches, sink: { row, values in (destination + row * stride).update(from: values, count: cols) }, done: done)
    }

    /// Computes `batches`, calling `sink(destination row, row values [nColumns])` for every target
    /// on the worker thread that computed it (concurrently for different rows).
    /// - Parameter done: called (under the job's lock) with the targets finished so far.
    func run(_ batches: [Batch], sink: @escaping (Int, UnsafePointer<Float>) -> Void, done: ((Int) -> Void)? = nil) {
        guard !batches.isEmpty else { return }
        let nThreads = min(workers.count, batches.count)
        let blas = blasThreads
        if nThreads > 1 { setBLASThreads(1) }
        defer { if nThreads > 1 { setBLASThreads(blas) } }
        let job = Job(batches: batches, sink: sink, done: done)
        for w in 0..<nThreads where buffers[w] == nil {
            buffers[w] = UnsafeMutablePointer<Float>.allocate(capacity: chunkSize * nColumns)   // [chunkSize, nColumns]
        }
        DispatchQueue.concurrentPerform(iterations: nThreads) { w in
            self.work(worker: w, job: job)
        }
    }

    /// One worker's loop: take the next batch, compute it, hand its rows out.
    private func work(worker w: Int, job: Job) {
        let cols = nColumns
        let scratch = buffers[w]!
        while let k = job.nextBatch() {
            let batch = job.batches[k]
            workers[w].computeRows(batch.targets, into: scratch)
            for (b, row) in batch.rows.enumerated() { job.sink(row, scratch + b * cols) }
            job.finished(batch.targets.count)
        }
    }

    /// The shared state of one `run`: the batch queue, the sink, progress.
    /// Workers hand out disjoint destination rows; the queue and counter are locked.
    private final class Job: @unchecked Sendable {
        let batches: [Batch]
        let sink: (Int, UnsafePointer<Float>) -> Void
        let done: ((Int) -> Void)?
        private let lock = NSLock()
        private var next = 0
        private var count = 0

        init(batches: [Batch], sink: @escaping (Int, UnsafePointer<Float>) -> Void, done: ((Int) -> Void)?) {
            self.batches = batches
            self.sink = sink
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
