import Foundation
import Shared
import Storage

/// Where a worker writes a task's shard: composed here from the job's output folder, the task id
/// and the attempt (`OUTPUT/shards/incoming/task-NNNNNN.tryK.h5`), never taken from a message.
///
/// The output folder must be absolute and normalised (`JobSpec.validate`), its
/// `shards/incoming` folder must already exist (the coordinator makes it) with no symbolic link
/// anywhere on the way, and the file itself may only be absent or a regular file. So a
/// coordinator, honest or not, can make a worker write nothing but task shards in a run folder.
public enum ShardDestination {
    public static func url(job: JobSpec, task: TaskAssignment) throws -> URL {
        let layout = RunLayout(root: URL(fileURLWithPath: job.output))
        let folder = layout.incoming.standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw ShardWriteFailure(path: folder.path, reason: "the run's incoming folder does not exist (is the output folder on a filesystem this worker sees?)", isTransient: false)
        }
        // realpath resolves every symbolic link on the way: it must change nothing.
        guard let resolved = realpath(folder.path, nil) else {
            throw ShardWriteFailure(path: folder.path, reason: String(cString: strerror(errno)), isTransient: false)
        }
        defer { free(resolved) }
        guard String(cString: resolved) == folder.path else {
            throw ShardWriteFailure(path: folder.path, reason: "the path goes through a symbolic link (to \(String(cString: resolved))); refusing to write there", isTransient: false)
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
