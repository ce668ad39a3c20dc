import Foundation
import Shared
import Testing
import TestSupport

/// File digests streamed through one buffer equal the one-shot digest of the bytes, across
/// the buffer's boundary; a known vector pins the hex form.
@Suite struct SHA256DigestTests {
    @Test func streamedFilesEqualTheOneShotDigest() throws {
        let folder = try ScratchFolder("sha256")
        defer { folder.remove() }
        #expect(SHA256Digest.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var random = SystemRandomNumberGenerator()
        for size in [0, 1, 3, 4095, (4 << 20) - 1, (4 << 20) + 3, (9 << 20) + 7] {
            let bytes = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &random) })
            let url = folder.file("f\(size)")
            try bytes.write(to: url)
            let expected = SHA256Digest.hex(of: bytes)
            #expect(try SHA256Digest.hex(ofFileAt: url) == expected, "\(size) bytes")
            let checked = try SHA256Digest.hex(ofRegularFileAt: url, maxBytes: 1 << 30)
            #expect(checked.hex == expected && checked.bytes == size, "\(size) bytes")
            if size > 0 { #expect(throws: (any Error).self) { try SHA256Digest.hex(ofRegularFileAt: url, maxBytes: size - 1) } }
        }
        let link = folder.file("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: folder.file("f1"))
        #expect(throws: (any Error).self) { try SHA256Digest.hex(ofRegularFileAt: link, maxBytes: 1 << 30) }
    }
}
