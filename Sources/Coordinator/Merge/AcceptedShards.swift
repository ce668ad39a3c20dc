import Foundation
import Shared
import Storage

/// The accepted shards of a run, in task order: what the merges of `global-weights --all`
/// read (`ActivationCorpus`, `GlobalBlockMerge`). A killed worker's partial files are never
/// among them.
enum AcceptedShards {
    /// Calls `body` with each task's shard, open, after checking it exists and belongs to the job.
    /// - Parameter missing: what to tell the user when a task has no shard.
    static func forEach(_ layout: RunLayout, missing: String, _ body: (URL, HDF5File) throws -> Void) throws {
        let job = try layout.loadJob()
        let plan = try TaskPlan(job: job)
        for taskID in plan.tasks.indices {
            let url = layout.shard(taskID: taskID)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw MergeError(path: url.path, reason: "task \(taskID) has no shard: \(missing)")
            }
            let f = try HDF5File.open(url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.hash else { throw MergeError(path: url.path, reason: "shard belongs to job \(hash), this run is job \(job.hash)") }
            try body(url, f)
        }
    }
}
