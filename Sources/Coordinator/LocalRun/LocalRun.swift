import Foundation
import Logging
import Shared
import Storage

/// A coordinator in this process and workers beside it (`circuits run`), until the job is
/// settled or `shouldStop` says so.
public enum LocalRun {
    public struct Outcome: Sendable {
        public var progress: RunProgress
        /// Seconds the coordinator spent on the workers' messages: its loop handling them, plus
        /// the shard checks on its verifier threads (wall time of each).
        public var coordinatorSeconds: Double
        public var wallSeconds: Double
    }

    /// Why a local run stopped before the job was settled.
    public enum Stop: Error, CustomStringConvertible, Equatable {
        /// The workers cannot do the work (the reason names the worker and its log).
        case workersFailed(String)
        /// `shouldStop` returned true (a signal); running again resumes.
        case interrupted

        public var description: String {
            switch self {
            case let .workersFailed(reason): return reason
            case .interrupted: return "run interrupted; run the same command again to resume"
            }
        }
    }

    /// Runs `spec` with `workers` local workers of `threads` attribution threads each (default:
    /// cores / workers). `onProgress` sees every progress update; `logger` gets the run's lines
    /// (label `circuits.run`), `coordinatorLogger` the coordinator's (`circuits.coordinator`);
    /// both default to nowhere.
    /// - Throws: `Stop` when the workers fail or `shouldStop` fires; coordinator errors as they are.
    public static func execute(_ spec: JobSpec, workers n: Int, threads: Int?,
                               launcher: WorkerLauncher = ProcessWorkerLauncher(),
                               shouldStop: @escaping () -> Bool = { false },
                               onProgress: (RunProgress) -> Void = { _ in },
                               logger: Logger = Logger(label: "circuits.run", factory: { _ in SwiftLogNoOpLogHandler() }),
                               coordinatorLogger: Logger = Logger(label: "circuits.coordinator", factory: { _ in SwiftLogNoOpLogHandler() })) throws -> Outcome {
        let start = ContinuousClock.now
        let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
        let server = try CoordinatorServer(job: spec, layout: layout, logger: coordinatorLogger)
        defer { server.close() }
        let endpoint = try server.bind("tcp://127.0.0.1:*")
        let perWorker = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / n)
        logger.info("""
            run: job \(spec.hash.prefix(12)) · \(server.plan.promptCount) prompts in \(server.plan.tasks.count) tasks · \
            \(n) workers × \(perWorker) threads · output \(spec.output)
            """)
        let pool = try WorkerPool(count: n, launcher: launcher, endpoint: endpoint, threads: perWorker, logs: layout.logs, logger: logger)
        defer { pool.stop() }

        var failure: String?
        let final = try server.serve(shouldStop: {
            if shouldStop() { return true }
            if let reason = pool.checkHealth(goodbyes: server.goodbyes) { failure = reason; return true }
            return false
        }, onProgress: onProgress)
        if let failure { throw Stop.workersFailed(failure) }
        guard server.isFinished else { throw Stop.interrupted }
        pool.waitForExit(seconds: 5)
        return Outcome(progress: final, coordinatorSeconds: server.handlingSeconds + server.verificationTime.wall,
                       wallSeconds: (ContinuousClock.now - start).seconds)
    }
}
