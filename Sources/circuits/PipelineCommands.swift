import ArgumentParser
import Coordinator
import Foundation
import Logging
import Shared
import Storage
import Worker

extension Circuits {
    struct Coordinate: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "coordinator",
            abstract: "Serve a job's tasks to workers over ZeroMQ until the corpus is traced.",
            discussion: """
            Shards the job's corpus into tasks of prompts_per_task prompts, binds a ROUTER socket and \
            hands tasks to the workers that connect (`circuits worker --connect ...`). A task whose \
            worker stops heartbeating for lease_seconds goes to another worker. Every state change is \
            journaled in OUT/journal.jsonl: restarted with the same job and output folder, the \
            coordinator resumes without redoing completed tasks. Merge and report afterwards with \
            `circuits merge OUT` and `circuits report OUT`. Logs go to standard error (timestamped \
            when it is not a terminal); --log-level debug adds every task handed out and completed.

            Beyond loopback the coordinator needs CurveZMQ keys (`circuits keys --help`): only the \
            workers whose public keys are in KEYS/workers/ can connect, and they check the \
            coordinator's key. --insecure accepts any peer that can reach the port, unauthenticated \
            and unencrypted: only on a network you trust completely.

            Example:
              circuits coordinator jobs/demo.yaml --bind tcp://0.0.0.0:5555 --keys keys/coordinator
              circuits worker --connect tcp://coordinator-host:5555 --keys keys/worker-a   # on each worker machine
            """
        )

        @Argument(help: "The job spec (YAML).")
        var job: String

        @Option(help: "ZeroMQ endpoint to bind (tcp://HOST:PORT; port * picks a free one).")
        var bind: String = "tcp://127.0.0.1:5555"

        @Option(help: "Output folder (overrides the job's `output`).")
        var out: String?

        @Option(help: "CurveZMQ key folder: coordinator.key and workers/*.pub, the workers allowed to connect.")
        var keys: String?

        @Flag(help: "Bind beyond loopback without keys: any peer that reaches the port is served, unauthenticated.")
        var insecure = false

        @Option(help: "How workers deliver shards (overrides the job's shard_transfer): filesystem (they write into OUT, a shared filesystem) or zeromq (they send them over the connection).")
        var shardTransfer: ShardTransfer?

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                // Refuse an unauthenticated public bind before any work.
                let security = try keys.map { try TransportSecurity.coordinator(keys: URL(fileURLWithPath: $0)) } ?? .none
                try CoordinatorServer.checkBindPolicy(bind, security: security, insecure: insecure)
                SignalFlag.shared.install()
                var spec = try JobCheck.load(job, out: out)
                if let shardTransfer { spec.shardTransfer = shardTransfer }
                let logger = Logger(label: "circuits.coordinator")
                let server = try CoordinatorServer(job: spec, layout: RunLayout(root: URL(fileURLWithPath: spec.output)), logger: logger)
                defer { server.close() }
                let endpoint = try server.bind(bind, security: security, insecure: insecure)
                logger.info("coordinator: job \(spec.hash.prefix(12)) · \(server.plan.tasks.count) tasks · listening on \(endpoint) · shards by \(spec.shardTransfer.rawValue)")
                let display = ProgressDisplay(logger: logger)
                let final = try server.serve(shouldStop: { SignalFlag.shared.isSet }) { display.show($0) }
                display.finish(final)
                guard server.isFinished else { throw ExitCode(130) }
                logger.info("coordinator: finished; merge with `circuits merge \(spec.output)`")
            }
        }
    }

    struct WorkerCommand: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "worker",
            abstract: "Connect to a coordinator and trace the tasks it hands out.",
            discussion: """
            Receives the job from the coordinator, loads its model and transcoders once, then traces \
            task after task, writing one HDF5 shard per task into the job's output folder (which must \
            be on a filesystem the coordinator sees), or, when the job's shard_transfer (or \
            --shard-transfer) is zeromq, into a scratch folder of its own and sending it to the \
            coordinator over the connection (chunked, checksummed, resumed after a dropped \
            connection; no shared filesystem needed). Exits when the coordinator says the job is done.
            Logs go to standard error (timestamped, with worker and task metadata, when it is not a \
            terminal); --log-level debug adds the waits for the coordinator, trace every heartbeat.
            """
        )

        @Option(help: "The coordinator's endpoint, e.g. tcp://10.0.0.5:5555.")
        var connect: String

        @Option(help: "Threads for attribution (default: all cores).")
        var threads: Int?

        @Option(help: "Worker id in logs and the journal (default: host-pid-random).")
        var id: String?

        @Option(help: "Give up after the coordinator has been silent this many seconds.")
        var patience: Double = 120

        @Option(help: "CurveZMQ key folder: worker.key and coordinator.pub, the coordinator to trust.")
        var keys: String?

        @Flag(help: "Connect beyond loopback without keys: unauthenticated and unencrypted.")
        var insecure = false

        @Option(help: "How this worker delivers shards (overrides the job's shard_transfer): filesystem or zeromq.")
        var shardTransfer: ShardTransfer?

        @Option(help: "Folder for shards before they are sent (zeromq transfer; default: the temporary folder).")
        var scratch: String?

        @Option(help: "Upload at most this many MB (10^6 bytes) per second (zeromq transfer; default: no limit).")
        var uploadLimit: Double?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard patience.isFinite, patience > 0 else { throw ValidationError("--patience must be a positive number of seconds") }
            if let uploadLimit, !(uploadLimit.isFinite && uploadLimit >= 0.001) { throw ValidationError("--upload-limit must be at least 0.001 MB/s") }
            if let threads, !(1...4096).contains(threads) { throw ValidationError("--threads must be between 1 and 4096") }
        }

        func run() throws {
            try reportingErrors {
                ParentDeath.followParent()
                var options = WorkerNode.Options(endpoint: connect, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, workerID: id)
                options.patienceSeconds = patience
                options.security = try keys.map { try TransportSecurity.worker(keys: URL(fileURLWithPath: $0)) } ?? .none
                options.insecure = insecure
                options.shardTransfer = shardTransfer
                options.scratch = scratch.map { URL(fileURLWithPath: $0) }
                options.uploadBytesPerSecond = uploadLimit.map { $0 * 1e6 }
                _ = try WorkerNode(options: options, logger: Logger(label: "circuits.worker")).run()
            }
        }
    }

    struct Merge: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge a run's shards into OUT/aggregate.h5.",
            discussion: """
            Every prompt of the corpus appears exactly once: traced, failed with its reason, or \
            "not completed" when its task has no shard yet. Statistics are summed exactly and do not \
            depend on the order workers finished in.
            """
        )
        @Argument(help: "The run's output folder.")
        var outdir: String

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                let s = try Merger.merge(RunLayout(root: URL(fileURLWithPath: outdir)))
                print("merged \(s.shards) shards: \(s.promptsTotal) prompts, \(s.promptsDone) traced, \(s.promptsFailed) failed → \(outdir)/aggregate.h5")
            }
        }
    }

    struct Report: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write OUT/report.json and a self-contained OUT/report.html from aggregate.h5.",
            discussion: "Recurring features and edges, strongest embedding→logit paths, score distributions, per-prompt table, failed prompts."
        )
        @Argument(help: "The run's output folder.")
        var outdir: String

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                let layout = RunLayout(root: URL(fileURLWithPath: outdir))
                let r = try Reporter.write(layout)
                print("report: \(r.prompts_done)/\(r.prompts_total) traced, \(r.prompts_failed) failed → \(layout.reportHTML.path)")
            }
        }
    }

    struct Export: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one prompt's pruned graph as circuit-tracer/Neuronpedia graph JSON.",
            discussion: """
            The document is the one circuit-tracer's create_graph_files writes; open it in \
            circuit-tracer's local viewer or upload it to Neuronpedia. When the run has feature \
            dashboards, the feature file of every feature of the graph is written beside it, \
            features/<scan>/<feature>.json (circuit-tracer's feature JSON, `circuits features --help`), \
            so the viewer shows each feature's examples, histogram and logits.

            Example:
              circuits export out/demo --prompt p0007 --out p0007.json
            """
        )
        @Argument(help: "The run's output folder.")
        var outdir: String

        @Option(help: "The prompt id (the corpus `id`, or line-N for plain-text corpora).")
        var prompt: String

        @Option(help: "Output file (default: <prompt>.json in the current folder).")
        var out: String?

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                let data = try GraphExport.frontendJSON(RunLayout(root: URL(fileURLWithPath: outdir)), promptID: prompt)
                let url = URL(fileURLWithPath: out ?? graphSlug(promptID: prompt) + ".json")
                try data.write(to: url, options: .atomic)
                print("wrote \(url.path)")
                let layout = RunLayout(root: URL(fileURLWithPath: outdir))
                if FileManager.default.fileExists(atPath: layout.aggregate.path), try FeatureDashboardsFile.exists(in: layout.aggregate) {
                    let n = try FeatureFilesExport.write(graphJSON: data, dashboards: RunDashboards(aggregate: layout.aggregate),
                                                         into: url.deletingLastPathComponent())
                    print("wrote \(n) feature files under \(url.deletingLastPathComponent().appendingPathComponent("features").path)")
                }
            }
        }
    }
}

/// SIGINT/SIGTERM set a flag that long loops check, so they stop cleanly.
final class SignalFlag: @unchecked Sendable {
    static let shared = SignalFlag()
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var set = false

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in lock.lock(); set = true; lock.unlock() }
            source.resume()
            sources.append(source)
        }
    }
}

/// Progress on a terminal (one line redrawn in place), info log lines every 10 s otherwise.
final class ProgressDisplay {
    let terminal = isatty(STDERR_FILENO) == 1
    let logger: Logger
    var lastLog: ContinuousClock.Instant?
    var lastLine = ""

    init(logger: Logger = Logger(label: "circuits.run")) {
        self.logger = logger
    }

    func show(_ p: RunProgress) {
        let line = p.line
        if terminal {
            guard line != lastLine else { return }
            StatusLine.standardError.show(line)
        } else if lastLog.map({ ContinuousClock.now - $0 >= .seconds(10) }) ?? true || (p.tasksCompleted + p.tasksFailed == p.tasksTotal) {
            guard line != lastLine else { return }
            logger.info("progress: \(line)")
            lastLog = ContinuousClock.now
        }
        lastLine = line
    }

    func finish(_ p: RunProgress) {
        if terminal { StatusLine.standardError.clear() }
        logger.info("""
            done: \(p.promptsDone) prompts traced, \(p.promptsFailed) failed, \(p.tasksCompleted)/\(p.tasksTotal) tasks in \
            \(RunProgressFormat.duration(p.seconds))
            """)
    }
}

enum RunProgressFormat {
    static func duration(_ s: Double) -> String { s < 90 ? String(format: "%.1f s", s) : String(format: "%.1f min", s / 60) }
}

extension ShardTransfer: ExpressibleByArgument {}
