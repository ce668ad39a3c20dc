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
/// endpoints are local to their prompt), `/stats/features/*` the summed feature statistics.
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
            let hash = try f.stringAttribute("job_hash", at: ShardSchema.meta)
            guard hash == job.hash else {
                throw MergeError(path: url.path, reason: "shard belongs to job \(hash), this run is job \(job.hash)")
            }
            let ids = try f.readStrings(at: "\(ShardSchema.prompts)/id")
            guard ids == prompts.map(\.id) else {
                throw MergeError(path: url.path, reason: "shard prompts \(ids.prefix(3))… differ from task \(taskID) of the corpus")
            }
            try rows.append(shard: f, task: taskID, graphs: &graphs)
            let s = try FeatureStatisticsSum(shard: f)
            if stats == nil { stats = s } else { try stats!.add(s, path: url.path) }
            if let p = try PairStatisticsFile.read(f) {
                guard pairs == nil || pairs!.targets == p.targets else {
                    throw MergeError(path: url.path, reason: "pair statistics for other targets than the other shards'")
                }
                if pairs == nil { pairs = p } else { pairs!.add(p) }
            }
            if let l = try LabelStatistics.read(f) { labels.add(l) }
        }
        for bad in plan.invalid { rows.appendFailed(id: bad.id, prompt: "", reason: "line \(bad.line): \(bad.reason)", task: -1, graphs: &graphs) }

        let tmp = layout.root.appendingPathComponent(".aggregate.h5.tmp-\(getpid())")
        do {
            let f = try HDF5File.create(tmp)
            try rows.write(into: f, at: "prompts", withTask: true)
            if !labels.isEmpty { try f.writeStrings(rows.id.map { labelOf[$0] ?? "" }, at: "prompts/label") }
            try graphs.write(into: f)
            try stats?.write(into: f)
            if let pairs { try PairStatisticsFile.write(pairs, into: f) }
            if !labels.isEmpty { try labels.write(into: f) }
            try f.setAttribute("job_hash", job.hash)
            try f.setAttribute("prompts_total", Int64(rows.count))
            try f.setAttribute("prompts_done", Int64(rows.doneCount))
            try f.setAttribute("prompts_failed", Int64(rows.count - rows.doneCount))
            try f.setAttribute("shards", Int64(shardCount))
            try f.setAttribute("format_version", Int64(ShardSchema.formatVersion))
            try f.setAttribute("circuits_version", CircuitsVersion.string)
            f.close()
            guard rename(tmp.path, layout.aggregate.path) == 0 else {
                throw MergeError(path: layout.aggregate.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        return MergeSummary(promptsTotal: rows.count, promptsDone: rows.doneCount, promptsFailed: rows.count - rows.doneCount, shards: shardCount)
    }
}
