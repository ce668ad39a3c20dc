import Foundation
import Shared
import Storage

/// The exact merge of a global-weights block job: every task's shard holds its blocks' partner
/// lists (`/all`); each list of the result is the top k of all of them (`GlobalPartners.absorb`,
/// a total order, so task order and re-run tasks change nothing). Only accepted shards count.
public enum GlobalBlockMerge {
    /// - Throws: `MergeError` naming the shard when a task has no shard, a shard belongs to
    ///   another job or holds no `/all`.
    public static func merge(_ layout: RunLayout) throws -> GlobalPartners {
        let job = try layout.loadJob()
        let plan = try TaskPlan(job: job)
        var total: GlobalPartners?
        for taskID in plan.tasks.indices {
            let url = layout.shard(taskID: taskID)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw MergeError(path: url.path, reason: "block task \(taskID) has no shard: the run did not complete (run it again to resume)")
            }
            let f = try HDF5File.open(url)
            defer { f.close() }
            let hash = try ShardMeta(f).jobHash
            guard hash == job.hash else { throw MergeError(path: url.path, reason: "shard belongs to job \(hash), this run is job \(job.hash)") }
            guard let part = try GlobalPartnersFile.read(f) else {
                throw MergeError(path: url.path, reason: "no /\(GlobalPartnersFile.group) group (not a global-weights block shard)")
            }
            if let total {
                guard total.nLayers == part.nLayers, total.dTranscoder == part.dTranscoder, total.k == part.k, total.tokensSeen == part.tokensSeen else {
                    throw MergeError(path: url.path, reason: "partner lists of another shape or corpus than task 0's")
                }
                total.absorb(part)
            } else {
                total = part
            }
        }
        guard let total else { throw MergeError(path: layout.root.path, reason: "the block job has no tasks") }
        return total
    }
}
