import ArgumentParser
import Coordinator
import Foundation
import Storage
import Logging
import Shared

extension Circuits {
    struct Run: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trace a whole corpus on this machine: coordinator, local workers, merge and report.",
            discussion: """
            Starts a coordinator on a free loopback port and --workers worker processes (each a \
            `circuits worker`, logging to OUT/logs/), shows progress (prompts done and failed, rate, \
            ETA), then merges the shards into OUT/aggregate.h5 and writes OUT/report.json and \
            OUT/report.html. Interrupted (Ctrl-C) or killed, it resumes where it stopped when run \
            again with the same job and output folder. --log-level applies to the workers too; their \
            logs are timestamped.

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

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                SignalFlag.shared.install()
                let spec = try JobCheck.load(job, out: out)
                let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
                _ = try runLocally(spec, workers: workers ?? spec.workers, threads: threads, display: ProgressDisplay())
                print(RunCompletion.summary(try RunCompletion.finish(layout), layout: layout))
            }
        }
    }
}

/// Runs `spec` locally with the progress display (nil: quiet, as the pipeline benchmark wants).
/// A failure of the workers throws its reason; an interrupt prints how to resume and exits 130.
/// The workers get this process's `--log-level`.
func runLocally(_ spec: JobSpec, workers: Int, threads: Int?, display: ProgressDisplay?) throws -> LocalRun.Outcome {
    var last: RunProgress?
    let logger = Logger(label: "circuits.run")
    let quiet = Logger(label: "circuits.run", factory: { _ in SwiftLogNoOpLogHandler() })
    do {
        let outcome = try LocalRun.execute(spec, workers: workers, threads: threads,
                                           launcher: ProcessWorkerLauncher(logLevel: logger.logLevel),
                                           shouldStop: { SignalFlag.shared.isSet },
                                           onProgress: { last = $0; display?.show($0) },
                                           logger: display == nil ? quiet : logger,
                                           coordinatorLogger: display == nil ? quiet : Logger(label: "circuits.coordinator"))
        display?.finish(outcome.progress)
        return outcome
    } catch let stop as LocalRun.Stop {
        if let last { display?.finish(last) }
        guard stop == .interrupted else { throw stop }
        logger.notice("run: interrupted; run the same command again to resume")
        throw ExitCode(130)
    }
}
