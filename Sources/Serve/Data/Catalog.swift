import Foundation
import Coordinator
import Shared
import Storage
import Tracer

/// Everything `circuits serve` answers from, loaded once from a run folder or from traced
/// graph files. Immutable; `LiveCatalog` replaces it when the run's aggregate changes.
public struct Catalog: Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A corpus run folder (`aggregate.h5`).
        case run
        /// One `graph.h5` of `circuits trace`, or a folder of them.
        case graphs
    }

    public var kind: Kind
    public var title: String
    /// The folder the viewer may write into (`supernodes.json`).
    public var folder: URL
    public var prompts: [PromptSummary]
    /// Graphs of the prompts that have one, in prompt order.
    public var graphs: [ServedGraph]
    public var graphIndex: [String: Int]
    public var report: CircuitReport?
    public var features: FeatureIndex
    public var labelStatistics: LabelStatistics?
    public var featureStatistics: FeatureStatistics?
    public var globalWeights: GlobalWeightPartners?
    public var dashboards: any FeatureDashboardSource

    /// Loads a run folder (with `aggregate.h5`), a `graph.h5`, or a folder of `*.h5` graphs.
    ///
    /// - Throws: `ServeError.unreadable` naming the path and what to do.
    public init(path: URL, dashboards: (any FeatureDashboardSource)? = nil) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw ServeError.unreadable("\(path.path) does not exist: give a run folder (with aggregate.h5), a graph.h5 of `circuits trace`, or a folder of them")
        }
        let layout = RunLayout(root: path)
        if isDirectory.boolValue, fm.fileExists(atPath: layout.aggregate.path) {
            try self.init(run: layout, dashboards: dashboards)
        } else if isDirectory.boolValue {
            let files = ((try? fm.contentsOfDirectory(at: path, includingPropertiesForKeys: nil)) ?? [])
                .filter { $0.pathExtension == "h5" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            guard !files.isEmpty else {
                throw ServeError.unreadable("\(path.path) holds neither aggregate.h5 (run `circuits merge \(path.path)` for a run folder) nor *.h5 graphs of `circuits trace`")
            }
            try self.init(graphs: files, folder: path, dashboards: dashboards)
        } else {
            try self.init(graphs: [path], folder: path.deletingLastPathComponent(), dashboards: dashboards)
        }
    }

    /// Traced `graph.h5` files; prompt ids are the file names without `.h5`.
    private init(graphs files: [URL], folder: URL, dashboards: (any FeatureDashboardSource)?) throws {
        kind = .graphs
        self.folder = folder
        self.dashboards = dashboards ?? NoFeatureDashboards()
        title = "Traced graphs: \(files.count == 1 ? files[0].lastPathComponent : folder.lastPathComponent)"
        graphs = []
        prompts = []
        for file in files {
            let loaded: (result: TraceResult, prompt: String)
            do { loaded = try GraphFile.read(file) } catch {
                throw ServeError.unreadable("\(file.path) is not a graph.h5 of `circuits trace`: \(error)")
            }
            let g = ServedGraph(trace: loaded.result, prompt: loaded.prompt, id: file.deletingPathExtension().lastPathComponent)
            graphs.append(g)
            prompts.append(PromptSummary(id: g.id, prompt: g.prompt, status: "done", n_tokens: g.tokens.count, n_nodes: g.nodes.count,
                                         n_edges: g.edges.count, replacement_score: PromptSummary.finite(g.replacementScore),
                                         completeness_score: PromptSummary.finite(g.completenessScore)))
        }
        graphIndex = Dictionary(graphs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        features = FeatureIndex(graphs)
    }

    private init(run layout: RunLayout, dashboards: (any FeatureDashboardSource)?) throws {
        kind = .run
        folder = layout.root
        title = "Circuit report: \(layout.root.lastPathComponent)"
        // The run's own dashboards (`/dashboards` of aggregate.h5) unless a source is given.
        self.dashboards = dashboards ?? (try? RunFeatureDashboards(layout: layout)) ?? NoFeatureDashboards()
        let a: Aggregate
        do { a = try Aggregate(url: layout.aggregate) } catch {
            throw ServeError.unreadable("cannot read \(layout.aggregate.path): \(error)")
        }
        var report = CircuitReport(a)
        let weights = layout.root.appendingPathComponent("global_weights.h5")
        if FileManager.default.fileExists(atPath: weights.path) {
            do {
                report.global_weights = try GlobalWeightsSummary(url: weights)
                globalWeights = try GlobalWeightPartners(url: weights)
            } catch {
                throw ServeError.unreadable("cannot read \(weights.path): \(error)")
            }
        }
        self.report = report
        labelStatistics = a.labelStatistics
        featureStatistics = try? {
            let f = try HDF5File.open(layout.aggregate)
            defer { f.close() }
            return try FeatureStatisticsFile.read(f)
        }()
        let nLayers = a.graphs.lazy.flatMap(\.nodes).first { $0.type == .logit }?.layer ?? (featureStatistics?.shape.first ?? 0)
        // A job that keeps full graphs: each prompt's unpruned graph is in its task's shard.
        let job = (try? layout.loadJob()).flatMap { $0.hash == a.jobHash ? $0 : nil }
        let keepsFull = job?.keepFullGraphs == true
        var shardExists: [Int: Bool] = [:]
        graphs = []
        prompts = []
        for (p, g) in zip(a.prompts, a.graphs) {
            let hasGraph = p.done && !g.nodes.isEmpty
            prompts.append(PromptSummary(
                id: p.id, prompt: p.prompt, status: hasGraph ? "done" : (p.done ? "statistics" : "failed"),
                reason: p.done ? nil : p.reason, label: p.label.isEmpty ? nil : p.label, n_tokens: p.done ? p.nTokens : nil,
                n_nodes: hasGraph ? p.nodes : nil, n_edges: hasGraph ? p.edges : nil,
                replacement_score: PromptSummary.finite(p.replacement), completeness_score: PromptSummary.finite(p.completeness)))
            guard hasGraph else { continue }
            var served = ServedGraph(aggregate: g, prompt: p, nLayers: nLayers)
            if let job, keepsFull, p.task >= 0 {
                let shard = layout.shard(taskID: p.task)
                if shardExists[p.task] == nil { shardExists[p.task] = FileManager.default.fileExists(atPath: shard.path) }
                if shardExists[p.task] == true {
                    served.fullSource = FullGraphSource(shard: shard, promptID: p.id, jobHash: a.jobHash)
                    // The stored graph is the full one pruned at the job's thresholds: the view's starting point.
                    served.nodeThreshold = job.pruning.nodeThreshold
                    served.edgeThreshold = job.pruning.edgeThreshold
                }
            }
            graphs.append(served)
        }
        graphIndex = Dictionary(graphs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        features = FeatureIndex(graphs)
    }

    /// The graph of prompt `id`.
    public func graph(_ id: String) throws -> ServedGraph {
        if let k = graphIndex[id] { return graphs[k] }
        if let p = prompts.first(where: { $0.id == id }) {
            throw ServeError.notFound("prompt '\(id)' has no graph (status \(p.status)\(p.reason.map { ": \($0)" } ?? ""))")
        }
        throw ServeError.notFound("no prompt with id '\(id)' (\(prompts.count) prompts; ids look like \(prompts.prefix(3).map(\.id).joined(separator: ", ")))")
    }
}
