import Foundation

/// A file under a per-process scratch folder (`$TMPDIR/circuits-fuzz-<pid>/`), rewritten with
/// each input, for loaders that take a path (or a folder holding one named file). One folder
/// per process, so `-jobs`/`-fork` workers never share it. `scripts/fuzz.sh` points `TMPDIR` at a
/// folder of its own and removes it afterwards.
public struct ScratchFile: Sendable {
    /// The folder holding the file (what folder-based loaders are given).
    public let directory: URL
    /// The file itself.
    public let url: URL

    /// - Parameter name: the file's name inside the folder, e.g. `config.json`.
    public init(_ name: String) {
        let base = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
        directory = base.appendingPathComponent("circuits-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appendingPathComponent(name)
    }

    /// Replaces the file's contents with the `count` bytes at `start`; returns its URL.
    @discardableResult
    public func write(_ start: UnsafeRawPointer, _ count: Int) -> URL {
        let data = Data(bytes: start, count: count)
        do { try data.write(to: url) } catch { fatalError("fuzz scratch file \(url.path): \(error)") }
        return url
    }
}

/// The input as `Data` (copied).
public func fuzzData(_ start: UnsafeRawPointer, _ count: Int) -> Data { Data(bytes: start, count: count) }
