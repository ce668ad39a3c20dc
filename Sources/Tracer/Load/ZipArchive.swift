import CZlib
import Foundation

/// A read-only zip archive (what NumPy's `.npz` is), memory-mapped.
///
/// Reads the central directory (zip64 included, as NumPy writes it for every entry) and
/// extracts entries that are stored (method 0) or deflated (method 8, inflated with zlib).
/// Encryption, multi-disk archives and other methods are rejected with an error naming the
/// archive and the entry. Entry CRCs are checked.
public final class ZipArchive: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        /// 0 stored, 8 deflate.
        public let method: Int
        public let compressedSize: Int
        public let uncompressedSize: Int
        public let crc32: UInt32
        /// Offset of the entry's local file header.
        let localHeaderOffset: Int
        let flags: Int
    }

    public let url: URL
    /// Entries in central-directory order.
    public let entries: [Entry]
    // Immutable after init.
    private let data: Data

    public init(_ url: URL) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else { throw TracerError.fileNotFound(url.path, what: "zip archive") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TracerError.malformedFile(url.path, "cannot map: \(error.localizedDescription)")
        }
        self.data = data
        self.entries = try Self.centralDirectory(data, path: url.path)
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The uncompressed bytes of `entry`.
    public func contents(of entry: Entry) throws -> Data {
        let path = url.path
        func bad(_ why: String) -> TracerError { .malformedFile(path, "entry '\(entry.name)': \(why)") }
        guard entry.flags & 1 == 0 else { throw bad("encrypted entries are not supported") }
        let h = entry.localHeaderOffset
        // Sizes and offsets come from the file: compared by subtraction, never summed unchecked.
        guard h >= 0, h <= data.count - 30, u32(h) == 0x0403_4B50 else { throw bad("no local file header at offset \(h)") }
        let start = h + 30 + Int(u16(h + 26)) + Int(u16(h + 28))
        guard entry.compressedSize >= 0, start <= data.count, entry.compressedSize <= data.count - start else {
            throw bad("data runs past the end of the archive")
        }
        let raw = data[(data.startIndex + start)..<(data.startIndex + start + entry.compressedSize)]
        let out: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else { throw bad("stored entry with different sizes") }
            out = Data(raw)
        case 8:
            // Deflate expands at most 1032:1; a larger declared size is a corrupt (or hostile) entry.
            guard entry.uncompressedSize >= 0, entry.uncompressedSize <= 1032 * entry.compressedSize + 1024 else {
                throw bad("declared size \(entry.uncompressedSize) is impossible for \(entry.compressedSize) deflated bytes")
            }
            out = try inflateRaw(raw, expected: entry.uncompressedSize, bad)
        default:
            throw bad("compression method \(entry.method) is not supported (stored or deflate)")
        }
        let crc = out.withUnsafeBytes { b in
            UInt32(crc32(0, b.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(b.count)))
        }
        guard crc == entry.crc32 else { throw bad("CRC mismatch (\(String(crc, radix: 16)) vs \(String(entry.crc32, radix: 16)))") }
        return out
    }

    // MARK: - Parsing

    private func u16(_ o: Int) -> UInt16 { data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt16.self)) } }
    private func u32(_ o: Int) -> UInt32 { data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) } }

    private static func centralDirectory(_ data: Data, path: String) throws -> [Entry] {
        func bad(_ why: String) -> TracerError { .malformedFile(path, why) }
        func u16(_ o: Int) -> Int { data.withUnsafeBytes { Int(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt16.self))) } }
        func u32(_ o: Int) -> Int { data.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self))) } }
        // Values ≥ 2^63 become Int.max: out of range for every check below.
        func u64(_ o: Int) -> Int { data.withUnsafeBytes { Int(clamping: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self))) } }
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes, searched backwards.
        guard data.count >= 22 else { throw bad("too short for a zip archive") }
        var eocd = -1
        var o = data.count - 22
        while o >= max(0, data.count - 22 - 65535) {
            if u32(o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (not a zip/.npz file)") }
        var count = u16(eocd + 10), dirOffset = u32(eocd + 16)
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0 else { throw bad("multi-disk archives are not supported") }
        // Zip64: a locator 20 bytes before the EOCD points at the zip64 EOCD record.
        if eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let z = u64(eocd - 20 + 8)
            guard z >= 0, z <= data.count - 56, u32(z) == 0x0606_4B50 else { throw bad("bad zip64 end-of-central-directory record") }
            count = u64(z + 32)
            dirOffset = u64(z + 48)
        }
        var entries: [Entry] = []
        var p = dirOffset
        for i in 0..<count {
            guard p >= 0, p <= data.count - 46, u32(p) == 0x0201_4B50 else { throw bad("central directory entry \(i) is missing or corrupt") }
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            guard p + 46 + nameLength + extraLength <= data.count else { throw bad("central directory entry \(i) runs past the end") }
            let name = String(decoding: data[(data.startIndex + p + 46)..<(data.startIndex + p + 46 + nameLength)], as: UTF8.self)
            var compressed = u32(p + 20), uncompressed = u32(p + 24), offset = u32(p + 42)
            // Zip64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), size = u16(e + 2)
                if id == 0x0001 {
                    // A field's declared size may run past the extra block (and the file): read
                    // only inside both.
                    var f = e + 4
                    let fieldEnd = min(e + 4 + size, extraEnd)
                    if uncompressed == 0xFFFF_FFFF, f + 8 <= fieldEnd { uncompressed = u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF, f + 8 <= fieldEnd { compressed = u64(f); f += 8 }
                    if offset == 0xFFFF_FFFF, f + 8 <= fieldEnd { offset = u64(f); f += 8 }
                }
                e += 4 + size
            }
            entries.append(Entry(name: name, method: u16(p + 10), compressedSize: compressed, uncompressedSize: uncompressed,
                                 crc32: UInt32(u32(p + 16)), localHeaderOffset: offset, flags: u16(p + 8)))
            p += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }
}

/// Inflates a raw deflate stream of known output size.
private func inflateRaw(_ input: Data, expected: Int, _ bad: (String) -> TracerError) throws -> Data {
    var out = Data(count: expected)
    var stream = z_stream()
    guard circuits_inflate_init_raw(&stream) == Z_OK else { throw bad("zlib inflateInit2 failed") }
    defer { inflateEnd(&stream) }
    let status: Int32 = input.withUnsafeBytes { src in
        out.withUnsafeMutableBytes { dst in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
            // zlib's counters are 32-bit: feed and drain in chunks.
            var inLeft = src.count, outLeft = dst.count
            var status = Z_OK
            repeat {
                let inChunk = min(inLeft, Int(UInt32.max)), outChunk = min(outLeft, Int(UInt32.max))
                stream.avail_in = uInt(inChunk)
                stream.avail_out = uInt(outChunk)
                status = inflate(&stream, Z_NO_FLUSH)
                inLeft -= inChunk - Int(stream.avail_in)
                outLeft -= outChunk - Int(stream.avail_out)
            } while status == Z_OK && (inLeft > 0 || outLeft > 0)
            return status
        }
    }
    guard status == Z_STREAM_END else { throw bad("deflate stream is corrupt or truncated (zlib status \(status))") }
    guard Int(stream.total_out) == expected else { throw bad("inflated to \(stream.total_out) bytes, expected \(expected)") }
    return out
}
