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
/// `/dashboards/*` the combined feature dashboards. It
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
        var dashboards = DashboardsSum()
        var shardCount = 0
        for (taskID, prompts) in plan.tasks.enumerated() {
            let url = layout.shard(taskID: taskID)
            guard FileManager.default.fileExists(atPath: url.path) else {
                let reason = taskFailure[taskID].map { "task \(taskID) failed: \($0)" } ?? "task \(taskID) not completed"
                for p in prompts { rows.appendFailed(id: p.id, prompt: p.text, reason: reason, task: taskID, graphs: &graphs) }
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
            try dashboards.write(into: f)
            try meta.write(into: f)
        }
        return MergeSummary(promptsTotal: rows.count, promptsDone: rows.doneCount, promptsFailed: rows.count - rows.doneCount, shards: shardCount)
    }
}
