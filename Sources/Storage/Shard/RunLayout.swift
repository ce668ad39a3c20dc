import Foundation

/// Where a run keeps its files inside the output folder.
public struct RunLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }
    public var shards: URL { root.appendingPathComponent("shards") }
    public var journal: URL { root.appendingPathComponent("journal.jsonl") }
    /// The resolved job spec the run was started with (JSON).
    public var job: URL { root.appendingPathComponent("job.json") }
    public var aggregate: URL { root.appendingPathComponent("aggregate.h5") }
    public var reportJSON: URL { root.appendingPathComponent("report.json") }
    public var reportHTML: URL { root.appendingPathComponent("report.html") }
    /// The accepted shard of a task.
    public func shard(taskID: Int) -> URL { shards.appendingPathComponent(ShardSchema.shardFileName(taskID: taskID)) }
    /// Where workers write shards before the coordinator verifies and accepts them.
    public var incoming: URL { shards.appendingPathComponent("incoming") }
    /// The shard of one attempt at a task (two workers holding the same task never collide).
    public func incomingShard(taskID: Int, attempt: Int) -> URL {
        let name = ShardSchema.shardFileName(taskID: taskID)
        return incoming.appendingPathComponent(name.replacingOccurrences(of: ".h5", with: ".try\(attempt).h5"))
    }
    /// Per-worker logs of `circuits run`.
    public var logs: URL { root.appendingPathComponent("logs") }
}
