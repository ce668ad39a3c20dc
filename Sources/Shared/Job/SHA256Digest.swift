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

    /// The digest of a file a peer named or made, read defensively: the path must be a regular
    /// file (a symbolic link, FIFO or device is refused, never opened for reading) of at most
    /// `maxBytes` bytes. Returns the digest and the size.
    public static func hex(ofRegularFileAt url: URL, maxBytes: Int) throws -> (hex: String, bytes: Int) {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw UntrustedFileError(path: url.path, reason: errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw UntrustedFileError(path: url.path, reason: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw UntrustedFileError(path: url.path, reason: "not a regular file") }
        guard Int(st.st_size) <= maxBytes else { throw UntrustedFileError(path: url.path, reason: "\(st.st_size) bytes, more than the \(maxBytes) allowed") }
        var hasher = SHA256()
        var total = 0
        while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty {
            total += block.count
            guard total <= maxBytes else { throw UntrustedFileError(path: url.path, reason: "grew past \(maxBytes) bytes while being read") }
            hasher.update(data: block)
        }
        return (hex(hasher.finalize()), total)
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

/// A file named or made by a peer is not one we read: names the path and why.
public struct UntrustedFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}
