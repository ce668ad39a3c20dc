import ArgumentParser
import Coordinator
import Foundation
import Logging
import Shared

extension Circuits.Bench {
    struct CoordinatorLoad: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "coordinator",
            abstract: "The coordinator under many workers: dispatch rate, time per task, latency, journal replay.",
            discussion: """
            Runs a real coordinator on loopback TCP and --workers simulated workers in a child process \
            (this executable; --workers-in-process: threads of this one): real ZeroMQ clients (spread \
            over several ZeroMQ contexts, libzmq allows 1,023 sockets per context) that follow the real \
            protocol and hand in small valid shards made before the clock starts, without tracing. \
            Measures tasks per second, the wall time of the coordinator's message loop per task \
            (dispatch, settling checked shards: rename, journal), the wall time per task of the shard \
            checks (sha256, HDF5) on the verifier threads beside the loop, the CPU time per task of the \
            coordinator process and of the workers, the latency from a worker's ready to its task (p50, \
            p99), tasks lost or completed twice (from the journal), journal size and peak memory; then \
            times the replay of a synthetic journal of --replay-tasks completed tasks, as a restarted \
            coordinator reads it. The last line is one JSON object with the same numbers.

            Example (release build):
              swift build -c release && .build/release/circuits bench coordinator --workers 1000
            """
        )
        @Option(help: "Simulated workers.") var workers: Int = 1000
        @Option(help: "Tasks of the job (one shard each).") var tasks: Int = 10_000
        @Option(help: "Prompts per task.") var promptsPerTask: Int = 1
        @Option(help: "Completed tasks in the replayed journal.") var replayTasks: Int = 1_000_000
        @Option(help: "Serve the coordinator's metrics and scrape /metrics this many times a second during the run (0: off).")
        var metricsScrapesPerSecond: Double = 0
        @Option(help: "Threads checking shards beside the coordinator's loop (default: one per core beyond the first, 1 to 4).")
        var verifierThreads: Int?
        @Flag(help: "Run the simulated workers on threads of this process instead of a child process (their CPU time is then this process's too).")
        var workersInProcess = false

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                guard workers >= 1, workers <= 20_000 else { throw ValidationError("--workers: from 1 to 20000") }
                guard tasks >= 1, promptsPerTask >= 1, replayTasks >= 1 else { throw ValidationError("--tasks, --prompts-per-task and --replay-tasks must be at least 1") }
                guard metricsScrapesPerSecond.isFinite, (0...10_000).contains(metricsScrapesPerSecond) else {
                    throw ValidationError("--metrics-scrapes-per-second: from 0 to 10000")
                }
                if let verifierThreads, !(1...64).contains(verifierThreads) { throw ValidationError("--verifier-threads: from 1 to 64") }
                var bench = CoordinatorBenchmark()
                bench.verifierThreads = verifierThreads
                if !workersInProcess { bench.workerExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }
                bench.workers = workers; bench.tasks = tasks; bench.promptsPerTask = promptsPerTask; bench.replayTasks = replayTasks
                bench.metricsScrapesPerSecond = metricsScrapesPerSecond
                let r = try bench.run(logger: Logger(label: "circuits.bench"))
                print(String(format: """
                workers              %d (simulated, real ZeroMQ clients)
                tasks                %d in %.2f s: %.0f tasks/s
                coordinator          %.3f ms per task: %.3f handling messages (loop), %.3f checking shards (%d verifier threads)
                CPU per task         coordinator %.3f ms (loop %.3f, verifiers %.3f), workers %.3f ms; load average %.2f
                ready → task         p50 %.2f ms, p99 %.2f ms
                lost / duplicated    %d / %d (handed out again: %d)
                journal              %d bytes; replay of %d completed tasks: %.2f s
                peak RSS             %.2f GB
                """, r.workers, r.tasks, r.wall_s, r.tasks_per_s, r.coordinator_ms_per_task, r.loop_ms_per_task, r.verify_ms_per_task, r.verifier_threads,
                       r.coordinator_cpu_ms_per_task, r.loop_cpu_ms_per_task, r.verify_cpu_ms_per_task, r.workers_cpu_ms_per_task,
                       r.load_average, r.p50_ms, r.p99_ms,
                       r.lost, r.duplicated, r.handed_out_again, r.journal_bytes, r.replay_tasks, r.replay_s, Double(r.peak_rss_bytes) / 1e9))
                if metricsScrapesPerSecond > 0 {
                    print(String(format: "metrics              %d scrapes of /metrics during the run, slowest %.1f ms", r.metrics_scrapes, r.metrics_scrape_max_ms))
                }
                try printJSONLine(r)
            }
        }
    }
}

extension Circuits.Bench {
    /// The simulated workers of `bench coordinator`, in the child process it starts.
    struct SimulatedWorkersCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "simulated-workers",
            abstract: "The simulated workers of `circuits bench coordinator` (started by it).",
            shouldDisplay: false
        )
        @Option(help: "The plan file `bench coordinator` wrote.") var plan: String
        @Option(help: "Where to write the workers' report.") var report: String

        func run() throws {
            ParentDeath.followParent()
            do {
                try SimulatedWorkerProcess.main(plan: URL(fileURLWithPath: plan), report: URL(fileURLWithPath: report))
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
