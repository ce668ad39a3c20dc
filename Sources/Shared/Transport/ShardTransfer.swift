import Foundation

/// How a worker's shard reaches the coordinator's output folder.
///
/// - `filesystem`: the worker writes it into `OUT/shards/incoming/` itself (the output folder is
///   on a filesystem both see: NFS, Lustre, a ReadWriteMany volume, one machine).
/// - `zeromq`: the worker writes it into a local scratch folder and sends it to the coordinator
///   over the job's ZeroMQ connection (`ShardUploadStart`, `ShardChunk`, `ShardAck`); the
///   coordinator writes it into `OUT/shards/incoming/` and verifies it exactly as a shard written
///   there. No shared filesystem needed.
///
/// Chosen by the job's `shard_transfer` (default `filesystem`), `circuits coordinator
/// --shard-transfer` (overrides the job for every worker) or `circuits worker --shard-transfer`
/// (overrides it for one worker). The coordinator accepts either way from any worker.
public enum ShardTransfer: String, Codable, Sendable, CaseIterable {
    case filesystem, zeromq
}

/// worker → coordinator: "I hold the finished shard of `taskID`/`attempt`, `totalBytes` bytes with
/// this sha256; from which offset do I send it?" Sent before the first chunk, and again to resume
/// after acknowledgements stopped coming (a dropped connection). Answered by `ShardAck`.
public struct ShardUploadStart: Codable, Sendable, Equatable {
    public var workerID: String
    public var taskID: Int
    public var attempt: Int
    public var totalBytes: Int
    /// Lowercase hex sha256 of the whole shard (the result message carries it again).
    public var sha256: String
    public init(workerID: String, taskID: Int, attempt: Int, totalBytes: Int, sha256: String) {
        self.workerID = workerID; self.taskID = taskID; self.attempt = attempt; self.totalBytes = totalBytes; self.sha256 = sha256
    }
}

/// worker → coordinator: `bytes` of the shard of `taskID`/`attempt` starting at `offset`, with
/// the sha256 of these bytes. The coordinator writes it only at its current end of the upload
/// (`offset` equal to the bytes it holds) and only when the checksum matches.
public struct ShardChunk: Codable, Sendable, Equatable {
    public var workerID: String
    public var taskID: Int
    public var attempt: Int
    public var offset: Int
    /// Lowercase hex sha256 of `bytes`.
    public var sha256: String
    public var bytes: Data
    public init(workerID: String, taskID: Int, attempt: Int, offset: Int, sha256: String, bytes: Data) {
        self.workerID = workerID; self.taskID = taskID; self.attempt = attempt; self.offset = offset
        self.sha256 = sha256; self.bytes = bytes
    }
}

/// coordinator → worker: the answer to a `ShardUploadStart` or a `ShardChunk`: `offset` is how
/// many bytes of the upload the coordinator holds (the worker continues from there, going back
/// when a chunk was refused). `refused` set: the upload cannot go on (the worker does not hold
/// the task's lease, or the declared size is out of bounds); the worker abandons it.
public struct ShardAck: Codable, Sendable, Equatable {
    public var taskID: Int
    public var attempt: Int
    public var offset: Int
    public var refused: String?
    public init(taskID: Int, attempt: Int, offset: Int, refused: String? = nil) {
        self.taskID = taskID; self.attempt = attempt; self.offset = offset; self.refused = refused
    }
}

/// The bounds both sides of a shard upload keep.
public enum ShardTransferLimits {
    /// Largest chunk a worker sends (1 MiB) and the coordinator's acceptance bound (4 MiB).
    public static let chunkBytes = 1 << 20
    public static let maximumChunkBytes = 4 << 20
    /// Chunks in flight (sent, not yet acknowledged) per upload: bounds what the coordinator's
    /// queue holds for one worker to `window × chunkBytes`.
    public static let window = 4
    /// Without an acknowledgement for this long, the worker asks for the coordinator's offset
    /// again (`ShardUploadStart`) and resumes from it.
    public static let resumeAfterSeconds = 5.0
    /// Resumes of one upload before the worker gives up on it (the task then fails on this worker).
    public static let maximumResumes = 30
}
