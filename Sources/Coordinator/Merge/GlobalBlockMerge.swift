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
        var total: GlobalPartners?
        try AcceptedShards.forEach(layout, missing: "the block job did not complete (run it again to resume)") { url, f in
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
