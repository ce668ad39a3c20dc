import Foundation
import Shared
import Storage

/// The corpus's activations for `global-weights --all`: every accepted shard's
/// `/stats/activations` in task order (so positions come in corpus order, whichever worker
/// finished first). Only accepted shards count: a killed worker's partial work never does.
public enum ActivationCorpus {
    /// - Throws: `MergeError` naming the shard when a task has no shard, a shard belongs to
    ///   another job, or it holds no activations (a job without `statistics.activations`).
    public static func load(_ layout: RunLayout, nLayers: Int, dTranscoder: Int) throws -> ActivationStore {
        var store = ActivationStore(nLayers: nLayers, dTranscoder: dTranscoder)
        try AcceptedShards.forEach(layout, missing: "the statistics pass did not complete (run it again to resume)") { url, f in
            guard let part = try ActivationStoreFile.read(f) else {
                throw MergeError(path: url.path, reason: "no \(ActivationStoreFile.group) (the job did not ask for statistics.activations)")
            }
            guard part.nLayers == nLayers, part.dTranscoder == dTranscoder else {
                throw MergeError(path: url.path, reason: "activations of \(part.nLayers) × \(part.dTranscoder) features, the transcoders have \(nLayers) × \(dTranscoder)")
            }
            store.append(part)
        }
        return store
    }
}
