import Foundation
import Shared
import Storage

/// How a job's corpus is cut into tasks: consecutive runs of `promptsPerTask` valid prompts,
/// task ids from 0 in corpus order. Deterministic, so a restarted coordinator and `merge`
/// derive the same tasks from the same job and corpus.
public struct TaskPlan: Sendable {
    public var tasks: [[PromptItem]]
    public var invalid: [InvalidPrompt]

    public init(corpus: Corpus, promptsPerTask: Int) {
        let k = max(1, promptsPerTask)
        tasks = stride(from: 0, to: corpus.prompts.count, by: k).map { Array(corpus.prompts[$0..<min($0 + k, corpus.prompts.count)]) }
        invalid = corpus.invalid
    }

    /// The plan of `job`: its corpus read and cut into tasks.
    public init(job: JobSpec) throws {
        self.init(corpus: try Corpus.load(URL(fileURLWithPath: job.corpus)), promptsPerTask: job.promptsPerTask)
    }

    public var promptCount: Int { tasks.reduce(0) { $0 + $1.count } + invalid.count }
}

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

    /// The job spec saved by the coordinator.
    public func loadJob() throws -> JobSpec {
        guard let data = try? Data(contentsOf: job) else {
            throw MergeError(path: job.path, reason: "no job.json: is this the output folder of a run?")
        }
        do { return try JSONDecoder().decode(JobSpec.self, from: data) } catch {
            throw MergeError(path: job.path, reason: "unreadable job spec: \(error)")
        }
    }
}

/// Merging or reporting failed; names the file and the cause.
public struct MergeError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}
