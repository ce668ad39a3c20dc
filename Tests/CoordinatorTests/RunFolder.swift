import Coordinator
import Foundation
import Storage
import Shared

/// The output folder of `job` rooted at `root`, as the coordinator prepares it before workers
/// write shards: `shards/` and `job.json`.
func prepareRunFolder(_ job: JobSpec, at root: URL) throws -> RunLayout {
    let layout = RunLayout(root: root)
    try FileManager.default.createDirectory(at: layout.shards, withIntermediateDirectories: true)
    try JSONEncoder().encode(job).write(to: layout.job)
    return layout
}
