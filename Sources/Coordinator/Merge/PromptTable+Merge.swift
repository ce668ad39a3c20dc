import Foundation
import Shared
import Storage

extension PromptTable {
    /// Appends a failed prompt (no graph).
    mutating func appendFailed(id: String, prompt: String, reason: String, task: Int, graphs: inout GraphTables) {
        append(.failed(id: id, prompt: prompt, reason: reason, task: Int64(task)))
        graphs.endPrompt()
    }

    /// Appends every prompt of shard `f` (task `task`), and its graphs to `graphs`.
    mutating func append(shard f: HDF5File, task: Int, graphs: inout GraphTables) throws {
        let rows = try PromptTable(f)
        for k in 0..<rows.count {
            var row = rows[k]
            row.task = Int64(task)
            append(row)
            // Statistics-only jobs have traced prompts without graphs.
            if row.status == 1 && ShardGraph.exists(in: f, index: k) { graphs.append(try ShardGraph(f, index: k).columns) }
            graphs.endPrompt()
        }
    }
}
