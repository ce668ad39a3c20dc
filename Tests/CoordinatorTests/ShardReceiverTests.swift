// The coordinator's side of shard uploads, without sockets: chunks assembled into the part
// file byte for byte, resumption at the coordinator's offset, and every bad chunk refused
// without touching what was written.
@testable import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport

@Suite struct ShardReceiverTests {
    /// A receiver over a fresh run folder with `incoming/`, and a payload of `n` pseudo-random bytes.
    func make(_ label: String, bytes n: Int) throws -> (ScratchFolder, ShardReceiver, Data) {
        let folder = try ScratchFolder(label)
        let layout = RunLayout(root: folder.url)
        try FileManager.default.createDirectory(at: layout.incoming, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        let data = Data((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
        return (folder, ShardReceiver(layout: layout, maximumBytes: 1 << 30), data)
    }

    func start(_ data: Data, task: Int = 3, attempt: Int = 1, worker: String = "w") -> ShardUploadStart {
        ShardUploadStart(workerID: worker, taskID: task, attempt: attempt, totalBytes: data.count, sha256: SHA256Digest.hex(of: data))
    }

    func chunk(_ data: Data, _ range: Range<Int>, task: Int = 3, attempt: Int = 1, worker: String = "w", sha: String? = nil) -> ShardChunk {
        let bytes = data.subdata(in: range)
        return ShardChunk(workerID: worker, taskID: task, attempt: attempt, offset: range.lowerBound,
                          sha256: sha ?? SHA256Digest.hex(of: bytes), bytes: bytes)
    }

    @Test(arguments: [[1], [7, 100_000 - 7], [40_000, 40_000, 20_000], [33_333, 33_333, 33_333, 1]])
    func chunksAreAssembledByteForByte(sizes: [Int]) throws {
        let (folder, receiver, data) = try make("receiver-chunks", bytes: sizes.reduce(0, +))
        defer { folder.remove() }
        #expect(receiver.start(start(data)) == ShardAck(taskID: 3, attempt: 1, offset: 0))
        var offset = 0
        for size in sizes {
            #expect(receiver.finished(task: 3, attempt: 1, worker: "w") == nil)
            let (ack, refusal) = receiver.receive(chunk(data, offset..<offset + size))
            offset += size
            #expect(refusal == nil && ack == ShardAck(taskID: 3, attempt: 1, offset: offset))
        }
        let part = try #require(receiver.finished(task: 3, attempt: 1, worker: "w"))
        #expect(part.lastPathComponent == "task-000003.try1.h5.part")
        #expect(try Data(contentsOf: part) == data)
        #expect(receiver.finished(task: 3, attempt: 1, worker: "other") == nil && receiver.finished(task: 3, attempt: 2, worker: "w") == nil)
        #expect(receiver.bytesReceived == data.count && receiver.refusedChunks == 0)
    }

    @Test func aResumedUploadContinuesAtTheCoordinatorsOffsetAndAChangedOneStartsOver() throws {
        let (folder, receiver, data) = try make("receiver-resume", bytes: 50_000)
        defer { folder.remove() }
        _ = receiver.start(start(data))
        _ = receiver.receive(chunk(data, 0..<20_000))
        // The same upload asked again (a dropped connection): the offset it holds.
        #expect(receiver.start(start(data)).offset == 20_000)
        // A chunk sent twice (the first one's ack was lost): not written again, offset unchanged.
        let (dup, why) = receiver.receive(chunk(data, 0..<20_000))
        #expect(dup.offset == 20_000 && dup.refused == nil && why != nil)
        _ = receiver.receive(chunk(data, 20_000..<50_000))
        #expect(try Data(contentsOf: try #require(receiver.finished(task: 3, attempt: 1, worker: "w"))) == data)
        // Other bytes under the same task and attempt: start over from 0.
        var other = data; other[0] ^= 0xff
        #expect(receiver.start(start(other)).offset == 0)
        #expect(try Data(contentsOf: receiver.partURL(task: 3, attempt: 1)).isEmpty)
        // A new attempt removes the earlier attempt's part file.
        _ = receiver.start(start(data, attempt: 2))
        #expect(!FileManager.default.fileExists(atPath: receiver.partURL(task: 3, attempt: 1).path))
        #expect(FileManager.default.fileExists(atPath: receiver.partURL(task: 3, attempt: 2).path))
    }

    @Test func badChunksAreRefusedAndLeaveTheUploadAsItWas() throws {
        let (folder, receiver, data) = try make("receiver-bad", bytes: 30_000)
        defer { folder.remove() }
        // No upload started: refused for good.
        #expect(receiver.receive(chunk(data, 0..<10)).ack.refused != nil)
        _ = receiver.start(start(data))
        _ = receiver.receive(chunk(data, 0..<10_000))
        let cases: [(String, ShardChunk, Bool)] = [
            ("ahead", chunk(data, 20_000..<30_000), false),
            ("behind", chunk(data, 5_000..<15_000), false),
            ("bad checksum", chunk(data, 10_000..<20_000, sha: String(repeating: "0", count: 64)), false),
            ("empty", chunk(data, 10_000..<10_000), false),
            ("past the end", ShardChunk(workerID: "w", taskID: 3, attempt: 1, offset: 10_000, sha256: SHA256Digest.hex(of: Data(count: 20_001)), bytes: Data(count: 20_001)), true),
            ("too large", ShardChunk(workerID: "w", taskID: 3, attempt: 1, offset: 10_000, sha256: "", bytes: Data(count: ShardTransferLimits.maximumChunkBytes + 1)), false),
            ("other worker", chunk(data, 10_000..<20_000, worker: "mallory"), true),
            ("other attempt", chunk(data, 10_000..<20_000, attempt: 2), true),
        ]
        for (name, c, final) in cases {
            let (ack, refusal) = receiver.receive(c)
            #expect(refusal != nil, "\(name)")
            #expect(ack.offset == (final && name.hasPrefix("other") ? 0 : 10_000), "\(name): \(ack)")
            #expect((ack.refused != nil) == final, "\(name): \(ack)")
        }
        #expect(try Data(contentsOf: receiver.partURL(task: 3, attempt: 1)) == data.prefix(10_000))
        #expect(receiver.refusedChunks == 6)
        // Still completes with good chunks.
        _ = receiver.receive(chunk(data, 10_000..<30_000))
        #expect(try Data(contentsOf: try #require(receiver.finished(task: 3, attempt: 1, worker: "w"))) == data)
    }

    @Test(arguments: [0, -1, Int.max, (1 << 30) + 1])
    func declaredSizesOutOfBoundsAreRefused(total: Int) throws {
        let (folder, receiver, data) = try make("receiver-size", bytes: 10)
        defer { folder.remove() }
        let s = ShardUploadStart(workerID: "w", taskID: 0, attempt: 1, totalBytes: total, sha256: SHA256Digest.hex(of: data))
        #expect(receiver.start(s).refused != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: receiver.layout.incoming.path).isEmpty)
    }

    @Test func aLinkOrFIFOPlantedAtThePartPathIsRefused() throws {
        let (folder, receiver, data) = try make("receiver-plant", bytes: 100)
        defer { folder.remove() }
        let precious = folder.file("precious.txt")
        try Data("mine".utf8).write(to: precious)
        try FileManager.default.createSymbolicLink(atPath: receiver.partURL(task: 3, attempt: 1).path, withDestinationPath: precious.path)
        #expect(receiver.start(start(data)).refused?.contains("symbolic link") == true)
        #expect(mkfifo(receiver.partURL(task: 4, attempt: 1).path, 0o600) == 0)
        #expect(receiver.start(start(data, task: 4)).refused?.contains("not a regular file") == true)
        #expect(try String(contentsOf: precious, encoding: .utf8) == "mine")
        #expect(receiver.start(ShardUploadStart(workerID: "w", taskID: 5, attempt: 1, totalBytes: 100, sha256: "../../etc")).refused != nil)
    }
}
