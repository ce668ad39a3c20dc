import Foundation
import Storage

/// A corpus job, read from `jobs/*.yaml`: what to trace, with which parameters, into which folder.
///
/// ```yaml
/// model: ../models/demo            # Hugging Face folder (config.json, *.safetensors, tokenizer.json)
/// transcoders: ../models/demo/plt  # circuit-tracer transcoder folder (config.yaml)
/// corpus: demo_corpus.jsonl        # JSONL {"id", "prompt"} or plain text, one prompt a line
/// output: ../out/demo              # shards, journal, aggregate.h5, report.json, report.html
/// prompts_per_task: 8
/// workers: 2                       # local workers of `circuits run`
/// lease_seconds: 120               # a task whose worker is silent this long goes to another worker
/// heartbeat_seconds: 2
/// attribution: {max_logits: 10, logit_prob: 0.95, max_feature_nodes: null, batch_size: 256, update_interval: 4}
/// pruning: {node_threshold: 0.8, edge_threshold: 0.98, keep_full_graphs: false}
/// shard_transfer: filesystem       # or zeromq: workers send shards over the connection
/// ```
///
/// An Edge Attribution Patching job (`EAP`) names `pairs:` (a JSONL file of clean/corrupt prompt
/// pairs, held in `corpus`) instead of `corpus:`, and an `eap:` section instead of the
/// transcoders and the graph parameters:
///
/// ```yaml
/// model: ../models/demo/model
/// pairs: eap-two-hop.jsonl          # {"id", "clean", "corrupt", "answer", "wrong"} a line
/// output: ../out/eap-demo
/// prompts_per_task: 8               # pairs per task
/// eap: {metric: logit-diff, ig_steps: 0, exact: false}
/// ```
///
/// Relative paths are resolved against the folder holding the YAML file. `validate()` checks
/// every field before a job starts; its errors name the field.
public struct JobSpec: Codable, Sendable, Equatable {
    /// Defaults and ranges live in Storage's `AttributionParameters` / `PruningParameters`.
    public typealias Attribution = AttributionParameters
    public typealias Pruning = PruningParameters
    /// Corpus statistics (global weights): whether prompts are attributed at all, and the
    /// target features whose co-activation with every earlier-layer feature is counted.
    public struct Statistics: Codable, Sendable, Equatable {
        /// false: forward passes and transcoder activations only (no graphs), much cheaper.
        public var attribution: Bool = true
        /// `[layer, feature]` pairs; empty: no pair statistics.
        public var targets: [[Int]] = []
        /// Feature dashboards (top contexts, histograms, quantile samples, logits) in every shard.
        public var dashboards: Bool = true
        /// Top-activating contexts kept per feature.
        public var dashboardTopK: Int = DashboardParameters().topK
        /// Whether shards keep every position's transcoder activations (`/stats/activations`),
        /// the input of `global-weights --all`.
        public var activations: Bool = false
        public init() {}

        enum CodingKeys: String, CodingKey { case attribution, targets, dashboards, dashboardTopK, activations }
        /// Fields added in later versions take their defaults.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            attribution = try c.decodeIfPresent(Bool.self, forKey: .attribution) ?? attribution
            targets = try c.decodeIfPresent([[Int]].self, forKey: .targets) ?? targets
            dashboards = try c.decodeIfPresent(Bool.self, forKey: .dashboards) ?? dashboards
            dashboardTopK = try c.decodeIfPresent(Int.self, forKey: .dashboardTopK) ?? dashboardTopK
            activations = try c.decodeIfPresent(Bool.self, forKey: .activations) ?? false
        }

        /// `activations` only when set, so the hash of a job without it does not depend on it.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(attribution, forKey: .attribution)
            try c.encode(targets, forKey: .targets)
            try c.encode(dashboards, forKey: .dashboards)
            try c.encode(dashboardTopK, forKey: .dashboardTopK)
            if activations { try c.encode(activations, forKey: .activations) }
        }

        /// The dashboard parameters of the job, nil when dashboards are off.
        public var dashboardParameters: DashboardParameters? {
            dashboards ? DashboardParameters(topK: dashboardTopK) : nil
        }
    }

    /// A global-weights block job (`global-weights --all` through the coordinator): its corpus
    /// lists blocks of target tiles, one a line (`tiles A B`); workers compute their partner lists.
    public struct GlobalBlocks: Codable, Sendable, Equatable {
        /// The corpus's activations (`/stats/activations`), an absolute path.
        public var activations: String
        /// Partners kept per feature, direction and ranking.
        public var topK: Int
        /// Targets per tile (`AllPartners.tiles`).
        public var tileSize: Int
        public init(activations: String, topK: Int, tileSize: Int) {
            self.activations = activations; self.topK = topK; self.tileSize = tileSize
        }
    }

    /// Graph evaluation (`evaluation:`; absent: off): per prompt, path lengths, perturbation
    /// fidelity and causal agreement with `features` ablations per check; with `facts`, a second
    /// phase swaps each two-hop prompt's bridge entity by intervention.
    public struct Evaluation: Codable, Sendable, Equatable {
        /// N: features ablated per check (`GraphEvaluation`).
        public var features: Int = 10
        /// Absolute path of a facts file (`models/demo/facts.json`), enabling the bridge swap;
        /// read by the coordinator only.
        public var facts: String?
        public init(features: Int = 10, facts: String? = nil) { self.features = features; self.facts = facts }

        /// Bounds of `features` (a peer's job is checked against them too).
        public static let featureRange = 1...10_000
    }

    /// Edge Attribution Patching over prompt pairs (`eap:`; the job's `corpus` is then its
    /// `pairs:` file and `transcoders` is empty): every pair's edge scores, summed per task into
    /// the shard's `/eap` group (`EdgeScoreSums`).
    public struct EAP: Codable, Sendable, Equatable {
        /// The task metric: `logit-diff` (answer minus wrong logit), `prob`, `kl` (Tracer's `EAPMetric`).
        public var metric: String = "logit-diff"
        /// EAP-IG's interpolation steps; 0: EAP-IG not run.
        public var igSteps: Int = 0
        /// Whether every edge is also patched exactly (one forward per edge and pair: small models only).
        public var exact: Bool = false
        public init(metric: String = "logit-diff", igSteps: Int = 0, exact: Bool = false) {
            self.metric = metric; self.igSteps = igSteps; self.exact = exact
        }

        /// The metric names Tracer's `EAPMetric` accepts (a test keeps the two lists equal).
        public static let metrics = ["logit-diff", "prob", "kl"]
        /// Bounds of `igSteps`.
        public static let igStepRange = 0...1000

        /// Why this section is invalid (field under `eap.`, reason), nil when it is valid.
        var problem: (field: String, reason: String)? {
            guard Self.metrics.contains(metric) else { return ("eap.metric", "expected one of \(Self.metrics.joined(separator: ", ")), found \(metric)") }
            guard Self.igStepRange.contains(igSteps) else {
                return ("eap.ig_steps", "\(igSteps) is outside \(Self.igStepRange.lowerBound)...\(Self.igStepRange.upperBound)")
            }
            return nil
        }
    }

    /// Absolute paths.
    public var model: String
    public var transcoders: String
    public var corpus: String
    public var output: String
    public var promptsPerTask: Int = 8
    public var workers: Int = 2
    public var leaseSeconds: Double = 120
    public var heartbeatSeconds: Double = 2
    public var attribution = Attribution()
    public var pruning = Pruning()
    /// `pruning.keep_full_graphs`: shards keep every traced prompt's unpruned graph beside the
    /// pruned one (`FullGraph`), so `circuits serve` can re-prune it both ways. Off by default
    /// (and then absent from the encoding, so the hash of a job without it does not depend on it).
    public var keepFullGraphs = false
    public var statistics = Statistics()
    /// nil: no evaluation.
    public var evaluation: Evaluation?
    /// Set only for a global-weights block job (absent from the encoding otherwise, so hashes stay).
    public var globalBlocks: GlobalBlocks?
    /// Set only for an EAP job (`pairs:`; absent from the encoding otherwise, so hashes stay).
    public var eap: EAP?
    /// How shards reach the output folder (`ShardTransfer`); how, not what: not in `hash`, and
    /// absent from the encoding when `filesystem`.
    public var shardTransfer: ShardTransfer = .filesystem

    public init(model: String, transcoders: String, corpus: String, output: String) {
        self.model = model; self.transcoders = transcoders; self.corpus = corpus; self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case model, transcoders, corpus, output, promptsPerTask, workers, leaseSeconds, heartbeatSeconds, attribution, pruning, statistics, evaluation
        case globalBlocks, keepFullGraphs, shardTransfer, eap
    }

    /// Decodes `job.json`; fields added in later versions take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        transcoders = try c.decode(String.self, forKey: .transcoders)
        corpus = try c.decode(String.self, forKey: .corpus)
        output = try c.decode(String.self, forKey: .output)
        promptsPerTask = try c.decodeIfPresent(Int.self, forKey: .promptsPerTask) ?? promptsPerTask
        workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? workers
        leaseSeconds = try c.decodeIfPresent(Double.self, forKey: .leaseSeconds) ?? leaseSeconds
        heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? heartbeatSeconds
        attribution = try c.decodeIfPresent(Attribution.self, forKey: .attribution) ?? attribution
        pruning = try c.decodeIfPresent(Pruning.self, forKey: .pruning) ?? pruning
        statistics = try c.decodeIfPresent(Statistics.self, forKey: .statistics) ?? statistics
        evaluation = try c.decodeIfPresent(Evaluation.self, forKey: .evaluation)
        globalBlocks = try c.decodeIfPresent(GlobalBlocks.self, forKey: .globalBlocks)
        eap = try c.decodeIfPresent(EAP.self, forKey: .eap)
        keepFullGraphs = try c.decodeIfPresent(Bool.self, forKey: .keepFullGraphs) ?? false
        shardTransfer = try c.decodeIfPresent(ShardTransfer.self, forKey: .shardTransfer) ?? .filesystem
    }

    /// Fields that are off (`keepFullGraphs`), at their default (`shardTransfer`) or absent
    /// (`evaluation`, `globalBlocks`) are left out, so that the encoding (and the hash) of a job
    /// that does not use them is what it was before they existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(transcoders, forKey: .transcoders)
        try c.encode(corpus, forKey: .corpus)
        try c.encode(output, forKey: .output)
        try c.encode(promptsPerTask, forKey: .promptsPerTask)
        try c.encode(workers, forKey: .workers)
        try c.encode(leaseSeconds, forKey: .leaseSeconds)
        try c.encode(heartbeatSeconds, forKey: .heartbeatSeconds)
        try c.encode(attribution, forKey: .attribution)
        try c.encode(pruning, forKey: .pruning)
        try c.encode(statistics, forKey: .statistics)
        try c.encodeIfPresent(evaluation, forKey: .evaluation)
        try c.encodeIfPresent(globalBlocks, forKey: .globalBlocks)
        try c.encodeIfPresent(eap, forKey: .eap)
        if keepFullGraphs { try c.encode(keepFullGraphs, forKey: .keepFullGraphs) }
        if shardTransfer != .filesystem { try c.encode(shardTransfer, forKey: .shardTransfer) }
    }

    /// What identifies the work: everything but where it is written and how many local workers
    /// run it. Shards carry it; a shard of another job is never merged.
    public var hash: String {
        var identity = self
        identity.output = ""
        identity.workers = 0
        identity.leaseSeconds = 0
        identity.heartbeatSeconds = 0
        identity.shardTransfer = .filesystem
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SHA256Digest.hex(of: (try? encoder.encode(identity)) ?? Data())
    }

    /// Reads and validates a job spec. The YAML is read strictly (`StrictYAML`): a repeated key
    /// or an alias of a list or mapping is an error naming the file.
    public static func load(_ url: URL) throws -> JobSpec {
        let path = url.path
        let parsed: Any?
        do { parsed = try StrictYAML.load(contentsOf: url) } catch let error as StrictYAMLError {
            throw JobSpecError(file: path, field: error.key, reason: error.reason)
        }
        guard let dict = parsed as? [String: Any] else {
            throw JobSpecError(file: path, field: nil, reason: "expected a mapping of fields (model, transcoders, corpus, output, ...)")
        }
        let base = url.deletingLastPathComponent()
        if dict["pairs"] != nil || dict["eap"] != nil { return try JobSpec(eapFields: dict, file: path, base: base) }
        return try JobSpec(fields: dict, file: path, base: base)
    }

    init(fields dict: [String: Any], file: String, base: URL) throws {
        let reader = FieldReader(dict: dict, file: file, base: base, prefix: "")
        model = try reader.path("model")
        transcoders = try reader.path("transcoders")
        corpus = try reader.path("corpus")
        output = try reader.path("output")
        promptsPerTask = try reader.int("prompts_per_task", default: 8, range: 1...1_000_000)
        workers = try reader.int("workers", default: 2, range: 1...1024)
        leaseSeconds = try reader.double("lease_seconds", default: 120, range: 1...1e6)
        heartbeatSeconds = try reader.double("heartbeat_seconds", default: 2, range: 0.05...1e5)
        if let problem = timingProblem { throw JobSpecError(file: file, field: problem.field, reason: problem.reason) }
        let a = try reader.section("attribution", keys: ["max_logits", "logit_prob", "max_feature_nodes", "batch_size", "update_interval"])
        // Types here; ranges in `validate()` of the parameters, shared with the CLI and the engine.
        let defaults = Attribution(), any = Int.min...Int.max
        attribution.maxLogits = try a.int("max_logits", default: defaults.maxLogits, range: any)
        attribution.logitProb = try a.double("logit_prob", default: defaults.logitProb, range: -.infinity...(.infinity))
        attribution.maxFeatureNodes = try a.optionalInt("max_feature_nodes", range: any)
        attribution.batchSize = try a.int("batch_size", default: defaults.batchSize, range: any)
        attribution.updateInterval = try a.int("update_interval", default: defaults.updateInterval, range: any)
        let p = try reader.section("pruning", keys: ["node_threshold", "edge_threshold", "keep_full_graphs"])
        pruning.nodeThreshold = try p.double("node_threshold", default: Pruning().nodeThreshold, range: -.infinity...(.infinity))
        pruning.edgeThreshold = try p.double("edge_threshold", default: Pruning().edgeThreshold, range: -.infinity...(.infinity))
        keepFullGraphs = try p.bool("keep_full_graphs", default: false)
        try checkGraphParameters(file: file)
        let st = try reader.section("statistics", keys: ["attribution", "targets", "dashboards", "dashboard_top_k", "activations"])
        statistics.attribution = try st.bool("attribution", default: true)
        if keepFullGraphs && !statistics.attribution {
            throw JobSpecError(file: file, field: "pruning.keep_full_graphs", reason: "full graphs need graphs: statistics.attribution must be true")
        }
        statistics.targets = try st.featureList("targets")
        if let raw = dict["evaluation"], !(raw is NSNull) {
            let ev = try reader.section("evaluation", keys: ["features", "facts"])
            let r = Evaluation.featureRange
            evaluation = Evaluation(features: try ev.int("features", default: 10, range: r),
                                    facts: ev.dict["facts"] == nil ? nil : try ev.path("facts"))
            if evaluation?.facts != nil && !statistics.attribution {
                throw JobSpecError(file: file, field: "evaluation.facts", reason: "the bridge swap needs graphs: statistics.attribution must be true")
            }
        }
        statistics.dashboards = try st.bool("dashboards", default: true)
        statistics.dashboardTopK = try st.int("dashboard_top_k", default: statistics.dashboardTopK, range: 1...1000)
        statistics.activations = try st.bool("activations", default: false)
        if dict["global_blocks"] != nil {
            let g = try reader.section("global_blocks", keys: ["activations", "top_k", "tile_size"])
            globalBlocks = GlobalBlocks(activations: try g.path("activations"), topK: try g.int("top_k", default: 32, range: 1...100_000),
                                        tileSize: try g.int("tile_size", default: 256, range: 1...1_000_000))
        }
        if let raw = dict["shard_transfer"], !(raw is NSNull) {
            let names = ShardTransfer.allCases.map(\.rawValue)
            guard let name = raw as? String, let mode = ShardTransfer(rawValue: name) else {
                throw JobSpecError(file: file, field: "shard_transfer", reason: "expected one of \(names.joined(separator: ", ")), found \(raw)")
            }
            shardTransfer = mode
        }
        try reader.rejectUnknown(["model", "transcoders", "corpus", "output", "prompts_per_task", "workers", "lease_seconds",
                                  "heartbeat_seconds", "attribution", "pruning", "statistics", "evaluation", "global_blocks", "shard_transfer"])
    }

    /// An EAP job: `pairs` instead of `corpus`, an `eap` section, no transcoders and none of the
    /// attribution graph's sections (each named in its error when present).
    init(eapFields dict: [String: Any], file: String, base: URL) throws {
        let reader = FieldReader(dict: dict, file: file, base: base, prefix: "")
        let common = ["model", "pairs", "output", "prompts_per_task", "workers", "lease_seconds", "heartbeat_seconds", "eap", "shard_transfer"]
        for key in ["corpus", "transcoders", "attribution", "pruning", "statistics", "evaluation", "global_blocks"] where dict[key] != nil {
            throw JobSpecError(file: file, field: key, reason: key == "corpus"
                               ? "an EAP job reads prompt pairs: give `pairs:` or `corpus:`, not both"
                               : "not used by an EAP job (`pairs:`): remove it (an EAP job has \(common.joined(separator: ", ")))")
        }
        self.init(model: try reader.path("model"), transcoders: "", corpus: try reader.path("pairs"), output: try reader.path("output"))
        promptsPerTask = try reader.int("prompts_per_task", default: 8, range: 1...1_000_000)
        workers = try reader.int("workers", default: 2, range: 1...1024)
        leaseSeconds = try reader.double("lease_seconds", default: 120, range: 1...1e6)
        heartbeatSeconds = try reader.double("heartbeat_seconds", default: 2, range: 0.05...1e5)
        if let problem = timingProblem { throw JobSpecError(file: file, field: problem.field, reason: problem.reason) }
        let e = try reader.section("eap", keys: ["metric", "ig_steps", "exact"])
        var spec = EAP()
        if let raw = e.dict["metric"], !(raw is NSNull) {
            guard let name = raw as? String else { throw JobSpecError(file: file, field: "eap.metric", reason: "expected one of \(EAP.metrics.joined(separator: ", ")), found \(raw)") }
            spec.metric = name
        }
        spec.igSteps = try e.int("ig_steps", default: 0, range: EAP.igStepRange)
        spec.exact = try e.bool("exact", default: false)
        if let problem = spec.problem { throw JobSpecError(file: file, field: problem.field, reason: problem.reason) }
        eap = spec
        // No transcoders: no statistics, no dashboards.
        statistics.dashboards = false
        if let raw = dict["shard_transfer"], !(raw is NSNull) {
            let names = ShardTransfer.allCases.map(\.rawValue)
            guard let name = raw as? String, let mode = ShardTransfer(rawValue: name) else {
                throw JobSpecError(file: file, field: "shard_transfer", reason: "expected one of \(names.joined(separator: ", ")), found \(raw)")
            }
            shardTransfer = mode
        }
        try reader.rejectUnknown(common)
    }

    /// The field naming the job's corpus in its YAML: `pairs` for an EAP job, else `corpus`.
    public var corpusField: String { eap == nil ? "corpus" : "pairs" }

    /// Checks what a job received over the wire must satisfy before a worker acts on it: absolute,
    /// normalised paths (no `..`), sane numbers, valid graph parameters. `source` names where
    /// it came from in the error.
    public func validate(source: String) throws {
        // An EAP job has no transcoders.
        for (field, path) in [("model", model), ("transcoders", transcoders), (corpusField, corpus), ("output", output)] where !(eap != nil && field == "transcoders") {
            guard path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
                  !path.contains("\0") else {
                throw JobSpecError(file: source, field: field, reason: "must be an absolute path without '.' or '..' components (got \(path))")
            }
        }
        guard (1...1_000_000).contains(promptsPerTask) else {
            throw JobSpecError(file: source, field: "prompts_per_task", reason: "\(promptsPerTask) is outside 1...1000000")
        }
        if let problem = timingProblem { throw JobSpecError(file: source, field: problem.field, reason: problem.reason) }
        guard (1...1000).contains(statistics.dashboardTopK) else {
            throw JobSpecError(file: source, field: "statistics.dashboard_top_k", reason: "\(statistics.dashboardTopK) is outside 1...1000")
        }
        try checkGraphParameters(file: source)
        if let evaluation {
            guard Evaluation.featureRange.contains(evaluation.features) else {
                let r = Evaluation.featureRange
                throw JobSpecError(file: source, field: "evaluation.features", reason: "\(evaluation.features) is outside \(r.lowerBound)...\(r.upperBound)")
            }
        }
        if let problem = eap?.problem { throw JobSpecError(file: source, field: problem.field, reason: problem.reason) }
        if let b = globalBlocks {
            guard b.activations.hasPrefix("/"), !b.activations.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
                  !b.activations.contains("\0") else {
                throw JobSpecError(file: source, field: "global_blocks.activations", reason: "must be an absolute path without '.' or '..' components (got \(b.activations))")
            }
            guard (1...100_000).contains(b.topK) else { throw JobSpecError(file: source, field: "global_blocks.top_k", reason: "\(b.topK) is outside 1...100000") }
            guard (1...1_000_000).contains(b.tileSize) else {
                throw JobSpecError(file: source, field: "global_blocks.tile_size", reason: "\(b.tileSize) is outside 1...1000000")
            }
        }
    }

    /// The graph parameters' own ranges (`AttributionParameters.validate`, shared with the CLI and
    /// the engine), reported under their job-spec field names.
    func checkGraphParameters(file: String) throws {
        do {
            try attribution.validate()
            try pruning.validate()
        } catch {
            throw JobSpecError(file: file, field: error.parameter.jobField, reason: error.requirement)
        }
    }

    /// Lease and heartbeat: finite, within 1 s...1e6 s and 0.05 s...1e5 s, the heartbeat at most
    /// half the lease (so one lost heartbeat never loses a lease).
    var timingProblem: (field: String, reason: String)? {
        guard leaseSeconds.isFinite, (1...1e6).contains(leaseSeconds) else { return ("lease_seconds", "\(leaseSeconds) is outside 1...1000000") }
        guard heartbeatSeconds.isFinite, (0.05...1e5).contains(heartbeatSeconds) else {
            return ("heartbeat_seconds", "\(heartbeatSeconds) is outside 0.05...100000")
        }
        guard heartbeatSeconds * 2 <= leaseSeconds else { return ("heartbeat_seconds", "must be at most half of lease_seconds (\(leaseSeconds))") }
        return nil
    }

    /// Checks that the inputs exist (the model and transcoder folders, the corpus file) and
    /// that the output folder exists or can be created (no file in its way).
    public func checkInputs(file: String) throws {
        do { try OutputLocation.checkFolder(URL(fileURLWithPath: output), what: "output folder") } catch let error as OutputLocationError {
            throw JobSpecError(file: file, field: "output", reason: error.reason + " (\(output))")
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        for (field, path) in [("model", model), ("transcoders", transcoders)] where !(eap != nil && field == "transcoders") {
            guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw JobSpecError(file: file, field: field, reason: "no such folder: \(path)")
            }
        }
        guard fm.fileExists(atPath: corpus, isDirectory: &isDir), !isDir.boolValue else {
            throw JobSpecError(file: file, field: corpusField, reason: "no such file: \(corpus)")
        }
        if let facts = evaluation?.facts, !fm.fileExists(atPath: facts, isDirectory: &isDir) || isDir.boolValue {
            throw JobSpecError(file: file, field: "evaluation.facts", reason: "no such file: \(facts)")
        }
    }
}

/// A job spec is invalid; names the file and the field.
public struct JobSpecError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var field: String?
    public var reason: String
    public init(file: String, field: String?, reason: String) { self.file = file; self.field = field; self.reason = reason }
    public var description: String { "\(file): " + (field.map { "field '\($0)': " } ?? "") + reason }
}

/// Reads typed fields from a YAML mapping, naming the field (`attribution.batch_size`) in errors.
private struct FieldReader {
    var dict: [String: Any]
    var file: String
    var base: URL
    var prefix: String

    func name(_ key: String) -> String { prefix + key }
    func fail(_ key: String, _ reason: String) -> JobSpecError { JobSpecError(file: file, field: name(key), reason: reason) }

    func path(_ key: String) throws -> String {
        guard let value = dict[key] else { throw fail(key, "missing (a path)") }
        guard let s = value as? String, !s.isEmpty else { throw fail(key, "expected a path, found \(value)") }
        let url = s.hasPrefix("/") ? URL(fileURLWithPath: s) : base.appendingPathComponent(s)
        return url.standardizedFileURL.path
    }

    func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try optionalInt(key, range: range) ?? value
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let value = dict[key], !(value is NSNull) else { return nil }
        guard let i = value as? Int else { throw fail(key, "expected an integer, found \(value)") }
        guard range.contains(i) else { throw fail(key, "\(i) is outside \(range.lowerBound)...\(range.upperBound)") }
        return i
    }

    func double(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let raw = dict[key], !(raw is NSNull) else { return value }
        let d: Double
        if let x = raw as? Double { d = x } else if let i = raw as? Int { d = Double(i) } else {
            throw fail(key, "expected a number, found \(raw)")
        }
        guard range.contains(d) else { throw fail(key, "\(d) is outside \(range.lowerBound)...\(range.upperBound)") }
        return d
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = dict[key], !(raw is NSNull) else { return value }
        guard let b = raw as? Bool else { throw fail(key, "expected true or false, found \(raw)") }
        return b
    }

    /// A list of `[layer, feature]` pairs.
    func featureList(_ key: String) throws -> [[Int]] {
        guard let raw = dict[key], !(raw is NSNull) else { return [] }
        guard let list = raw as? [Any] else { throw fail(key, "expected a list of [layer, feature] pairs") }
        return try list.enumerated().map { k, item in
            guard let pair = item as? [Int], pair.count == 2, pair[0] >= 0, pair[1] >= 0 else {
                throw fail(key, "item \(k + 1): expected [layer, feature] (non-negative integers), found \(item)")
            }
            return pair
        }
    }

    func section(_ key: String, keys: [String]) throws -> FieldReader {
        guard let raw = dict[key], !(raw is NSNull) else { return FieldReader(dict: [:], file: file, base: base, prefix: name(key) + ".") }
        guard let sub = raw as? [String: Any] else { throw fail(key, "expected a mapping of \(keys.joined(separator: ", "))") }
        let reader = FieldReader(dict: sub, file: file, base: base, prefix: name(key) + ".")
        try reader.rejectUnknown(keys)
        return reader
    }

    func rejectUnknown(_ known: [String]) throws {
        for key in dict.keys.sorted() where !known.contains(key) {
            throw fail(key, "unknown field (known: \(known.joined(separator: ", ")))")
        }
    }
}
