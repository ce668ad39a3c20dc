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

    /// The plan of `job`: its corpus read and cut into tasks (an EAP job's pairs file line by
    /// line, `Corpus.loadPairLines`: `promptsPerTask` pairs per task).
    public init(job: JobSpec) throws {
        let url = URL(fileURLWithPath: job.corpus)
        self.init(corpus: try job.eap == nil ? Corpus.load(url) : Corpus.loadPairLines(url), promptsPerTask: job.promptsPerTask)
    }

    public var promptCount: Int { tasks.reduce(0) { $0 + $1.count } + invalid.count }
}

extension RunLayout {
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

    /// Throws unless the run's `aggregate.h5` at `url` exists (naming the command that makes it).
    static func requireAggregate(_ url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MergeError(path: url.path, reason: "not found: run `circuits merge \(url.deletingLastPathComponent().path)` first")
        }
    }
}
