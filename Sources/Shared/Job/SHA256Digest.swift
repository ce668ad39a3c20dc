import Crypto
import Foundation

/// SHA-256 as lowercase hex, of bytes or of a file (streamed in blocks of up to 4 MiB).
public enum SHA256Digest {
    public static func hex(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func hex(ofFileAt url: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: url.path])
        }
        defer { try? handle.close() }
        var st = stat()
        guard fstat(handle.fileDescriptor, &st) == 0 else { throw UntrustedFileError(path: url.path, reason: String(cString: strerror(errno))) }
        return try stream(handle.fileDescriptor, path: url.path, size: Int(st.st_size), maxBytes: .max).hex
    }

    /// The digest of a file a peer named or made, read defensively: the path must be a regular
    /// file (a symbolic link, FIFO or device is refused, never opened for reading) of at most
    /// `maxBytes` bytes. Returns the digest and the size.
    public static func hex(ofRegularFileAt url: URL, maxBytes: Int) throws -> (hex: String, bytes: Int) {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw UntrustedFileError(path: url.path, reason: errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw UntrustedFileError(path: url.path, reason: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw UntrustedFileError(path: url.path, reason: "not a regular file") }
        guard Int(st.st_size) <= maxBytes else { throw UntrustedFileError(path: url.path, reason: "\(st.st_size) bytes, more than the \(maxBytes) allowed") }
        return try stream(fd, path: url.path, size: Int(st.st_size), maxBytes: maxBytes)
    }

    /// The digest and length of what `fd` reads to its end, `size` bytes expected, at most
    /// `maxBytes`. One buffer no larger than the file (a shard is often a few kB; a fresh 4 MB
    /// block per read was most of what hashing one cost).
    private static func stream(_ fd: Int32, path: String, size: Int, maxBytes: Int) throws -> (hex: String, bytes: Int) {
        var hasher = SHA256()
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(4 << 20, max(size, 0) + 1), alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw UntrustedFileError(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            total += n
            guard total <= maxBytes else { throw UntrustedFileError(path: path, reason: "grew past \(maxBytes) bytes while being read") }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
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
