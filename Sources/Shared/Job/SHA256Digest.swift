import Crypto
import Foundation

/// SHA-256 as lowercase hex, of bytes or of a file (streamed in 4 MiB blocks).
public enum SHA256Digest {
    public static func hex(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func hex(ofFileAt url: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: url.path])
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty { hasher.update(data: block) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    /// One digest for a folder: the hash of every regular file's relative path and digest, in
    /// sorted order (so it names the exact weights a shard was made with).
    public static func hex(ofFolder folder: URL) throws -> String {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: folder.path])
        }
        var entries: [String] = []
        let root = folder.standardizedFileURL.path
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.count + 1))
            entries.append(relative + " " + (try hex(ofFileAt: url)))
        }
        return hex(of: Data(entries.sorted().joined(separator: "\n").utf8))
    }
}
