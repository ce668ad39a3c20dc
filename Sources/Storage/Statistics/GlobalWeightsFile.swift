import Foundation

/// Rewrites `global_weights.h5` atomically while keeping what the other writer put there:
/// `--top`'s tables (root datasets) and `--all`'s `/all` group live side by side.
public enum GlobalWeightsFile {
    /// Copies the existing file (if any) to a temporary one, unlinks the paths `removing` names
    /// there, lets `body` write, and renames it over `url` (`AtomicFile`).
    public static func update(_ url: URL, removing: (HDF5File) throws -> [String], _ body: (HDF5File) throws -> Void) throws {
        try AtomicFile.write(to: url) { tmp in
            let f: HDF5File
            if FileManager.default.fileExists(atPath: url.path) {
                try FileManager.default.copyItem(at: url, to: tmp)
                f = try HDF5File.open(tmp, writable: true)
            } else {
                f = try HDF5File.create(tmp)
            }
            defer { f.close() }
            for path in try removing(f) { try f.remove(path) }
            try body(f)
        }
    }
}
