import Foundation
import Shared
import Storage

/// The coordinator's side of shard uploads (`ShardTransfer.zeromq`): appends each task's chunks
/// to `OUT/shards/incoming/task-NNNNNN.tryK.h5.part` and answers with the bytes it holds, so a
/// worker whose connection dropped resumes where the coordinator stands.
///
/// The peer is untrusted, and the caller has already checked that it holds the task's lease for
/// that attempt. Here: the path follows from the task id and attempt alone (never from a
/// message), so nothing is written outside `incoming/`; the part file is opened without following
/// links and must be a regular file; the declared size is bounded (`maximumBytes`), chunks are
/// 1...`ShardTransferLimits.maximumChunkBytes` bytes, land only at the current end, never past the
/// declared size, and only when their sha256 matches. Memory: one upload record per task, one
/// chunk at a time.
///
/// A finished upload is verified by `CoordinatorServer.accept` like a shard written into
/// `incoming/` (sha256, job hash, prompt ids), then renamed into `shards/` in one step.
final class ShardReceiver {
    struct Upload {
        var attempt: Int
        var worker: String
        var totalBytes: Int
        var sha256: String
        /// Bytes written so far (the part file's size).
        var offset: Int
    }

    /// A chunk the receiver did not write, and why (for the coordinator's log).
    struct Refusal: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    let layout: RunLayout
    let maximumBytes: Int
    /// The upload of each task in progress, by task id (one attempt at a time).
    private(set) var uploads: [Int: Upload] = [:]
    /// Chunks refused for a bad checksum or offset, and bytes written (all uploads).
    private(set) var refusedChunks = 0
    private(set) var bytesReceived = 0

    init(layout: RunLayout, maximumBytes: Int) {
        self.layout = layout
        self.maximumBytes = maximumBytes
    }

    /// `OUT/shards/incoming/task-NNNNNN.tryK.h5.part`.
    func partURL(task: Int, attempt: Int) -> URL {
        let shard = layout.incomingShard(taskID: task, attempt: attempt)
        return shard.deletingLastPathComponent().appendingPathComponent(shard.lastPathComponent + ".part")
    }

    /// Starts or resumes the upload of `s.taskID`/`s.attempt` by `s.workerID`. The same worker,
    /// attempt, size and sha256 as the upload in progress resume it at its offset; anything else
    /// starts it over (a part file of an earlier attempt, or of an earlier coordinator session,
    /// is discarded: resuming across sessions could splice two different files).
    ///
    /// - Returns: the acknowledgement to send (offset, or `refused` when the size is out of bounds
    ///   or the part file cannot be made).
    func start(_ s: ShardUploadStart) -> ShardAck {
        guard (1...maximumBytes).contains(s.totalBytes) else {
            return ShardAck(taskID: s.taskID, attempt: s.attempt, offset: 0, refused: "a shard of \(s.totalBytes) bytes is outside 1...\(maximumBytes)")
        }
        guard s.sha256.utf8.count == 64, s.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            return ShardAck(taskID: s.taskID, attempt: s.attempt, offset: 0, refused: "the shard's sha256 is not 64 lowercase hex digits")
        }
        if let u = uploads[s.taskID], u.attempt == s.attempt, u.worker == s.workerID, u.totalBytes == s.totalBytes, u.sha256 == s.sha256,
           let size = try? partSize(task: s.taskID, attempt: s.attempt), size == u.offset {
            return ShardAck(taskID: s.taskID, attempt: s.attempt, offset: u.offset)
        }
        discard(task: s.taskID)
        do {
            let fd = try openPart(task: s.taskID, attempt: s.attempt)
            defer { close(fd) }
            guard ftruncate(fd, 0) == 0 else { throw Refusal(reason: "cannot empty \(partURL(task: s.taskID, attempt: s.attempt).path): \(String(cString: strerror(errno)))") }
        } catch {
            return ShardAck(taskID: s.taskID, attempt: s.attempt, offset: 0, refused: "\(error)")
        }
        uploads[s.taskID] = Upload(attempt: s.attempt, worker: s.workerID, totalBytes: s.totalBytes, sha256: s.sha256, offset: 0)
        return ShardAck(taskID: s.taskID, attempt: s.attempt, offset: 0)
    }

    /// Writes `c` when it continues the upload in progress. Returns the acknowledgement (the
    /// offset after it, or the unchanged offset when the chunk was not written) and, when it was
    /// not written, why.
    func receive(_ c: ShardChunk) -> (ack: ShardAck, refusal: Refusal?) {
        guard var u = uploads[c.taskID], u.attempt == c.attempt, u.worker == c.workerID else {
            return (ShardAck(taskID: c.taskID, attempt: c.attempt, offset: 0, refused: "no upload of task \(c.taskID) attempt \(c.attempt) was started by this worker"),
                    Refusal(reason: "a chunk without a started upload"))
        }
        func refuse(_ reason: String, final: Bool = false) -> (ShardAck, Refusal?) {
            refusedChunks += 1
            return (ShardAck(taskID: c.taskID, attempt: c.attempt, offset: u.offset, refused: final ? reason : nil), Refusal(reason: reason))
        }
        guard (1...ShardTransferLimits.maximumChunkBytes).contains(c.bytes.count) else {
            return refuse("a chunk of \(c.bytes.count) bytes is outside 1...\(ShardTransferLimits.maximumChunkBytes)")
        }
        guard c.offset == u.offset else { return refuse("a chunk at offset \(c.offset), expected \(u.offset)") }
        guard c.bytes.count <= u.totalBytes - u.offset else {
            return refuse("a chunk of \(c.bytes.count) bytes at \(c.offset) runs past the declared \(u.totalBytes) bytes", final: true)
        }
        guard SHA256Digest.hex(of: c.bytes) == c.sha256 else { return refuse("a chunk at offset \(c.offset) whose bytes do not match its sha256") }
        do {
            let fd = try openPart(task: c.taskID, attempt: c.attempt)
            defer { close(fd) }
            let written = c.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(u.offset)) }
            guard written == c.bytes.count else {
                let why = written < 0 ? String(cString: strerror(errno)) : "short write"
                _ = ftruncate(fd, off_t(u.offset))
                return refuse("cannot write \(partURL(task: c.taskID, attempt: c.attempt).path): \(why)")
            }
            if u.offset + c.bytes.count == u.totalBytes, fsync(fd) != 0 {
                return refuse("cannot sync \(partURL(task: c.taskID, attempt: c.attempt).path): \(String(cString: strerror(errno)))")
            }
        } catch {
            return refuse("\(error)", final: true)
        }
        u.offset += c.bytes.count
        bytesReceived += c.bytes.count
        uploads[c.taskID] = u
        return (ShardAck(taskID: c.taskID, attempt: c.attempt, offset: u.offset), nil)
    }

    /// The part file of a finished upload of `task`/`attempt` by `worker` (every declared byte
    /// received), or nil.
    func finished(task: Int, attempt: Int, worker: String) -> URL? {
        guard let u = uploads[task], u.attempt == attempt, u.worker == worker, u.offset == u.totalBytes else { return nil }
        return partURL(task: task, attempt: attempt)
    }

    /// Forgets the upload of `task` and removes its part file (a file this receiver made), if
    /// it is still there (a finished upload's part file has been renamed into place).
    func discard(task: Int) {
        guard let u = uploads.removeValue(forKey: task) else { return }
        unlink(partURL(task: task, attempt: u.attempt).path)
    }

    /// Opens the part file for writing, creating it: never through a symbolic link, and only a
    /// regular file (a FIFO or device planted there is refused without blocking).
    private func openPart(task: Int, attempt: Int) throws -> Int32 {
        let path = partURL(task: task, attempt: attempt).path
        var planted = stat()
        if lstat(path, &planted) == 0 {
            switch planted.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK: throw Refusal(reason: "cannot open \(path): it is a symbolic link")
            default: throw Refusal(reason: "cannot write \(path): not a regular file")
            }
        }
        // O_NOFOLLOW and fstat again: whatever replaces the file between lstat and open is refused too.
        let fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Refusal(reason: "cannot open \(path): \(errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw Refusal(reason: "cannot write \(path): not a regular file")
        }
        return fd
    }

    private func partSize(task: Int, attempt: Int) throws -> Int {
        var st = stat()
        guard lstat(partURL(task: task, attempt: attempt).path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw Refusal(reason: "no part file")
        }
        return Int(st.st_size)
    }
}
