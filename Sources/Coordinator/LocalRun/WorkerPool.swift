import Foundation
import Logging

/// The local workers of `circuits run`: started through a `WorkerLauncher`, restarted when
/// one dies (a crash or a kill), given up on when they keep dying (more than 3 × count restarts).
public final class WorkerPool {
    let launcher: WorkerLauncher
    let endpoint: String
    let threads: Int
    let logs: URL
    let logger: Logger
    public private(set) var workers: [LocalWorker] = []
    public private(set) var restarts = 0
    let maxRestarts: Int

    public init(count: Int, launcher: WorkerLauncher, endpoint: String, threads: Int, logs: URL,
                logger: Logger) throws {
        self.launcher = launcher
        self.endpoint = endpoint
        self.threads = threads
        self.logs = logs
        self.logger = logger
        maxRestarts = 3 * count
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for k in 0..<count { workers.append(try start(slot: k)) }
    }

    func logFile(slot: Int) -> URL { logs.appendingPathComponent("worker-\(slot).log") }

    func start(slot: Int) throws -> LocalWorker {
        try launcher.start(slot: slot, id: "local\(slot)-\(getpid())-\(restarts)", endpoint: endpoint,
                           threads: threads, log: logFile(slot: slot))
    }

    /// Restarts dead workers; returns a reason to stop when they cannot do the work: a worker
    /// exited with an error after saying goodbye (it cannot load the job), or restarts ran out.
    public func checkHealth(goodbyes: [String: String]) -> String? {
        for (slot, w) in workers.enumerated() where !w.isRunning {
            if let reason = goodbyes.values.first, w.terminationStatus != 0 {
                return "worker \(slot) stopped: \(reason) (log: \(logFile(slot: slot).path))"
            }
            guard restarts < maxRestarts else {
                return "workers keep dying (\(restarts) restarts); last exit status \(w.terminationStatus); see \(logs.path)"
            }
            restarts += 1
            logger.warning("run: worker \(slot) exited (status \(w.terminationStatus)); starting another",
                           metadata: ["slot": "\(slot)"])
            if let fresh = try? start(slot: slot) { workers[slot] = fresh }
        }
        return nil
    }

    public func waitForExit(seconds: Double) {
        let until = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < until && workers.contains(where: \.isRunning) { usleep(50_000) }
    }

    /// Asks every worker to stop, then kills those still running after 2 s.
    public func stop() {
        for w in workers where w.isRunning { w.terminate() }
        waitForExit(seconds: 2)
        for w in workers where w.isRunning { w.kill() }
    }
}
