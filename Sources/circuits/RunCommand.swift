import ArgumentParser
import Coordinator
import Foundation
import Shared

extension Circuits {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trace a whole corpus on this machine: coordinator, local workers, merge and report.",
            discussion: """
            Starts a coordinator on a free loopback port and --workers worker processes (each a \
            `circuits worker`, logging to OUT/logs/), shows progress (prompts done and failed, rate, \
            ETA), then merges the shards into OUT/aggregate.h5 and writes OUT/report.json and \
            OUT/report.html. Interrupted (Ctrl-C) or killed, it resumes where it stopped when run \
            again with the same job and output folder.

            Example:
              circuits run jobs/demo.yaml --workers 2
            """
        )

        @Argument(help: "The job spec (YAML).")
        var job: String

        @Option(help: "Local worker processes (default: the job's `workers`).")
        var workers: Int?

        @Option(help: "Attribution threads per worker (default: cores / workers, at least 1).")
        var threads: Int?

        @Option(help: "Output folder (overrides the job's `output`).")
        var out: String?

        func validate() throws {
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                SignalFlag.shared.install()
                let spec = try JobCheck.load(job, out: out)
                let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
                _ = try LocalRun.execute(spec, workers: workers ?? spec.workers, threads: threads, display: ProgressDisplay())
                let merged = try Merger.merge(layout)
                let report = try Reporter.write(layout)
                print("""
                traced \(merged.promptsDone) of \(merged.promptsTotal) prompts (\(merged.promptsFailed) failed)
                  aggregate: \(layout.aggregate.path)
                  report:    \(layout.reportHTML.path)
                  mean replacement score \(report.mean_replacement_score.map { String(format: "%.4f", $0) } ?? "–"), \
                completeness \(report.mean_completeness_score.map { String(format: "%.4f", $0) } ?? "–")
                """)
            }
        }
    }
}

/// A coordinator in this process and worker processes beside it, until the job is settled.
enum LocalRun {
    struct Outcome {
        var progress: RunProgress
        /// Seconds the coordinator spent handling messages.
        var coordinatorSeconds: Double
        var wallSeconds: Double
    }

    static func execute(_ spec: JobSpec, workers n: Int, threads: Int?, display: ProgressDisplay?) throws -> Outcome {
        let start = Date()
        let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
        let server = try CoordinatorServer(job: spec, layout: layout, log: display == nil ? { _ in } : log)
        defer { server.close() }
        let endpoint = try server.bind("tcp://127.0.0.1:*")
        let perWorker = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / n)
        if display != nil {
            log("run: job \(spec.hash.prefix(12)) · \(server.plan.promptCount) prompts in \(server.plan.tasks.count) tasks · "
                + "\(n) workers × \(perWorker) threads · output \(spec.output)")
        }
        let pool = try WorkerPool(count: n, endpoint: endpoint, threads: perWorker, logs: layout.logs)
        defer { pool.stop() }

        var failure: String?
        let final = try server.serve(shouldStop: {
            if SignalFlag.shared.isSet { return true }
            if let reason = pool.checkHealth(goodbyes: server.goodbyes) { failure = reason; return true }
            return false
        }) { display?.show($0) }
        display?.finish(final)
        if let failure { throw RunError(reason: failure) }
        guard server.isFinished else {
            log("run: interrupted; run the same command again to resume")
            throw ExitCode(130)
        }
        pool.waitForExit(seconds: 5)
        return Outcome(progress: final, coordinatorSeconds: server.handlingSeconds, wallSeconds: Date().timeIntervalSince(start))
    }
}

struct RunError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// The local worker processes of `circuits run`: started as `circuits worker`, restarted when
/// one dies (a crash or a kill), given up on when they keep dying.
final class WorkerPool {
    let endpoint: String
    let threads: Int
    let logs: URL
    var processes: [Process] = []
    var restarts = 0
    let maxRestarts: Int

    init(count: Int, endpoint: String, threads: Int, logs: URL) throws {
        self.endpoint = endpoint
        self.threads = threads
        self.logs = logs
        maxRestarts = 3 * count
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for k in 0..<count { processes.append(try start(slot: k)) }
    }

    func start(slot: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--id", "local\(slot)-\(getpid())-\(restarts)"]
        let logURL = logs.appendingPathComponent("worker-\(slot).log")
        if !FileManager.default.fileExists(atPath: logURL.path) { FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        p.standardError = handle
        p.standardOutput = handle
        try p.run()
        return p
    }

    /// Restarts dead workers; returns a reason to stop when they cannot do the work.
    func checkHealth(goodbyes: [String: String]) -> String? {
        for (slot, p) in processes.enumerated() where !p.isRunning {
            if let reason = goodbyes.values.first, p.terminationStatus != 0 {
                return "worker \(slot) stopped: \(reason) (log: \(logs.appendingPathComponent("worker-\(slot).log").path))"
            }
            guard restarts < maxRestarts else {
                return "workers keep dying (\(restarts) restarts); last exit status \(p.terminationStatus); see \(logs.path)"
            }
            restarts += 1
            log("run: worker \(slot) exited (status \(p.terminationStatus)); starting another")
            if let fresh = try? start(slot: slot) { processes[slot] = fresh }
        }
        return nil
    }

    func waitForExit(seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until && processes.contains(where: \.isRunning) { usleep(50_000) }
    }

    func stop() {
        for p in processes where p.isRunning { p.terminate() }
        waitForExit(seconds: 2)
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }
}
