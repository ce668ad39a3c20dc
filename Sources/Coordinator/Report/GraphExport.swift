import Foundation
import Shared
import Storage

/// Finds one prompt's graph JSON in a run's shards (`circuits export`).
public enum GraphExport {
    public static func frontendJSON(_ layout: RunLayout, promptID: String) throws -> Data {
        let job = try layout.loadJob()
        let plan = try TaskPlan(job: job)
        if let bad = plan.invalid.first(where: { $0.id == promptID }) {
            throw MergeError(path: job.corpus, reason: "prompt '\(promptID)' was not traced: line \(bad.line): \(bad.reason)")
        }
        guard let task = plan.tasks.firstIndex(where: { $0.contains { $0.id == promptID } }) else {
            let examples = plan.tasks.prefix(1).flatMap { $0.prefix(3).map(\.id) }.joined(separator: ", ")
            throw MergeError(path: job.corpus, reason: "no prompt with id '\(promptID)' in the corpus (ids look like: \(examples))")
        }
        let url = layout.shard(taskID: task)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MergeError(path: url.path, reason: "prompt '\(promptID)' is in task \(task), which has not completed")
        }
        let f = try HDF5File.open(url)
        defer { f.close() }
        let table = try PromptTable(f)
        guard let k = table.id.firstIndex(of: promptID) else {
            throw MergeError(path: url.path, reason: "shard does not hold prompt '\(promptID)'")
        }
        guard table.status[k] == 1 else {
            throw MergeError(path: url.path, reason: "prompt '\(promptID)' failed: \(table.reason[k])")
        }
        return Data(try ShardGraph.readFrontendJSON(f, index: k))
    }
}
