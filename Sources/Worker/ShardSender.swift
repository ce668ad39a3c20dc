import Foundation
import Logging
import Shared
import Storage

/// The worker's side of shard uploads (`ShardTransfer.zeromq`): reads a finished shard from the
/// worker's scratch folder one chunk at a time, paced to an optional rate.
///
/// Chunks are `ShardTransferLimits.chunkBytes` (1 MiB), smaller under a rate limit (a quarter
/// second's worth, at least 16 KiB) so that pacing stays smooth.
struct ShardSender {
    let url: URL
    let totalBytes: Int
    let sha256: String
    let chunkBytes: Int
    /// nil: as fast as the connection goes.
    let bytesPerSecond: Double?

    init(url: URL, sha256: String, bytesPerSecond: Double?) throws {
        var st = stat()
        guard lstat(url.path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw WorkerError(reason: "cannot send the shard \(url.path): not a regular file")
        }
        self.url = url
        self.totalBytes = Int(st.st_size)
        self.sha256 = sha256
        self.bytesPerSecond = bytesPerSecond
        let full = ShardTransferLimits.chunkBytes
        chunkBytes = bytesPerSecond.map { min(full, max(16 << 10, Int($0 / 4))) } ?? full
    }

    /// The bytes `[offset, offset + chunkBytes)` of the shard (fewer at its end).
    func chunk(at offset: Int, of handle: FileHandle) throws -> Data {
        try handle.seek(toOffset: UInt64(offset))
        return try handle.read(upToCount: min(chunkBytes, totalBytes - offset)) ?? Data()
    }

    /// Seconds to wait before `sent` bytes may have gone out, `elapsed` seconds into the upload.
    func delay(sent: Int, elapsed: Double) -> Double {
        guard let rate = bytesPerSecond else { return 0 }
        return max(0, Double(sent) / rate - elapsed)
    }
}

extension WorkerNode {
    /// How an upload ended.
    enum UploadOutcome: Equatable {
        /// The coordinator holds every byte; send the result.
        case sent
        /// The coordinator refused it, or it could not be completed; the reason.
        case abandoned(String)
        /// The coordinator ended the job meanwhile.
        case shutdown
    }

    /// The folder a worker writes its shards into before sending them, under `--scratch` (default:
    /// the temporary folder), one per job: `SCRATCH/<job hash prefix>/shards/incoming/`. nil when
    /// shards go to the shared filesystem.
    func scratchRoot(for job: JobSpec) throws -> URL? {
        guard (options.shardTransfer ?? job.shardTransfer) == .zeromq else { return nil }
        let base = options.scratch ?? FileManager.default.temporaryDirectory.appendingPathComponent("circuits-worker-\(options.workerID)")
        let root = base.appendingPathComponent(String(job.hash.prefix(12)))
        try FileManager.default.createDirectory(at: RunLayout(root: root).incoming, withIntermediateDirectories: true)
        return root
    }

    /// Sends the shard of `r` at `url` to the coordinator: `shardStart` (answered with the offset
    /// the coordinator holds), then chunks, at most `ShardTransferLimits.window` unacknowledged,
    /// with heartbeats between them. A chunk the coordinator did not write (its acknowledgement
    /// does not advance) is sent again from the acknowledged offset; without any acknowledgement
    /// for `ShardTransferLimits.resumeAfterSeconds` (a dropped connection), the worker asks for
    /// the offset again and resumes there. Tasks that arrive meanwhile are queued.
    func upload(_ r: TaskResult, shard url: URL, job: JobSpec, queue: inout [TaskAssignment], logger: Logger) throws -> UploadOutcome {
        let sender = try ShardSender(url: url, sha256: r.sha256, bytesPerSecond: options.uploadBytesPerSecond)
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let start = ShardUploadStart(workerID: options.workerID, taskID: r.taskID, attempt: r.attempt, totalBytes: sender.totalBytes, sha256: r.sha256)
        let total = sender.totalBytes, window = ShardTransferLimits.window * sender.chunkBytes
        let began = ContinuousClock.now, heartbeat = Duration.seconds(job.heartbeatSeconds)
        var acked = 0, next = 0, sent = 0, resumes = 0, rewound: Int? = nil, starting = true
        var lastProgress = began, lastBeat = began
        try send(.shardStart(start))
        while true {
            var wait = 0.2
            if !starting {
                if acked == total {
                    let seconds = (ContinuousClock.now - began).seconds
                    logger.debug("worker \(options.workerID): task \(r.taskID): sent its shard (\(total) bytes) in \(String(format: "%.2f", seconds)) s\(resumes > 0 ? ", \(resumes) resumes" : "")")
                    return .sent
                }
                while next < total && next - acked < window {
                    let pause = sender.delay(sent: sent, elapsed: (ContinuousClock.now - began).seconds)
                    if pause > 0 { wait = min(wait, pause); break }
                    let bytes = try sender.chunk(at: next, of: handle)
                    guard !bytes.isEmpty else { return .abandoned("the shard \(url.path) shrank while being sent") }
                    try send(.shardChunk(ShardChunk(workerID: options.workerID, taskID: r.taskID, attempt: r.attempt, offset: next,
                                                    sha256: SHA256Digest.hex(of: bytes), bytes: bytes)))
                    next += bytes.count
                    sent += bytes.count
                }
                if next - acked >= window || next == total { wait = 0.2 }
            }
            switch try self.next(within: min(wait, job.heartbeatSeconds)) {
            case let .shardAck(a)? where a.taskID == r.taskID && a.attempt == r.attempt:
                if let refused = a.refused { return .abandoned("the coordinator refused the shard: \(String(refused.prefix(2000)))") }
                guard (0...total).contains(a.offset) else { return .abandoned("the coordinator acknowledged byte \(a.offset) of \(total)") }
                if starting {
                    starting = false
                    acked = a.offset; next = a.offset; rewound = nil
                    lastProgress = ContinuousClock.now
                } else if a.offset > acked {
                    acked = a.offset; rewound = nil
                    next = max(next, acked)
                    lastProgress = ContinuousClock.now
                } else if a.offset == acked && next > acked && rewound != acked {
                    // A chunk was not written (bad offset or checksum): go back to the coordinator's end, once.
                    next = acked; rewound = acked
                }
            case let .task(t)?: queue.append(t)
            case .shutdown?: return .shutdown
            default: try checkPatience()
            }
            let now = ContinuousClock.now
            if now - lastProgress > .seconds(ShardTransferLimits.resumeAfterSeconds) {
                resumes += 1
                guard resumes <= ShardTransferLimits.maximumResumes else {
                    return .abandoned("no progress after \(ShardTransferLimits.maximumResumes) resumes")
                }
                logger.info("worker \(options.workerID): task \(r.taskID): no acknowledgement for \(Int(ShardTransferLimits.resumeAfterSeconds)) s; asking the coordinator where to resume")
                try send(.shardStart(start))
                (starting, lastProgress) = (true, now)
            }
            if now - lastBeat >= heartbeat {
                try send(.heartbeat(workerID: options.workerID, taskID: r.taskID, attempt: r.attempt))
                lastBeat = now
            }
        }
    }
}
