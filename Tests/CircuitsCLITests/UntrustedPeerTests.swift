// Peers that lie: rogue coordinators against a real `circuits worker`, rogue workers and floods
// against a real `circuits coordinator`, and CURVE keys end to end. Loopback only.
import Foundation
import Shared
import Storage
import Testing
import TestSupport

/// A ZeroMQ peer driven by the test: a ROUTER posing as a coordinator, or a DEALER posing as a worker.
final class RoguePeer {
    let context: ZMQContext
    let socket: ZMQSocket
    var endpoint = ""

    init(router: Bool, identity: String? = nil) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context, kind: router ? .router : .dealer, identity: identity)
    }

    func send(_ message: Message, to peer: Data? = nil) throws {
        try socket.send((peer.map { [$0] } ?? []) + [MessageCodec.encode(message)])
    }

    /// The next message (and its sender for a ROUTER) within `seconds`.
    func receive(within seconds: Double = 10) throws -> (peer: Data?, message: Message)? {
        guard let frames = try socket.receive(timeoutMilliseconds: Int(seconds * 1000)) else { return nil }
        let payload = frames.last!
        return (frames.count == 2 ? frames[0] : nil, try MessageCodec.decode(payload))
    }

    /// Receives until `want` matches, answering nothing else; nil on timeout.
    func await(within seconds: Double = 20, _ want: (Message) -> Bool) throws -> (peer: Data?, message: Message)? {
        let until = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < until {
            if let m = try receive(within: 0.2), want(m.message) { return m }
        }
        return nil
    }

    func close() { socket.close(); context.terminate() }
}

/// A job spec (JSON-able) over the bundled interim model, output in `folder`.
func interimJob(output: URL, corpus: URL) -> JobSpec {
    let models = repositoryRoot.appendingPathComponent("models/interim")
    return JobSpec(model: models.appendingPathComponent("model").path, transcoders: models.appendingPathComponent("plt").path,
                   corpus: corpus.path, output: output.path)
}

@Suite(.serialized) struct RogueCoordinatorTests {
    /// Starts a real worker against a ROUTER of the test; returns both once the worker said hello.
    func connect(_ folder: ScratchFolder, patience: Int = 30) throws -> (RoguePeer, CircuitsProcess, Data) {
        let rogue = try RoguePeer(router: true)
        rogue.endpoint = try rogue.socket.bind("tcp://127.0.0.1:*")
        let worker = try CircuitsProcess(["worker", "--connect", rogue.endpoint, "--threads", "1", "--id", "w1", "--patience", String(patience)],
                                         logs: folder.url, name: "worker")
        let hello = try #require(try rogue.await { if case .hello = $0 { true } else { false } }, "the worker said hello")
        return (rogue, worker, try #require(hello.peer))
    }

    /// Hands a real worker a job writing into `output` and one task; returns the worker's
    /// failure report (reason, transient).
    func failureOfATask(output: URL, in folder: ScratchFolder) throws -> (reason: String, transient: Bool) {
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close(); worker.kill(SIGKILL); worker.wait() }
        let job = interimJob(output: output, corpus: corpus)
        try rogue.send(.job(job), to: peer)
        _ = try #require(try rogue.await { if case .ready = $0 { true } else { false } }, "the worker loaded the job: \(worker.stderr)")
        try rogue.send(.task(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: [PromptItem(id: "p", text: "the cat")])), to: peer)
        let failure = try #require(try rogue.await { if case .failure = $0 { true } else { false } })
        guard case let .failure(_, _, _, reason, transient) = failure.message else { return ("", false) }
        return (reason, transient)
    }

    @Test func aTaskCanOnlyWriteAShardInsideTheRunFolder() throws {
        let folder = try ScratchFolder("rogue-coordinator")
        defer { folder.remove() }
        // A folder with a precious file and no run layout: the worker must write nothing there.
        let victim = folder.file("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: victim.appendingPathComponent("precious.txt"))
        let failure = try failureOfATask(output: victim, in: folder)
        #expect(failure.reason.contains("incoming folder does not exist") && !failure.transient, "\(failure.reason)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim.path) == ["precious.txt"])
        #expect(try String(contentsOf: victim.appendingPathComponent("precious.txt"), encoding: .utf8) == "precious")
    }

    @Test func aSymlinkedIncomingFolderIsRefused() throws {
        let folder = try ScratchFolder("rogue-symlink")
        defer { folder.remove() }
        let elsewhere = folder.file("elsewhere"), run = folder.file("run")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: run.appendingPathComponent("shards"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: run.appendingPathComponent("shards/incoming"), withDestinationURL: elsewhere)
        let failure = try failureOfATask(output: run, in: folder)
        #expect(failure.reason.contains("symbolic link"), "\(failure.reason)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    /// A job whose paths could escape (`..`, relative) or whose heartbeat would flood (0 s) is
    /// refused: the worker says goodbye with the field and exits 2.
    @Test(arguments: [("output", "/tmp/../etc"), ("output", "relative/out"), ("heartbeat_seconds", "0")])
    func anUnsafeJobIsRefused(field: String, value: String) throws {
        let folder = try ScratchFolder("rogue-job")
        defer { folder.remove() }
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close() }
        var job = interimJob(output: folder.url, corpus: corpus)
        if field == "output" { job.output = value } else { job.heartbeatSeconds = Double(value)! }
        try rogue.send(.job(job), to: peer)
        let bye = try #require(try rogue.await { if case .goodbye = $0 { true } else { false } })
        guard case let .goodbye(_, reason) = bye.message else { return }
        #expect(reason.contains("refusing the job") && reason.contains("'\(field)'"), "\(reason)")
        #expect(worker.wait(seconds: 30) == 2, "\(worker.stderr)")
    }

    /// `idle` with absurd waits neither crashes the worker (Int.max) nor blocks it forever (-1):
    /// it keeps asking, and its patience still ends it when nothing else comes.
    @Test(arguments: [Int.max, -1, Int.min])
    func absurdIdleWaitsAreBounded(retry: Int) throws {
        let folder = try ScratchFolder("rogue-idle")
        defer { folder.remove() }
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder, patience: 4)
        defer { rogue.close() }
        let job = interimJob(output: folder.url, corpus: corpus)
        try rogue.send(.job(job), to: peer)
        _ = try #require(try rogue.await { if case .ready = $0 { true } else { false } })
        try rogue.send(.idle(retryMilliseconds: retry), to: peer)
        // Asked again within the 10 s bound.
        _ = try #require(try rogue.await(within: 15) { if case .ready = $0 { true } else { false } }, "\(worker.stderr)")
        // Then silence: patience (4 s) ends the worker, with an error, not a crash.
        let status = worker.wait(seconds: 40)
        #expect(status == 2, "status \(String(describing: status)): \(worker.stderr)")
        #expect(worker.stderr.contains("has not answered"))
    }
}

/// A real `circuits coordinator` against workers that lie, flood or do not read.
@Suite(.serialized) struct RogueWorkerTests {
    struct Run {
        let job: TestJob
        let endpoint: String
        let coordinator: CircuitsProcess
        var incoming: URL { job.output.appendingPathComponent("shards/incoming") }
    }

    /// A coordinator on a job of `prompts` one-prompt tasks, with a long lease.
    func start(_ label: String, prompts: Int = 2, extra: [String] = []) throws -> Run {
        let job = try TestJob(label, prompts: Array(CorpusRunTests.prompts.prefix(prompts)), promptsPerTask: 1, lease: 30, heartbeat: 0.5)
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try CircuitsProcess(["coordinator", job.spec.path, "--bind", endpoint] + extra, logs: job.folder.url, name: "coordinator")
        #expect(eventually(seconds: 30) { FileManager.default.fileExists(atPath: job.output.appendingPathComponent("shards/incoming").path) })
        return Run(job: job, endpoint: endpoint, coordinator: coordinator)
    }

    /// A rogue DEALER that said hello (and got the job).
    func rogue(_ run: Run, id: String = "mallory") throws -> RoguePeer {
        let peer = try RoguePeer(router: false, identity: id)
        try peer.socket.connect(run.endpoint)
        try peer.send(.hello(workerID: id, capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 1, version: "0")))
        _ = try #require(try peer.await { if case .job = $0 { true } else { false } })
        return peer
    }

    /// Runs a real worker to the end of the job.
    func finish(_ run: Run) throws {
        let worker = try CircuitsProcess(["worker", "--connect", run.endpoint, "--threads", "1", "--id", "honest"], logs: run.job.folder.url, name: "honest")
        #expect(run.coordinator.wait(seconds: 180) == 0, "coordinator: \(run.coordinator.stderr)")
        #expect(worker.wait(seconds: 30) == 0, "worker: \(worker.stderr)")
    }

    @Test func forgedResultsAndFailuresAreRefused() throws {
        let run = try start("forged")
        defer { run.job.folder.remove() }
        let mallory = try rogue(run)
        defer { mallory.close() }
        try mallory.send(.ready(workerID: "mallory"))
        let leased = try #require(try mallory.await { if case .task = $0 { true } else { false } })
        guard case let .task(t) = leased.message else { return }
        #expect(t.taskID == 0 && t.attempt == 1)
        // A shard for task 1, which mallory does not hold, placed where workers write.
        let planted = run.incoming.appendingPathComponent("task-000001.try9.h5")
        try Data("forged".utf8).write(to: planted)
        let bystander = run.incoming.appendingPathComponent("keep.txt")
        try Data("mine".utf8).write(to: bystander)
        func result(_ task: Int, attempt: Int = 1, as id: String = "mallory") -> Message {
            .result(TaskResult(taskID: task, attempt: attempt, workerID: id, sha256: "00", promptsDone: 1_000_000, promptsFailed: -999, seconds: 1))
        }
        try mallory.send(result(1, attempt: 9))           // not its task (and a shard planted for it)
        try mallory.send(result(1))
        try mallory.send(result(0, as: "honest"))         // someone else's name
        try mallory.send(result(-1))                      // no such task
        try mallory.send(result(0, attempt: 7))           // not its attempt
        for _ in 0..<3 { try mallory.send(.failure(taskID: 1, attempt: 1, workerID: "mallory", reason: "x", transient: false)) }
        // Its own task with an inflated count and no shard: rejected, counted as one failed attempt.
        try mallory.send(result(0))
        Thread.sleep(forTimeInterval: 1)
        try finish(run)
        #expect(try String(contentsOf: bystander, encoding: .utf8) == "mine", "the coordinator deletes nothing it did not make")
        #expect(FileManager.default.fileExists(atPath: planted.path))
        #expect(!run.job.journal.contains { $0.contains("taskFailed") }, "no task failed for good")
        #expect(run.job.completions.sorted() == [0, 1])
        #expect(!run.job.journal.contains { $0.contains("1000000") || $0.contains("-999") }, "counts come from the shards")
        let log = run.coordinator.stderr
        #expect(log.contains("claims to be worker honest") && log.contains("does not hold it"), "\(log)")
    }

    @Test func aFloodThatNeverReadsDoesNotFreezeTheCoordinator() throws {
        let run = try start("flood")
        defer { run.job.folder.remove() }
        let flooder = try RoguePeer(router: false, identity: "flood")
        defer { flooder.close() }
        try flooder.socket.connect(run.endpoint)
        let hello = try MessageCodec.encode(.hello(workerID: "flood", capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 1, version: "0")))
        for _ in 0..<20_000 { _ = try flooder.socket.trySend([hello]) }
        try finish(run)   // the honest worker is served while the flooder never reads
        #expect(run.job.completions.sorted() == [0, 1])
    }

    @Test func aFIFOOrALinkToADeviceIsRejectedWithoutHanging() throws {
        let run = try start("fifo")
        defer { run.job.folder.remove() }
        let mallory = try rogue(run)
        defer { mallory.close() }
        for (attempt, plant) in [(1, "fifo"), (2, "link")] {
            try mallory.send(.ready(workerID: "mallory"))
            let leased = try #require(try mallory.await { if case .task = $0 { true } else { false } })
            guard case let .task(t) = leased.message else { return }
            #expect(t.taskID == 0 && t.attempt == attempt)
            let path = run.incoming.appendingPathComponent("task-000000.try\(attempt).h5").path
            if plant == "fifo" { #expect(mkfifo(path, 0o600) == 0) } else {
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
            }
            try mallory.send(.result(TaskResult(taskID: 0, attempt: attempt, workerID: "mallory", sha256: "00", promptsDone: 1, promptsFailed: 0, seconds: 1)))
            // The shard is checked beside the coordinator's loop and the task stays leased until
            // then: wait for the refusal before asking again.
            let refusal = plant == "fifo" ? "not a regular file" : "symbolic link"
            #expect(eventually(seconds: 30) { run.coordinator.stderr.contains(refusal) }, "\(run.coordinator.stderr)")
        }
        try finish(run)   // answered at once: the honest worker gets task 0 (attempt 3) and task 1
        #expect(run.job.completions.sorted() == [0, 1])
        #expect(run.coordinator.stderr.contains("not a regular file") && run.coordinator.stderr.contains("symbolic link"), "\(run.coordinator.stderr)")
    }

    @Test func bindingBeyondLoopbackWithoutKeysIsRefused() throws {
        let job = try TestJob("bind", prompts: ["the cat"])
        defer { job.folder.remove() }
        let start = ContinuousClock.now
        let r = try CircuitsProcess.run(["coordinator", job.spec.path, "--bind", "tcp://0.0.0.0:\(try freePort())"], in: job.folder.url, seconds: 30)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("--keys") && r.stderr.contains("--insecure"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: job.output.path), "nothing started")
        let w = try CircuitsProcess.run(["worker", "--connect", "tcp://192.0.2.1:5555", "--patience", "1"], in: job.folder.url, seconds: 30)
        #expect(w.status == 2 && w.stderr.contains("--keys") && w.stderr.contains("--insecure"), "\(w.stderr)")
    }

    @Test func curveKeysAdmitOnlyAuthorizedWorkers() throws {
        let keys = try ScratchFolder("curve-keys")
        defer { keys.remove() }
        func generate(_ dir: String, _ name: String) throws {
            let r = try CircuitsProcess.run(["keys", "generate", keys.file(dir).path, "--name", name], in: keys.url, seconds: 30)
            #expect(r.status == 0, "\(r.stderr)")
        }
        try generate("coordinator", "coordinator")
        try generate("alice", "worker")
        try generate("mallory", "worker")
        let fm = FileManager.default
        try fm.createDirectory(at: keys.file("coordinator/workers"), withIntermediateDirectories: true)
        try fm.copyItem(at: keys.file("alice/worker.pub"), to: keys.file("coordinator/workers/alice.pub"))
        for w in ["alice", "mallory"] { try fm.copyItem(at: keys.file("coordinator/coordinator.pub"), to: keys.file("\(w)/coordinator.pub")) }

        let run = try start("curve", extra: ["--keys", keys.file("coordinator").path])
        defer { run.job.folder.remove() }
        // Not authorized, and no keys at all: both hear nothing and give up.
        let mallory = try CircuitsProcess(["worker", "--connect", run.endpoint, "--keys", keys.file("mallory").path, "--patience", "3", "--id", "mallory"],
                                          logs: run.job.folder.url, name: "mallory")
        let plain = try CircuitsProcess(["worker", "--connect", run.endpoint, "--patience", "3", "--id", "plain"], logs: run.job.folder.url, name: "plain")
        #expect(mallory.wait(seconds: 60) == 2 && mallory.stderr.contains("has not answered"), "\(mallory.stderr)")
        #expect(plain.wait(seconds: 60) == 2 && plain.stderr.contains("has not answered"), "\(plain.stderr)")
        #expect(run.job.completions.isEmpty)
        let alice = try CircuitsProcess(["worker", "--connect", run.endpoint, "--keys", keys.file("alice").path, "--id", "alice"],
                                        logs: run.job.folder.url, name: "alice")
        #expect(run.coordinator.wait(seconds: 180) == 0, "\(run.coordinator.stderr)")
        #expect(alice.wait(seconds: 30) == 0, "\(alice.stderr)")
        #expect(run.job.completions.sorted() == [0, 1])
        #expect(run.coordinator.stderr.contains("refused a connection"), "\(run.coordinator.stderr)")
    }
}
