#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file could not be put in place atomically: which destination, which temporary file, what
/// step failed and the system's reason.
public struct AtomicFileError: Error, CustomStringConvertible, Sendable {
    /// The file that was to be written or replaced.
    public let file: String
    /// The temporary file beside it.
    public let temporary: String
    /// The failing step: `"fsync"`, `"rename"`.
    public let operation: String
    /// The system's explanation (`strerror(errno)`).
    public let reason: String

    public var description: String {
        if operation == "check" { return "cannot write \(file): \(reason)" }
        return "cannot put \(file) in place (\(operation) of \(temporary) failed: \(reason))"
    }
}

/// Writes an output file under a temporary name in the destination's folder and `rename(2)`s it
/// over the destination when complete, so that a reader sees the old file or the whole new one,
/// never a partial one, and a killed writer leaves at most a hidden `.NAME.tmp-*` file behind.
///
/// The destination is replaced in one step (never removed first); the temporary file is in the
/// same folder, hence on the same file system, which `rename(2)` needs to be atomic.
public enum AtomicFile {
    /// Calls `body` with a temporary path beside `url`, then makes what it wrote the content of `url`.
    ///
    /// - Parameters:
    ///   - url: the destination; its folder must exist. An existing file is replaced.
    ///   - durable: fsync the written file before the rename and the folder after it, so the new
    ///     content survives a crash of the machine, not only of the process.
    ///   - body: creates the file at the given URL (and closes it) before returning.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws (the destination is then untouched and the temporary file
    ///   removed), or `AtomicFileError` when the file cannot be synced or renamed.
    @discardableResult
    public static func write<R>(to url: URL, durable: Bool = true, _ body: (URL) throws -> R) throws -> R {
        try checkDestination(url)
        let tmp = temporaryURL(for: url)
        do {
            let result = try body(tmp)
            if durable { try sync(tmp.path, destination: url) }
            guard rename(tmp.path, url.path) == 0 else { throw error("rename", tmp, url) }
            if durable { try? sync(url.deletingLastPathComponent().path, destination: url) }   // the folder entry; best effort
            return result
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// Writes `data` to `url` atomically (see `write(to:durable:_:)`).
    public static func write(_ data: Data, to url: URL, durable: Bool = true) throws {
        try write(to: url, durable: durable) { try data.write(to: $0) }
    }

    /// Throws unless `url` can be written as a file: its folder exists and is a folder, and
    /// `url` is absent or a regular file (a folder or a symbolic link is never replaced). Call it
    /// before long work whose result goes to `url`, so a wrong path fails first.
    public static func checkDestination(_ url: URL) throws {
        func refuse(_ why: String) -> AtomicFileError { AtomicFileError(file: url.path, temporary: "", operation: "check", reason: why) }
        let folder = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir) else { throw refuse("the folder \(folder.path) does not exist") }
        guard isDir.boolValue else { throw refuse("\(folder.path) is a file, not a folder") }
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return }   // absent: fine
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw refuse("it is a folder (give the path of a file to write; nothing in the folder was touched)")
        case S_IFLNK: throw refuse("it is a symbolic link (not followed; remove it or give another path)")
        default: throw refuse("it is not a regular file")
        }
    }

    /// The temporary name beside `url`: hidden, with the process id and a random suffix so that
    /// concurrent writers of the same destination (processes or threads) never share one.
    static func temporaryURL(for url: URL) -> URL {
        let suffix = String(UInt32.random(in: .min ... .max), radix: 16)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(suffix)")
    }

    /// fsync(2) of the file or folder at `path`.
    private static func sync(_ path: String, destination: URL) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw error("open for fsync", URL(fileURLWithPath: path), destination) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync", URL(fileURLWithPath: path), destination) }
    }

    private static func error(_ operation: String, _ tmp: URL, _ url: URL) -> AtomicFileError {
        AtomicFileError(file: url.path, temporary: tmp.path, operation: operation, reason: String(cString: strerror(errno)))
    }
}
