import Foundation
import Shared
import Tracer

/// Runs tasks of one job on a loaded model: traces every prompt, writes the task's shard,
/// and returns the result message. A prompt that fails (too long, unknown token, non-finite
/// values) becomes a failed row of the shard with its reason; it never fails the task.
public final class TaskRunner: Sendable {
    public let job: JobSpec
    public let session: TraceSession
    public let workerID: String
    public let threads: Int
    let modelChecksum: String
    let transcoderChecksum: String

    /// Loads the job's model and transcoders and checksums their folders (once per worker).
    public init(job: JobSpec, workerID: String, threads: Int) throws {
        self.job = job
        self.workerID = workerID
        self.threads = threads
        session = try TraceSession(modelDirectory: URL(fileURLWithPath: job.model),
                                   transcoderDirectory: URL(fileURLWithPath: job.transcoders))
        modelChecksum = try SHA256Digest.hex(ofFolder: URL(fileURLWithPath: job.model))
        transcoderChecksum = try SHA256Digest.hex(ofFolder: URL(fileURLWithPath: job.transcoders))
    }

    public var options: AttributionOptions {
        AttributionOptions(maxLogits: job.attribution.maxLogits, desiredLogitProbability: job.attribution.logitProb,
                           batchSize: job.attribution.batchSize, maxFeatureNodes: job.attribution.maxFeatureNodes,
                           updateInterval: job.attribution.updateInterval, threads: threads)
    }

    /// Traces one prompt; any error becomes a failed outcome with its description.
    public func trace(_ prompt: PromptItem) -> PromptOutcome {
        do {
            let result = try session.trace(prompt: prompt.text, options: options,
                                           nodeThreshold: job.pruning.nodeThreshold, edgeThreshold: job.pruning.edgeThreshold)
            if let problem = Self.nonFinite(result) {
                return .failed(id: prompt.id, prompt: prompt.text, reason: "non-finite values: \(problem)")
            }
            let metadata = GraphJSONMetadata(slug: Self.slug(prompt.id), scan: session.replacement.transcoders.config.scan ?? "circuits",
                                             prompt: session.tokenizer.decode(result.graph.inputTokens),
                                             nodeThreshold: result.nodeThreshold)
            let json = try GraphJSON.encode(result.graph, pruning: result.pruning, metadata: metadata)
            return .traced(id: prompt.id, prompt: prompt.text, result: result, frontendJSON: json)
        } catch {
            return .failed(id: prompt.id, prompt: prompt.text, reason: "\(error)")
        }
    }

    /// Traces a task's prompts and writes its shard; `progress(k)` after each prompt.
    public func run(_ task: TaskAssignment, progress: (Int) -> Void = { _ in }) throws -> TaskResult {
        let start = Date()
        var outcomes: [PromptOutcome] = []
        for (k, prompt) in task.prompts.enumerated() {
            outcomes.append(trace(prompt))
            progress(k + 1)
        }
        let meta = ShardWriter.Meta(jobHash: task.jobHash, taskID: task.taskID, workerID: workerID,
                                    modelChecksum: modelChecksum, transcoderChecksum: transcoderChecksum,
                                    nLayers: session.config.nLayers, dTranscoder: session.replacement.transcoders.dTranscoder)
        let url = URL(fileURLWithPath: task.shardPath)
        try ShardWriter.write(outcomes, meta: meta, to: url)
        let failed = outcomes.filter { if case .failed = $0 { true } else { false } }.count
        return TaskResult(taskID: task.taskID, workerID: workerID, shardPath: task.shardPath,
                          sha256: try SHA256Digest.hex(ofFileAt: url), promptsDone: outcomes.count - failed,
                          promptsFailed: failed, seconds: Date().timeIntervalSince(start))
    }

    /// The first non-finite quantity of a traced prompt, if any.
    static func nonFinite(_ r: TraceResult) -> String? {
        if !r.scores.replacement.isFinite || !r.scores.completeness.isFinite { return "graph scores" }
        if r.graph.activationValues.contains(where: { !$0.isFinite }) { return "feature activations" }
        if r.graph.logitProbabilities.contains(where: { !$0.isFinite }) { return "logit probabilities" }
        if r.pruning.nodeInfluence.contains(where: { !$0.isFinite }) { return "node influence (adjacency)" }
        return nil
    }

    /// A graph slug from a prompt id: a plain file name.
    public static func slug(_ id: String) -> String {
        let s = String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return s.isEmpty || s == "." || s == ".." ? "prompt" : s
    }
}
