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

    @Test func aTaskCanOnlyWriteAShardInsideTheRunFolder() throws {
        let folder = try ScratchFolder("rogue-coordinator")
        defer { folder.remove() }
        // A folder with a precious file and no run layout: the worker must write nothing there.
        let victim = folder.file("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: victim.appendingPathComponent("precious.txt"))
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close(); worker.kill(SIGKILL); worker.wait() }
        let job = interimJob(output: victim, corpus: corpus)
        try rogue.send(.job(job), to: peer)
        _ = try #require(try rogue.await { if case .ready = $0 { true } else { false } }, "the worker loaded the job: \(worker.stderr)")
        try rogue.send(.task(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: [PromptItem(id: "p", text: "the cat")])), to: peer)
        let failure = try #require(try rogue.await { if case .failure = $0 { true } else { false } })
        guard case let .failure(_, _, _, reason, transient) = failure.message else { return }
        #expect(reason.contains("incoming folder does not exist") && !transient, "\(reason)")
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
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close(); worker.kill(SIGKILL); worker.wait() }
        let job = interimJob(output: run, corpus: corpus)
        try rogue.send(.job(job), to: peer)
        _ = try #require(try rogue.await { if case .ready = $0 { true } else { false } })
        try rogue.send(.task(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: [PromptItem(id: "p", text: "the cat")])), to: peer)
        let failure = try #require(try rogue.await { if case .failure = $0 { true } else { false } })
        guard case let .failure(_, _, _, reason, _) = failure.message else { return }
        #expect(reason.contains("symbolic link"), "\(reason)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    @Test(arguments: [
        ("/tmp/../etc", "output"), ("relative/out", "output"),
    ])
    func aJobWithUnsafePathsIsRefused(output: String, field: String) throws {
        let folder = try ScratchFolder("rogue-job")
        defer { folder.remove() }
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close() }
        var job = interimJob(output: folder.url, corpus: corpus)
        job.output = output
        try rogue.send(.job(job), to: peer)
        let bye = try #require(try rogue.await { if case .goodbye = $0 { true } else { false } })
        guard case let .goodbye(_, reason) = bye.message else { return }
        #expect(reason.contains("refusing the job") && reason.contains("'\(field)'"), "\(reason)")
        #expect(worker.wait(seconds: 30) == 2, "\(worker.stderr)")
    }

    @Test func aHeartbeatFloodJobIsRefused() throws {
        let folder = try ScratchFolder("rogue-heartbeat")
        defer { folder.remove() }
        let corpus = folder.file("corpus.txt")
        try "the cat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let (rogue, worker, peer) = try connect(folder)
        defer { rogue.close() }
        var job = interimJob(output: folder.url, corpus: corpus)
        job.heartbeatSeconds = 0
        try rogue.send(.job(job), to: peer)
        let bye = try #require(try rogue.await { if case .goodbye = $0 { true } else { false } })
        guard case let .goodbye(_, reason) = bye.message else { return }
        #expect(reason.contains("heartbeat_seconds"), "\(reason)")
        #expect(worker.wait(seconds: 30) == 2)
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
