// Shards sent to the coordinator over ZeroMQ (`shard_transfer: zeromq`): real coordinator and
// worker processes on loopback, each with its own folder, a worker killed mid-upload, and a
// rogue worker's uploads refused. The same with separate network namespaces and CURVE keys is
// scripts/netns_transfer_test.sh.
import Foundation
import Shared
import Storage
import Testing
import TestSupport

@Suite(.serialized) struct ShardTransferTests {
    /// A zeromq-transfer job of `prompts` prompts in tasks of `perTask`, and its coordinator.
    func start(_ label: String, prompts: Int, perTask: Int, lease: Double) throws -> (TestJob, String, CircuitsProcess) {
        let job = try TestJob(label, prompts: corpusPrompts(prompts), promptsPerTask: perTask, lease: lease, heartbeat: 0.5)
        try (String(contentsOf: job.spec, encoding: .utf8) + "\nshard_transfer: zeromq\n").write(to: job.spec, atomically: true, encoding: .utf8)
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint, "--log-level", "debug"],
                                              logs: job.folder.url, name: "coordinator")
        return (job, endpoint, coordinator)
    }

    /// The `.part` files in the coordinator's incoming folder, with their sizes.
    func parts(_ job: TestJob) -> [String: Int] {
        let incoming = job.output.appendingPathComponent("shards/incoming")
        var out: [String: Int] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: incoming.path)) ?? [] where name.hasSuffix(".part") {
            out[name] = (try? FileManager.default.attributesOfItem(atPath: incoming.appendingPathComponent(name).path)[.size] as? Int) ?? 0
        }
        return out
    }

    @Test func aWorkerKilledMidUploadIsReplacedAndEveryShardArrivesWholeAndVerified() throws {
        let (job, endpoint, coordinator) = try start("transfer-kill", prompts: 6, perTask: 3, lease: 3)
        defer { job.folder.remove() }
        // A slow upload (20 kB/s, 16 KiB chunks), killed once part of a shard has arrived.
        let slow = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "slow", "--scratch", job.folder.file("scratch-slow").path,
                                        "--upload-limit", "0.02", "--log-level", "debug"], logs: job.folder.url, name: "slow")
        let midway = eventually(seconds: 120) { parts(job).values.contains { $0 > 0 } }
        #expect(midway, "a shard upload started: \(slow.stderr)")
        let partial = parts(job)
        slow.kill(SIGKILL)
        slow.wait()
        #expect(job.completions.isEmpty, "killed before any shard was complete: \(partial)")
        let fast = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "fast", "--scratch", job.folder.file("scratch-fast").path],
                                       logs: job.folder.url, name: "fast")
        #expect(coordinator.wait(seconds: 240) == 0, "coordinator: \(coordinator.stderr)")
        #expect(fast.wait(seconds: 30) == 0, "worker: \(fast.stderr)")

        #expect(job.completions.sorted() == [0, 1], "each task completed once")
        #expect(parts(job).isEmpty, "no part file left: \(parts(job))")
        // Every accepted shard is the file the journal hashed; the worker wrote none into OUT.
        for line in job.journal where line.contains("taskCompleted") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let c = try #require((o["event"] as? [String: Any])?["taskCompleted"] as? [String: Any])
            let task = try #require(c["taskID"] as? Int), sha = try #require(c["sha256"] as? String)
            let shard = RunLayout(root: job.output).shard(taskID: task)
            #expect(try SHA256Digest.hex(ofFileAt: shard) == sha)
        }
        let scratch = RunLayout(root: job.folder.file("scratch-fast")).incoming.path
        let left = try FileManager.default.subpathsOfDirectory(atPath: job.folder.file("scratch-fast").path).filter { $0.hasSuffix(".h5") }
        #expect(left.isEmpty, "the worker removes each shard once sent: \(left) under \(scratch)")
        #expect(coordinator.stderr.contains("silent past its lease"), "the killed worker's task was re-leased")
        #expect(fast.stderr.isEmpty || !fast.stderr.contains("error:"), "\(fast.stderr)")

        let merge = try CircuitsProcess.run(["merge", job.output.path], in: job.folder.url)
        #expect(merge.status == 0 && merge.stdout.contains("6 prompts, 6 traced, 0 failed"), "\(merge.stdout)\(merge.stderr)")
    }

    @Test func uploadsFromAWorkerWithoutTheLeaseOrWithBadChunksAreRefused() throws {
        let (job, endpoint, coordinator) = try start("transfer-rogue", prompts: 2, perTask: 1, lease: 30)
        defer { job.folder.remove() }
        let mallory = try RoguePeer(router: false, identity: "mallory")
        defer { mallory.close() }
        try mallory.socket.connect(endpoint)
        try mallory.send(.hello(workerID: "mallory", capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 1, version: "0")))
        let hello = try #require(try mallory.await { if case .job = $0 { true } else { false } })
        guard case let .job(spec) = hello.message else { return }
        #expect(spec.shardTransfer == .zeromq)
        try mallory.send(.ready(workerID: "mallory"))
        let leased = try #require(try mallory.await { if case .task = $0 { true } else { false } })
        guard case let .task(t) = leased.message else { return }
        func ack() throws -> ShardAck {
            let m = try #require(try mallory.await { if case .shardAck = $0 { true } else { false } })
            guard case let .shardAck(a) = m.message else { throw CocoaError(.coderInvalidValue) }
            return a
        }
        let bytes = Data("not an hdf5 file".utf8), sha = SHA256Digest.hex(of: Data("not an hdf5 file".utf8))
        // Not its task (1), a chunk before any start, a size out of bounds: refused.
        try mallory.send(.shardStart(ShardUploadStart(workerID: "mallory", taskID: 1 - t.taskID, attempt: 1, totalBytes: bytes.count, sha256: sha)))
        #expect(try ack().refused?.contains("does not hold") == true)
        try mallory.send(.shardChunk(ShardChunk(workerID: "mallory", taskID: t.taskID, attempt: 1, offset: 0, sha256: sha, bytes: bytes)))
        #expect(try ack().refused != nil)
        try mallory.send(.shardStart(ShardUploadStart(workerID: "mallory", taskID: t.taskID, attempt: 1, totalBytes: -5, sha256: sha)))
        #expect(try ack().refused != nil)
        // Its own task: a chunk with a bad checksum is not written; a good one is; the shard is then rejected as unreadable.
        try mallory.send(.shardStart(ShardUploadStart(workerID: "mallory", taskID: t.taskID, attempt: 1, totalBytes: bytes.count, sha256: sha)))
        #expect(try ack() == ShardAck(taskID: t.taskID, attempt: 1, offset: 0))
        try mallory.send(.shardChunk(ShardChunk(workerID: "mallory", taskID: t.taskID, attempt: 1, offset: 0, sha256: String(repeating: "a", count: 64), bytes: bytes)))
        #expect(try ack() == ShardAck(taskID: t.taskID, attempt: 1, offset: 0))
        try mallory.send(.shardChunk(ShardChunk(workerID: "mallory", taskID: t.taskID, attempt: 1, offset: 0, sha256: sha, bytes: bytes)))
        #expect(try ack() == ShardAck(taskID: t.taskID, attempt: 1, offset: bytes.count))
        try mallory.send(.result(TaskResult(taskID: t.taskID, attempt: 1, workerID: "mallory", sha256: sha, promptsDone: 1, promptsFailed: 0, seconds: 1)))
        #expect(eventually(seconds: 10) { coordinator.stderr.contains("rejecting the shard of task \(t.taskID)") }, "\(coordinator.stderr)")
        #expect(parts(job).isEmpty, "the rejected upload's part file is removed")

        let honest = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "honest", "--scratch", job.folder.file("scratch").path],
                                         logs: job.folder.url, name: "honest")
        #expect(coordinator.wait(seconds: 180) == 0, "coordinator: \(coordinator.stderr)")
        #expect(honest.wait(seconds: 30) == 0, "worker: \(honest.stderr)")
        #expect(job.completions.sorted() == [0, 1])
        let log = coordinator.stderr
        #expect(log.contains("do not match its sha256") && log.contains("refusing a shard upload"), "\(log)")
    }

    /// A real worker against a coordinator of the test that refuses one chunk (its ack does not
    /// advance) and later goes silent (acks lost): the worker sends the refused bytes again and,
    /// after `ShardTransferLimits.resumeAfterSeconds`, asks where to resume and continues from
    /// there. The bytes the test assembles are the shard the result names; the worker never
    /// needed the job's output folder.
    @Test func theWorkerResendsRefusedChunksAndResumesAtTheCoordinatorsOffset() throws {
        let folder = try ScratchFolder("transfer-worker")
        defer { folder.remove() }
        let corpus = folder.file("corpus.txt")
        try "the cat sat on the mat because it was very tired\n".write(to: corpus, atomically: true, encoding: .utf8)
        let rogue = try RoguePeer(router: true)
        defer { rogue.close() }
        rogue.endpoint = try rogue.socket.bind("tcp://127.0.0.1:*")
        let worker = try CircuitsProcess(["worker", "--connect", rogue.endpoint, "--threads", "1", "--id", "w1", "--scratch", folder.file("scratch").path,
                                          "--upload-limit", "0.4", "--log-level", "debug"], logs: folder.url, name: "worker")
        defer { worker.kill(SIGKILL); worker.wait() }
        let hello = try #require(try rogue.await { if case .hello = $0 { true } else { false } }, "\(worker.stderr)")
        let peer = try #require(hello.peer)
        var job = interimJob(output: folder.file("not-on-this-host"), corpus: corpus)
        job.shardTransfer = .zeromq
        try rogue.send(.job(job), to: peer)
        _ = try #require(try rogue.await { if case .ready = $0 { true } else { false } }, "\(worker.stderr)")
        try rogue.send(.task(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: [PromptItem(id: "p", text: "the cat sat on the mat")])), to: peer)
        func ack(_ offset: Int) throws { try rogue.send(.shardAck(ShardAck(taskID: 0, attempt: 1, offset: offset)), to: peer) }

        var data = Data(), refusedOnce = false, silent = false, silences = 0, starts = 0
        var result: TaskResult?
        let until = ContinuousClock.now + .seconds(120)
        while result == nil, ContinuousClock.now < until {
            guard let m = try rogue.receive(within: 1) else { continue }
            switch m.message {
            case .shardStart(let s):
                #expect(s.totalBytes > 150_000 && s.taskID == 0 && s.attempt == 1, "\(s)")
                starts += 1
                silent = false
                try ack(data.count)
            case .shardChunk(let c) where !silent:
                if c.offset != data.count { try ack(data.count); continue }
                if !refusedOnce && c.offset > 0 { refusedOnce = true; try ack(data.count); continue }
                data.append(c.bytes)
                #expect(SHA256Digest.hex(of: c.bytes) == c.sha256)
                // Once, after some bytes: their ack and everything after is lost until the worker asks again.
                if silences == 0 && data.count > 60_000 { silences += 1; silent = true; continue }
                try ack(data.count)
            case .result(let r): result = r
            default: continue
            }
        }
        let r = try #require(result, "the worker sent its result: \(worker.stderr)")
        #expect(SHA256Digest.hex(of: data) == r.sha256, "the bytes received are the shard the result names")
        #expect(refusedOnce && silences == 1 && starts == 2, "refused \(refusedOnce), silences \(silences), starts \(starts)")
        #expect(worker.stderr.contains("asking the coordinator where to resume"), "\(worker.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("not-on-this-host").path))
        let left = try FileManager.default.subpathsOfDirectory(atPath: folder.file("scratch").path).filter { $0.hasSuffix(".h5") }
        #expect(left.isEmpty, "the sent shard is removed from the scratch folder: \(left)")
    }
}
