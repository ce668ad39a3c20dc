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
        try OutputLocation.checkFile(url, what: "file")
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
