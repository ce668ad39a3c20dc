import Foundation
import Shared
import Storage

/// What `merge` found.
public struct MergeSummary: Sendable, Equatable {
    public var promptsTotal: Int
    public var promptsDone: Int
    public var promptsFailed: Int
    public var shards: Int
}

/// Merges every shard of a run into `aggregate.h5`.
///
/// The prompt list comes from the job's corpus and task plan, so every prompt appears exactly
/// once: traced or failed in its task's shard, failed with the coordinator's reason when its task
/// failed, failed as "not completed" when its task has no shard yet, or failed with the corpus
/// reader's reason when its line was invalid. Shards are read in task order, so the merged file
/// does not depend on the order workers finished in. Counts are summed exactly (integers);
/// activation sums are summed in task order with compensated summation.
///
/// `aggregate.h5`: `/prompts/*` one row per prompt (id, status, reason, task, scores, counts,
/// offsets into the graph tables), `/graphs/*` every pruned graph's nodes and edges concatenated
/// (`node_offset`, `edge_offset`, `token_offset`, `logit_offset` index them per prompt; edge
/// endpoints are local to their prompt), `/stats/features/*` the summed feature statistics,
/// `/dashboards/*` the combined feature dashboards, `/eap` an EAP job's edge scores summed over
/// every shard (`EdgeScoreSums.add`, in task order; shards have no feature statistics then). It
/// is written through the schema types of `Storage/Shard` and put in place atomically (`AtomicFile`).
public enum Merger {
    public static func merge(_ layout: RunLayout) throws -> MergeSummary {
        let job = try layout.loadJob()
        let plan = try TaskPlan(job: job)
        var taskFailure: [Int: String] = [:]
        if FileManager.default.fileExists(atPath: layout.journal.path) {
            for case let .taskFailed(taskID, reason) in try Journal.replay(layout.journal) { taskFailure[taskID] = reason }
        }

        var rows = PromptTable()
        var labelOf: [String: String] = [:]
        for task in plan.tasks { for p in task { if let l = p.label { labelOf[p.id] = l } } }
        var graphs = GraphTables()
        var stats: FeatureStatisticsSum?
        var pairs: CoactivationStatistics?
        var labels = LabelStatistics()
        var evaluation = EvaluationRows()
        var dashboards = DashboardsSum()
        var edgeScores: EdgeScoreSums?
        var shardCount = 0
        for (taskID, prompts) in plan.tasks.enumerated() {
            let url = layout.shard(taskID: taskID)
            guard FileManager.default.fileExists(atPath: url.path) else {
                let reason = taskFailure[taskID].map { "task \(taskID) failed: \($0)" } ?? "task \(taskID) not completed"
                for p in prompts { rows.appendFailed(id: p.id, prompt: p.text, reason: reason, task: taskID, graphs: &graphs) }
                evaluation.skip(prompts.count)
                continue
            }
            shardCount += 1
            let f = try HDF5File.open(url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.hash else {
                throw MergeError(path: url.path, reason: "shard belongs to job \(hash), this run is job \(job.hash)")
            }
            let ids = try PromptTable.readIDs(f)
            guard ids == prompts.map(\.id) else {
                throw MergeError(path: url.path, reason: "shard prompts \(ids.prefix(3))… differ from task \(taskID) of the corpus")
            }
            try rows.append(shard: f, task: taskID, graphs: &graphs)
            try evaluation.append(EvaluationTable.read(f), prompts: prompts.count, path: url.path)
            if job.eap != nil {
                // An EAP shard: its pairs' edge scores, no transcoder features.
                guard let part = try EdgeScoreSumsFile.read(f) else {
                    throw MergeError(path: url.path, reason: "shard has no \(EdgeScoreSumsFile.group) group (not an EAP shard)")
                }
                if edgeScores == nil { edgeScores = part } else {
                    do { try edgeScores!.add(part) } catch { throw MergeError(path: url.path, reason: "\(error)") }
                }
                continue
            }
            guard let shardStats = try FeatureStatisticsFile.read(f) else {
                throw MergeError(path: url.path, reason: "shard has no \(FeatureStatisticsSchema.group) group")
            }
            let s = FeatureStatisticsSum(shardStats)
            if stats == nil { stats = s } else { try stats!.add(s, path: url.path) }
            if let p = try PairStatisticsFile.read(f) {
                guard pairs == nil || pairs!.targets == p.targets else {
                    throw MergeError(path: url.path, reason: "pair statistics for other targets than the other shards'")
                }
                if pairs == nil { pairs = p } else { pairs!.add(p) }
            }
            if let l = try LabelStatistics.read(f) { labels.add(l) }
            try dashboards.add(shard: f, path: url.path)
        }
        for bad in plan.invalid { rows.appendFailed(id: bad.id, prompt: "", reason: "line \(bad.line): \(bad.reason)", task: -1, graphs: &graphs) }
        evaluation.skip(plan.invalid.count)
        let swaps = try mergeBridgeSwaps(layout, job: job, firstTask: plan.tasks.count)

        if !labels.isEmpty { rows.label = rows.id.map { labelOf[$0] ?? "" } }
        let meta = AggregateMeta(jobHash: job.hash, promptsTotal: rows.count, promptsDone: rows.doneCount,
                                 promptsFailed: rows.count - rows.doneCount, shards: shardCount)
        try AtomicFile.write(to: layout.aggregate) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try rows.write(into: f, at: ShardSchema.prompts, withTask: true)
            try graphs.write(into: f)
            if let stats { try FeatureStatisticsFile.write(stats.statistics, into: f) }
            if let pairs { try PairStatisticsFile.write(pairs, into: f) }
            if !labels.isEmpty { try labels.write(into: f) }
            try evaluation.table?.write(into: f)
            try swaps?.write(into: f)
            try dashboards.write(into: f)
            if let edgeScores { try EdgeScoreSumsFile.write(edgeScores, into: f) }
            try meta.write(into: f)
        }
        return MergeSummary(promptsTotal: rows.count, promptsDone: rows.doneCount, promptsFailed: rows.count - rows.doneCount, shards: shardCount)
    }
}

extension Merger {
    /// The bridge swaps of the saved plan (`BridgeSwapPlan`), one row per planned two-hop prompt
    /// in plan order: from the shard of its task, or failed as "not completed"; nil without a plan.
    static func mergeBridgeSwaps(_ layout: RunLayout, job: JobSpec, firstTask: Int) throws -> BridgeSwapTable? {
        guard let plan = try BridgeSwapPlan.load(layout) else { return nil }
        var merged = BridgeSwapTable()
        for (k, task) in plan.tasks.enumerated() {
            let url = layout.shard(taskID: firstTask + k)
            if FileManager.default.fileExists(atPath: url.path) {
                let f = try HDF5File.open(url)
                defer { f.close() }
                let hash = try ShardMeta(f).jobHash
                guard hash == job.hash else { throw MergeError(path: url.path, reason: "shard belongs to job \(hash), this run is job \(job.hash)") }
                guard let table = try BridgeSwapTable.read(f), table.rows.map(\.id) == task.swaps.map(\.id) else {
                    throw MergeError(path: url.path, reason: "its bridge swaps differ from task \(firstTask + k) of \(layout.bridgeSwapPlan.lastPathComponent)")
                }
                merged.rows += table.rows
            } else {
                for (p, s) in zip(task.prompts, task.swaps) {
                    var row = BridgeSwapTable.Row(id: p.id, prompt: p.text, bridge: s.bridge, target: s.target, answer: s.answer, targetAnswer: s.targetAnswer)
                    row.reason = "task \(firstTask + k) not completed"
                    merged.rows.append(row)
                }
            }
        }
        return merged
    }
}

/// The `/evaluation` rows of the merge, aligned with its prompt rows: a shard's table, or rows
/// without evaluation where a shard has none (or a task none at all).
struct EvaluationRows {
    private var parts: [(table: EvaluationTable?, count: Int)] = []

    mutating func skip(_ n: Int) { parts.append((nil, n)) }

    mutating func append(_ table: EvaluationTable?, prompts n: Int, path: String) throws {
        if let table, table.count != n {
            throw MergeError(path: path, reason: "\(EvaluationTable.group) has \(table.count) rows for \(n) prompts")
        }
        parts.append((table, n))
    }

    /// The merged table; nil when no shard has one.
    var table: EvaluationTable? {
        guard let first = parts.lazy.compactMap(\.table).first else { return nil }
        var merged = EvaluationTable(nLayers: first.nLayers, features: first.features)
        for (table, n) in parts {
            if let table, table.nLayers == first.nLayers { merged.rows += table.rows } else { merged.appendMissing(n) }
        }
        return merged
    }
}
