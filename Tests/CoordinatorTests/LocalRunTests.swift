// The local run (coordinator + worker pool) without subprocesses: workers are `WorkerNode`s on
// threads of the test process, started through the same `WorkerLauncher` seam that
// `circuits run` uses for its `circuits worker` processes.
import Coordinator
import Foundation
import Shared
import Storage
import Synchronization
import Testing
import TestSupport
import Worker

/// A `WorkerNode` on a thread of this process. `terminate()` cannot interrupt a trace; the tests
/// let the node finish (it exits on the coordinator's shutdown).
final class ThreadWorker: LocalWorker, @unchecked Sendable {
    private let state = Mutex<Int32?>(nil)   // nil while running, then the exit status
    var isRunning: Bool { state.withLock { $0 == nil } }
    var terminationStatus: Int32 { state.withLock { $0 ?? 0 } }
    func terminate() {}
    func kill() {}

    init(options: WorkerNode.Options, dies: Bool) {
        Thread.detachNewThread { [self] in
            if dies { state.withLock { $0 = 9 }; return }   // as if killed before saying hello
            let status: Int32 = (try? WorkerNode(options: options).run()) == .shutdown ? 0 : 1
            state.withLock { $0 = status }
        }
    }
}

/// Starts `ThreadWorker`s; the first `deaths` starts die at once (to exercise restarts).
final class ThreadLauncher: WorkerLauncher, @unchecked Sendable {
    private let deaths: Mutex<Int>
    let started = Mutex<[String]>([])
    init(deaths: Int = 0) { self.deaths = Mutex(deaths) }

    func start(slot: Int, id: String, endpoint: String, threads: Int, log: URL) throws -> LocalWorker {
        started.withLock { $0.append(id) }
        let dies = deaths.withLock { d -> Bool in defer { d = max(0, d - 1) }; return d > 0 }
        return ThreadWorker(options: WorkerNode.Options(endpoint: endpoint, threads: threads, workerID: id), dies: dies)
    }
}

@Suite(.serialized) struct LocalRunTests {
    /// A job on the bundled interim model: `n` short prompts, two per task.
    func job(prompts n: Int, in folder: ScratchFolder) throws -> JobSpec {
        let corpus = folder.file("corpus.txt")
        try (0..<n).map { $0 % 2 == 0 ? "the cat sat on the mat" : "a dog ran" }.joined(separator: "\n")
            .write(to: corpus, atomically: true, encoding: .utf8)
        var spec = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path,
                           corpus: corpus.path, output: folder.file("out").path)
        spec.promptsPerTask = 2
        return spec
    }

    @Test func runsEveryTaskWithInProcessWorkers() throws {
        let folder = try ScratchFolder("local-run")
        defer { folder.remove() }
        let spec = try job(prompts: 5, in: folder)
        let launcher = ThreadLauncher(deaths: 1)
        var updates = 0
        let outcome = try LocalRun.execute(spec, workers: 2, threads: 1, launcher: launcher, onProgress: { _ in updates += 1 })
        #expect(outcome.progress.tasksTotal == 3 && outcome.progress.tasksCompleted == 3)
        #expect(outcome.progress.promptsDone == 5 && outcome.progress.promptsFailed == 0)
        #expect(updates > 0)
        // Two workers plus one restart of the worker that died.
        #expect(launcher.started.withLock { $0.count } == 3)
        let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
        for t in 0..<3 { #expect(FileManager.default.fileExists(atPath: layout.shard(taskID: t).path), "shard of task \(t)") }
        let merged = try Merger.merge(layout)
        #expect(merged.promptsDone == 5 && merged.promptsTotal == 5)
    }

    @Test func stopsWhenWorkersKeepDying() throws {
        let folder = try ScratchFolder("local-run-dying")
        defer { folder.remove() }
        let spec = try job(prompts: 2, in: folder)
        #expect {
            try LocalRun.execute(spec, workers: 1, threads: 1, launcher: ThreadLauncher(deaths: 100))
        } throws: { error in
            guard case let .workersFailed(reason)? = error as? LocalRun.Stop else { return false }
            return reason.contains("workers keep dying (3 restarts)")
        }
    }

    @Test func interruptedRunResumes() throws {
        let folder = try ScratchFolder("local-run-stop")
        defer { folder.remove() }
        let spec = try job(prompts: 4, in: folder)
        #expect(throws: LocalRun.Stop.interrupted) {
            try LocalRun.execute(spec, workers: 1, threads: 1, launcher: ThreadLauncher(), shouldStop: { true })
        }
        let resumed = try LocalRun.execute(spec, workers: 1, threads: 1, launcher: ThreadLauncher())
        #expect(resumed.progress.promptsDone == 4 && resumed.progress.tasksCompleted == 2)
    }
}
