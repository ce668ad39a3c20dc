import Foundation
import Shared
import Storage

/// Where a worker writes a task's shard: composed here from the job's output folder, the task id
/// and the attempt (`OUTPUT/shards/incoming/task-NNNNNN.tryK.h5`), never taken from a message.
///
/// The output folder must be absolute and normalised (`JobSpec.validate`), its `shards/` and
/// `shards/incoming/` folders must already exist (the coordinator makes them) as real folders,
/// not symbolic links, and the file itself may only be absent or a regular file. So a
/// coordinator, honest or not, can make a worker write nothing but task shards in a run folder.
public enum ShardDestination {
    /// - Parameter root: the worker's scratch folder for the job when shards are sent over the
    ///   connection (`ShardTransfer.zeromq`); nil: the job's output folder.
    public static func url(job: JobSpec, task: TaskAssignment, root: URL? = nil) throws -> URL {
        let layout = RunLayout(root: root ?? URL(fileURLWithPath: job.output))
        // `shards/` and `shards/incoming/` must be real folders (a link there could point
        // anywhere); the output folder itself may sit behind links (/home → /nfs/home).
        for folder in [layout.shards, layout.incoming] {
            var st = stat()
            guard lstat(folder.path, &st) == 0 else {
                throw ShardWriteFailure(path: folder.path, reason: "the run's incoming folder does not exist (is the output folder on a filesystem this worker sees?)", isTransient: false)
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFLNK: throw ShardWriteFailure(path: folder.path, reason: "it is a symbolic link; refusing to write there", isTransient: false)
            default: throw ShardWriteFailure(path: folder.path, reason: "not a folder", isTransient: false)
            }
        }
        let file = layout.incomingShard(taskID: task.taskID, attempt: task.attempt)
        do { try OutputLocation.checkFile(file, what: "shard") } catch {
            throw ShardWriteFailure(path: file.path, reason: "\(error)", isTransient: false)
        }
        return file
    }
}

/// A task's shard could not be written. `isTransient`: the machine's fault (no space left, an
/// I/O error), not the task's; the coordinator retries the task after a pause.
public struct ShardWriteFailure: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var isTransient: Bool
    public var description: String { "cannot write the shard \(path): \(reason)" }

    /// Space under which a failed write is taken for a full disk.
    static let lowSpaceBytes: Int64 = 64 << 20

    /// Classifies a failure to write `url`: a full filesystem (little space left where the shard
    /// goes) or an error whose text says no space, I/O error or try again is transient.
    static func classify(_ error: Error, writing url: URL) -> ShardWriteFailure {
        let text = "\(error)"
        let folder = url.deletingLastPathComponent().path
        var fs = statvfs()
        if statvfs(folder, &fs) == 0 {
            let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
            if free < lowSpaceBytes {
                return ShardWriteFailure(path: url.path, reason: "no space left on device (\(free) bytes free in \(folder))", isTransient: true)
            }
        }
        let transientWords = ["No space left", "Input/output error", "Resource temporarily unavailable", "Disk quota exceeded"]
        return ShardWriteFailure(path: url.path, reason: text, isTransient: transientWords.contains { text.contains($0) })
    }
}
