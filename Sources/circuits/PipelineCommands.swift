import ArgumentParser
import Coordinator
import Foundation
import Logging
import Shared
import Storage
import Tracer
import Worker

extension Circuits {
    struct Coordinate: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "coordinator",
            abstract: "Serve a job's tasks to workers over ZeroMQ, then merge the shards and write the report.",
            discussion: """
            Shards the job's corpus into tasks of prompts_per_task prompts, binds a ROUTER socket and \
            hands tasks to the workers that connect (`circuits worker --connect ...`). A task whose \
            worker stops heartbeating for lease_seconds goes to another worker. Every state change is \
            journaled in OUT/journal.jsonl: restarted with the same job and output folder, the \
            coordinator resumes without redoing completed tasks. When every task is settled it merges \
            the shards into OUT/aggregate.h5 and writes OUT/report.json and OUT/report.html, as \
            `circuits run` does, and exits 0; --no-merge stops after the tasks (then `circuits merge \
            OUT` and `circuits report OUT`, which also re-run either step). Logs go to standard error \
            (timestamped when it is not a terminal); --log-level debug adds every task handed out and \
            completed.

            Beyond loopback the coordinator needs CurveZMQ keys (`circuits keys --help`): only the \
            workers whose public keys are in KEYS/workers/ can connect, and they check the \
            coordinator's key. --insecure accepts any peer that can reach the port, unauthenticated \
            and unencrypted: only on a network you trust completely.

            --metrics-port serves, over HTTP on --metrics-host (loopback by default), /metrics in \
            Prometheus text format (tasks pending/leased/done/failed, prompts done/failed, prompts \
            per second, workers connected, lease expiries, shard bytes received, coordinator \
            handling time; all present from the start) and /health (200 and a JSON summary; 503 if \
            the serving loop stalls for a minute). Off by default.

            Example (coordinator; each worker machine; the coordinator's machine):
              circuits coordinator jobs/demo.yaml --bind tcp://0.0.0.0:5555 \\
                  --keys keys/coordinator --metrics-port 9464
              circuits worker --connect tcp://coordinator-host:5555 --keys keys/worker-a
              curl http://127.0.0.1:9464/metrics
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

        @Flag(help: "Stop when every task is settled, without merging or writing the report (`circuits merge`, `circuits report` do it later).")
        var noMerge = false

        @Option(help: ArgumentHelp("Serve /metrics (Prometheus) and /health over HTTP on this port (0: any free port, logged). Off by default.",
                                   valueName: "port"))
        var metricsPort: Int?

        @Option(help: ArgumentHelp("Address the metrics server binds (with --metrics-port). Anything but loopback exposes the job's progress to the network.",
                                   valueName: "host"))
        var metricsHost: String = "127.0.0.1"

        @Option(help: "How workers deliver shards (overrides the job's shard_transfer): filesystem (they write into OUT, a shared filesystem) or zeromq (they send them over the connection).")
        var shardTransfer: ShardTransfer?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let metricsPort, !(0...65535).contains(metricsPort) {
                throw ValidationError("--metrics-port must be between 0 and 65535 (got \(metricsPort))")
            }
            guard !metricsHost.isEmpty else { throw ValidationError("--metrics-host must not be empty") }
        }

        func run() throws {
            try reportingErrors {
                // Refuse an unauthenticated public bind before any work.
                let security = try keys.map { try TransportSecurity.coordinator(keys: URL(fileURLWithPath: $0)) } ?? .none
                try CoordinatorServer.checkBindPolicy(bind, security: security, insecure: insecure)
                SignalFlag.shared.install()
                var spec = try JobCheck.load(job, out: out)
                if let shardTransfer { spec.shardTransfer = shardTransfer }
                let logger = Logger(label: "circuits.coordinator")
                // Metrics first: /health answers (phase "starting") while a resume replays the
                // journal and re-hashes the accepted shards, and a port in use fails before any work.
                let metrics = metricsPort.map { _ in CoordinatorMetrics(jobHash: spec.hash) }
                let http = try metrics.map { try MetricsServer.start($0, host: metricsHost, port: metricsPort ?? 0) }
                defer { http?.stop() }
                if let http { logger.info("coordinator: metrics at \(http.address)/metrics, health at \(http.address)/health") }
                let layout = RunLayout(root: URL(fileURLWithPath: spec.output))
                let server = try CoordinatorServer(job: spec, layout: layout, logger: logger)
                defer { server.close() }
                let endpoint = try server.bind(bind, security: security, insecure: insecure)
                server.metrics = metrics
                logger.info("coordinator: job \(spec.hash.prefix(12)) · \(server.plan.tasks.count) tasks · listening on \(endpoint) · shards by \(spec.shardTransfer.rawValue)")
                let display = ProgressDisplay(logger: logger)
                let final = try server.serve(shouldStop: { SignalFlag.shared.isSet }) { display.show($0) }
                display.finish(final)
                guard server.isFinished else { throw ExitCode(130) }
                server.close()   // the workers were told; free the port before merging
                try finish(spec, layout: layout, metrics: metrics, logger: logger)
            }
        }

        /// Merges and reports (unless --no-merge or a global-weights block job), as `circuits run` does.
        func finish(_ spec: JobSpec, layout: RunLayout, metrics: CoordinatorMetrics?, logger: Logger) throws {
            defer { metrics?.enter(.finished) }
            let out = layout.root.path
            guard !noMerge else {
                logger.info("coordinator: finished (--no-merge); merge with `circuits merge \(out)`, then `circuits report \(out)`")
                return
            }
            guard RunCompletion.mergesIntoAggregate(spec) else {
                logger.info("coordinator: finished; `circuits global-weights \(layout.root.deletingLastPathComponent().path) --all` merges these blocks")
                return
            }
            metrics?.enter(.merging)
            logger.info("coordinator: every task settled; merging the shards and writing the report")
            do {
                print(RunCompletion.summary(try RunCompletion.finish(layout), layout: layout))
            } catch {
                throw RunError(reason: "every task is settled, but the run could not be merged: \(error) "
                               + "(once fixed, `circuits merge \(out) && circuits report \(out)`)")
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
                // The process's BLAS gets the worker's threads: forward passes, interventions and
                // statistics run on one thread, and OpenBLAS's default (every core) would put the
                // BLAS threads of each local worker on the cores of the others.
                setBLASThreads(options.threads)
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
            Writes <slug>.json (the document circuit-tracer's create_graph_files writes; the slug \
            is the file name without .json) and adds it to graph-metadata.json in the same folder, \
            so that the folder opens in circuit-tracer's local viewer as its data_dir \
            (`python -m circuit_tracer start-server --graph_file_dir FOLDER`). When the run has \
            feature dashboards, the feature file of every feature of the graph is written beside \
            it, features/<scan>/<feature>.json (circuit-tracer's feature JSON, `circuits features \
            --help`), and the graph's scan becomes ./data/features/<scan>, the path the viewer then \
            loads each feature's examples, histogram and logits from. --no-features keeps the \
            transcoders' own scan (e.g. to upload to Neuronpedia) and writes no feature files.

            Example:
              circuits export out/demo --prompt p0007 --out viewer/p0007.json
            """
        )
        @Argument(help: "The run's output folder.")
        var outdir: String

        @Option(help: "The prompt id (the corpus `id`, or line-N for plain-text corpora).")
        var prompt: String

        @Option(help: "Output file, <slug>.json (default: <prompt>.json in the current folder).")
        var out: String?

        @Flag(inversion: .prefixedNo, help: "Write the feature files of the graph's features and point its scan at them.")
        var features = true

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let out, !out.hasSuffix(".json") || URL(fileURLWithPath: out).lastPathComponent == ".json" {
                throw ValidationError("--out must name a <slug>.json file: circuit-tracer's viewer loads a graph as <slug>.json")
            }
        }

        func run() throws {
            try reportingErrors {
                let layout = RunLayout(root: URL(fileURLWithPath: outdir))
                let data = try GraphExport.frontendJSON(layout, promptID: prompt)
                let url = URL(fileURLWithPath: out ?? graphSlug(promptID: prompt) + ".json")
                let folder = url.deletingLastPathComponent()
                let withFeatures = try features && FileManager.default.fileExists(atPath: layout.aggregate.path)
                    && FeatureDashboardsFile.exists(in: layout.aggregate)
                let written = try GraphJSON.writeForViewer(data, source: "prompt '\(prompt)' in \(outdir)",
                                                           slug: url.deletingPathExtension().lastPathComponent,
                                                           localFeatures: withFeatures, to: folder)
                print("wrote \(written.graph.path) and \(folder.appendingPathComponent(GraphJSON.indexFileName).path)")
                if withFeatures {
                    let n = try FeatureFilesExport.write(graphJSON: data, dashboards: RunDashboards(aggregate: layout.aggregate), into: folder)
                    print("wrote \(n) feature files under \(folder.appendingPathComponent("features").appendingPathComponent(written.storedScan).path)")
                } else if features {
                    print("the run has no feature dashboards: no feature files written, scan '\(written.storedScan)' kept")
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
