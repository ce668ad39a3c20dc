import Foundation
import Storage
import Tracer

/// Where a corpus run keeps one prompt's unpruned graph: the `full` group of its graph in its
/// task's shard (job option `pruning.keep_full_graphs`; the aggregate holds pruned graphs only).
/// Read when the prompt is re-pruned, so the viewer never holds every full graph at once.
public struct FullGraphSource: Sendable, Equatable {
    /// The task's accepted shard (`OUT/shards/task-NNNNNN.h5`).
    public var shard: URL
    public var promptID: String
    /// The job the aggregate belongs to; a shard of another job is refused.
    public var jobHash: String

    public init(shard: URL, promptID: String, jobHash: String) {
        self.shard = shard; self.promptID = promptID; self.jobHash = jobHash
    }

    /// The prompt's traced graph, rebuilt from the shard (`AttributionGraph(full:columns:what:)`).
    ///
    /// - Throws: `ServeError.tooLarge` when its adjacency exceeds `ServedGraph.maxRepruneEntries`;
    ///   `ServeError.notFound` when the shard holds no full graph of the prompt;
    ///   `ServeError.unreadable` naming the shard when it cannot be read or belongs to another job.
    public func load() throws -> AttributionGraph {
        let f: HDF5File
        do { f = try HDF5File.open(shard) } catch {
            throw ServeError.unreadable("cannot read the full graph of prompt '\(promptID)' from \(shard.path): \(error)")
        }
        defer { f.close() }
        do {
            let hash = try ShardMeta(f).jobHash
            guard hash == jobHash else {
                throw ServeError.unreadable("\(shard.path) belongs to job \(hash), aggregate.h5 to job \(jobHash): re-run `circuits merge` or serve the run it came from")
            }
            let table = try PromptTable(f)
            guard let k = table.id.firstIndex(of: promptID), FullGraph.exists(in: f, index: k) else {
                throw ServeError.notFound("\(shard.path) holds no full graph of prompt '\(promptID)'")
            }
            let full = try FullGraph(f, index: k)
            guard full.storedEntries <= ServedGraph.maxRepruneEntries else {
                throw ServeError.tooLarge("graph '\(promptID)' has \(full.nNodes) nodes; re-pruning it builds a [\(full.nFeatures + full.nLogits), \(full.nNodes)] matrix, over the viewer's limit of \(ServedGraph.maxRepruneEntries) entries; view it at its stored thresholds")
            }
            let columns = try GraphColumns(f, at: ShardSchema.graphGroupName(index: k))
            return try AttributionGraph(full: full, columns: columns, what: "\(shard.path), prompt '\(promptID)'")
        } catch let error as ServeError {
            throw error
        } catch {
            throw ServeError.unreadable("cannot read the full graph of prompt '\(promptID)' from \(shard.path): \(error)")
        }
    }
}
