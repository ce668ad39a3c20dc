import Foundation

/// Checks, before any work, that an output can be written where the user asked: used for
/// `--out`, `--json` and a job's `output`, so that a parent that is a file is one clear error
/// naming it, not Foundation's `NSCocoaErrorDomain Code=512` after the work is done.
public enum OutputLocation {
    /// A file may be written (or replaced) at `url`: its parent folder exists and is a folder,
    /// and `url` is absent or a regular file. A folder, a symbolic link (never followed) or a
    /// special file is refused: outputs never replace or delete anything but a file.
    public static func checkFile(_ url: URL, what: String) throws {
        let parent = url.deletingLastPathComponent()
        switch kind(parent) {
        case .folder: break
        case .file: throw OutputLocationError(path: url.path, what: what, reason: "\(parent.path) is a file, not a folder")
        case .missing: throw OutputLocationError(path: url.path, what: what, reason: "the folder \(parent.path) does not exist")
        }
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return }   // absent: fine
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw OutputLocationError(path: url.path, what: what, reason: "it is a folder (give the path of a file; nothing in the folder was touched)")
        case S_IFLNK: throw OutputLocationError(path: url.path, what: what, reason: "it is a symbolic link (not followed; remove it or give another path)")
        default: throw OutputLocationError(path: url.path, what: what, reason: "it is not a regular file")
        }
    }

    /// A folder exists at `url` or can be created there: `url` and its nearest existing ancestor
    /// are folders.
    public static func checkFolder(_ url: URL, what: String) throws {
        var current = url.standardizedFileURL
        while true {
            switch kind(current) {
            case .folder: return
            case .file:
                throw OutputLocationError(path: url.path, what: what, reason: current == url.standardizedFileURL
                                          ? "it is a file, not a folder" : "\(current.path) is a file, not a folder")
            case .missing:
                let parent = current.deletingLastPathComponent()
                if parent.path == current.path { return }
                current = parent
            }
        }
    }

    private enum Kind { case folder, file, missing }

    private static func kind(_ url: URL) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .folder : .file
    }
}

/// An output cannot be written where it was asked for.
public struct OutputLocationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    /// What would be written (`graph (--out)`, `output folder`).
    public var what: String
    public var reason: String
    public init(path: String, what: String, reason: String) { self.path = path; self.what = what; self.reason = reason }
    public var description: String { "cannot write the \(what) at \(path): \(reason)" }
}
