// What a run must never lose: accepted shards corrupted later, prompts beside a bad one, and
// tasks that met a full disk. Real processes on loopback.
import Foundation
import Storage
import Testing
import TestSupport

@Suite(.serialized) struct NoDataLossTests {
    /// An accepted shard truncated after the fact is noticed on resume (its sha256 differs from
    /// the journal's), moved aside, and its task redone.
    @Test func aCorruptedShardIsRedoneOnResume() throws {
        let job = try TestJob("corrupt", prompts: Array(CorpusRunTests.prompts.prefix(4)), promptsPerTask: 2)
        defer { job.folder.remove() }
        let first = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        #expect(first.status == 0, "\(first.stderr)")
        let shard = job.output.appendingPathComponent("shards/task-000000.h5")
        let whole = try Data(contentsOf: shard)
        try whole.prefix(whole.count / 2).write(to: shard)
        let second = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("differs from the one accepted"), "\(second.stderr)")
        #expect(second.stdout.contains("traced 4 of 4 prompts (0 failed)"), "\(second.stdout)")
        #expect(try Data(contentsOf: shard).count == whole.count, "redone")
        let aside = try FileManager.default.contentsOfDirectory(atPath: job.output.appendingPathComponent("shards/corrupt").path)
        #expect(aside.count == 1 && aside[0].hasPrefix("task-000000.h5."))
        #expect(job.completions == [0, 1, 0])
        // A third run finds every shard as journaled last: nothing is redone or moved.
        let third = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        #expect(third.status == 0 && !third.stderr.contains("differs"), "\(third.stderr)")
        #expect(job.completions == [0, 1, 0])
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.output.appendingPathComponent("shards/corrupt").path).count == 1)
    }

    /// A NUL character in one prompt fails that prompt alone; its task-mates are traced and the
    /// run gets its report.
    @Test func aNULPromptFailsAlone() throws {
        let good = Array(CorpusRunTests.prompts.prefix(3))
        let job = try TestJob("nul", prompts: good, extraLines: [#"{"id": "bad", "prompt": "the cat\u0000sat"}"#], promptsPerTask: 4)
        defer { job.folder.remove() }
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("traced 3 of 4 prompts (1 failed)"), "\(r.stdout)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        let entries = report["prompts"] as! [[String: Any]]
        let bad = try #require(entries.first { $0["id"] as? String == "bad" })
        #expect((bad["reason"] as? String)?.contains("NUL") == true)
    }

    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-mount-probe-\(getpid())")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]) == 0 else { return false }
        return run("/bin/umount", [probe.path]) == 0
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The shards folder on a full filesystem (a 1 MiB tmpfs filled by a ballast file): tasks
    /// are not failed but held back while the coordinator says it is waiting for space; once
    /// space is freed, every prompt is traced. Needs root (mount), as CI has.
    @Test(.enabled(if: canMount, "needs root to mount a tmpfs"))
    func aFullDiskIsWaitedOutNotFailed() throws {
        let job = try TestJob("diskfull", prompts: Array(CorpusRunTests.prompts.prefix(4)), promptsPerTask: 1, lease: 20, heartbeat: 0.5)
        defer { job.folder.remove() }
        let shards = job.output.appendingPathComponent("shards")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", shards.path]) == 0)
        defer { Self.run("/bin/umount", ["-l", shards.path]) }
        let ballast = shards.appendingPathComponent("ballast")
        FileManager.default.createFile(atPath: ballast.path, contents: nil)
        let handle = try FileHandle(forWritingTo: ballast)
        while (try? handle.write(contentsOf: Data(count: 4096))) != nil {}
        try? handle.close()

        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint], logs: job.folder.url, name: "coordinator")
        let worker = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "w"], logs: job.folder.url, name: "worker")
        #expect(eventually(seconds: 60) { coordinator.stderr.contains("waiting for space") }, "\(coordinator.stderr)")
        Thread.sleep(forTimeInterval: 3)   // several failures, none fatal
        try FileManager.default.removeItem(at: ballast)
        #expect(coordinator.wait(seconds: 180) == 0, "\(coordinator.stderr)")
        #expect(worker.wait(seconds: 30) == 0, "\(worker.stderr)")
        #expect(job.completions.sorted() == [0, 1, 2, 3])
        #expect(!job.journal.contains { $0.contains("taskFailed") }, "a full disk fails no task")
        #expect(worker.stderr.contains("no space left on device"), "\(worker.stderr)")
    }
}
