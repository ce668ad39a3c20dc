import Foundation
import Shared
import Storage
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
    /// Set for a global-weights block job.
    let blocks: GlobalBlockRunner?

    /// Loads the job's model and transcoders and checksums their folders (once per worker).
    public init(job: JobSpec, workerID: String, threads: Int) throws {
        self.job = job
        self.workerID = workerID
        self.threads = threads
        session = try TraceSession(modelDirectory: URL(fileURLWithPath: job.model),
                                   transcoderDirectory: URL(fileURLWithPath: job.transcoders))
        let tc = session.replacement.transcoders
        for t in job.statistics.targets where t[0] >= tc.nLayers || t[1] >= tc.dTranscoder {
            throw WorkerError(reason: "statistics target [\(t[0]), \(t[1])] is outside the transcoders (\(tc.nLayers) layers × \(tc.dTranscoder) features)")
        }
        blocks = try job.globalBlocks.map { try GlobalBlockRunner($0, transcoders: tc) }
        modelChecksum = try SHA256Digest.hex(ofFolder: URL(fileURLWithPath: job.model))
        transcoderChecksum = try SHA256Digest.hex(ofFolder: URL(fileURLWithPath: job.transcoders))
    }

    public var options: AttributionOptions {
        AttributionOptions(job.attribution, threads: threads)
    }

    /// Traces one prompt (or, in a statistics-only job, measures its transcoder activations);
    /// any error becomes a failed outcome with its description.
    public func trace(_ prompt: PromptItem) -> PromptOutcome {
        guard job.statistics.attribution else { return measure(prompt) }
        do {
            let result = try session.trace(prompt: prompt.text, options: options,
                                           nodeThreshold: job.pruning.nodeThreshold, edgeThreshold: job.pruning.edgeThreshold,
                                           keepingForward: job.evaluation != nil)
            if let problem = Self.nonFinite(result) {
                return .failed(id: prompt.id, prompt: prompt.text, reason: "non-finite values: \(problem)")
            }
            let metadata = GraphJSONMetadata(slug: graphSlug(promptID: prompt.id), scan: session.replacement.transcoders.config.scan ?? "circuits",
                                             prompt: session.tokenizer.decode(result.graph.inputTokens),
                                             nodeThreshold: result.nodeThreshold)
            let json = try GraphJSON.encode(result.graph, pruning: result.pruning, metadata: metadata)
            return .traced(id: prompt.id, prompt: prompt.text, result: result, frontendJSON: json)
        } catch {
            return .failed(id: prompt.id, prompt: prompt.text, reason: "\(error)")
        }
    }

    /// Forward pass and transcoder activations only.
    func measure(_ prompt: PromptItem) -> PromptOutcome {
        let start = ContinuousClock.now
        do {
            let tokens = try session.tokens(for: prompt.text)
            let record = try session.replacement.model.forward(tokens: tokens)
            let features = try FeatureActivations(record: record, transcoders: session.replacement.transcoders)
            if let bad = features.values.first(where: { !$0.isFinite }) {
                return .failed(id: prompt.id, prompt: prompt.text, reason: "non-finite values: feature activation \(bad)")
            }
            return .measured(id: prompt.id, prompt: prompt.text,
                             activations: PromptActivations(activeFeatures: features.activeFeatures, values: features.values,
                                                            nTokens: tokens.count, seconds: (ContinuousClock.now - start).seconds,
                                                            tokens: tokens, tokenStrings: tokens.map(session.tokenText)))
        } catch {
            return .failed(id: prompt.id, prompt: prompt.text, reason: "\(error)")
        }
    }

    /// Traces a task's prompts and writes its shard to `url`; `progress(k)` after each prompt.
    /// - Throws: `ShardWriteFailure` when the shard cannot be written (transient when the disk
    ///   is full); the prompts' own failures are rows of the shard, never thrown.
    public func run(_ task: TaskAssignment, to url: URL, progress: (Int) -> Void = { _ in }) throws -> TaskResult {
        if let swaps = task.swaps { return try runSwaps(task, swaps, to: url, progress: progress) }
        let start = ContinuousClock.now
        var outcomes: [PromptOutcome] = []
        // A block job (global weights) traces nothing: no evaluation, no dashboards.
        var evaluation = blocks == nil ? job.evaluation.map { EvaluationTable(nLayers: session.config.nLayers, features: $0.features) } : nil
        var partners: GlobalPartners?
        if let blocks {
            // A block job: the task's blocks' partner lists; a bad block fails the task.
            do { (partners, outcomes) = try blocks.run(task.prompts, session: session, threads: threads) } catch {
                throw WorkerError(reason: "task \(task.taskID): \(error)")
            }
            progress(task.prompts.count)
        }
        for (k, prompt) in task.prompts.enumerated() where blocks == nil {
            var outcome = trace(prompt)
            if let n = job.evaluation?.features {
                evaluation?.append(evaluate(outcome, features: n))
                if case .traced(let id, let text, var result, let json) = outcome {   // the forward pass is no longer needed
                    result.forward = nil
                    outcome = .traced(id: id, prompt: text, result: result, frontendJSON: json)
                }
            }
            outcomes.append(outcome)
            progress(k + 1)
        }
        let meta = ShardWriter.Meta(jobHash: task.jobHash, taskID: task.taskID, workerID: workerID,
                                    modelChecksum: modelChecksum, transcoderChecksum: transcoderChecksum,
                                    nLayers: session.config.nLayers, dTranscoder: session.replacement.transcoders.dTranscoder,
                                    pairTargets: job.statistics.targets.map { FeatureID(layer: $0[0], feature: $0[1]) },
                                    dashboards: blocks == nil ? job.statistics.dashboardParameters : nil,
                                    firstPrompt: Int64(task.taskID) * Int64(job.promptsPerTask),
                                    logits: blocks == nil ? try featureLogits(task) : nil,
                                    activations: job.statistics.activations, keepFullGraphs: job.keepFullGraphs)
        var labels: [String: String] = [:]
        for p in task.prompts { if let label = p.label { labels[p.id] = label } }
        let sha256: String
        do {
            try ShardWriter.write(outcomes, meta: meta, labels: labels, evaluation: evaluation, partners: partners, to: url)
            sha256 = try SHA256Digest.hex(ofFileAt: url)
        } catch {
            throw ShardWriteFailure.classify(error, writing: url)
        }
        let failed = outcomes.filter { if case .failed = $0 { true } else { false } }.count
        return TaskResult(taskID: task.taskID, attempt: task.attempt, workerID: workerID,
                          sha256: sha256, promptsDone: outcomes.count - failed,
                          promptsFailed: failed, seconds: (ContinuousClock.now - start).seconds)
    }

    /// The graph evaluation of a traced prompt (`ReplacementModel.evaluate`); a row of NaNs for
    /// a prompt without a graph, or whose evaluation failed (its graph is kept).
    func evaluate(_ outcome: PromptOutcome, features n: Int) -> EvaluationTable.Row {
        let start = ContinuousClock.now
        guard case let .traced(_, _, result, _) = outcome,
              let e = try? session.replacement.evaluate(result, features: n) else { return EvaluationTable.Row(nLayers: session.config.nLayers) }
        var row = EvaluationTable.Row(e)
        row.seconds = (ContinuousClock.now - start).seconds
        return row
    }

    /// Runs a bridge-swap task (the evaluation's second phase) and writes its shard to `url`.
    /// A swap that cannot run (unknown answer word, feature outside the transcoders) is a failed
    /// row with its reason.
    func runSwaps(_ task: TaskAssignment, _ swaps: [BridgeSwapItem], to url: URL, progress: (Int) -> Void) throws -> TaskResult {
        let start = ContinuousClock.now
        var table = BridgeSwapTable()
        for (k, (prompt, item)) in zip(task.prompts, swaps).enumerated() {
            table.rows.append(swap(prompt, item))
            progress(k + 1)
        }
        let meta = ShardMeta(jobHash: task.jobHash, taskID: task.taskID, workerID: workerID,
                             modelChecksum: modelChecksum, transcoderChecksum: transcoderChecksum)
        let sha256: String
        do {
            try ShardWriter.write(table, meta: meta, to: url)
            sha256 = try SHA256Digest.hex(ofFileAt: url)
        } catch {
            throw ShardWriteFailure.classify(error, writing: url)
        }
        let done = table.rows.filter { $0.status == 1 }.count
        return TaskResult(taskID: task.taskID, attempt: task.attempt, workerID: workerID, sha256: sha256, promptsDone: done,
                          promptsFailed: table.rows.count - done, seconds: (ContinuousClock.now - start).seconds)
    }

    /// One bridge swap (`ReplacementModel.bridgeSwap`) on the prompt's clean run.
    func swap(_ prompt: PromptItem, _ item: BridgeSwapItem) -> BridgeSwapTable.Row {
        var row = BridgeSwapTable.Row(id: prompt.id, prompt: prompt.text, bridge: item.bridge, target: item.target,
                                      answer: item.answer, targetAnswer: item.targetAnswer)
        row.bridgeFeatures = Int64(item.bridgeFeatures.count)
        row.targetFeatures = Int64(item.targetFeatures.count)
        do {
            let clean = try session.replacement.cleanRun(tokens: try session.tokens(for: prompt.text))
            let swap = BridgeSwap(bridgeFeatures: item.bridgeFeatures.map { FeatureID(layer: $0[0], feature: $0[1]) },
                                  targetFeatures: zip(item.targetFeatures, item.targetValues).map { (FeatureID(layer: $0[0], feature: $0[1]), Float($1)) },
                                  answerToken: try answerToken(item.answer), targetAnswerToken: try answerToken(item.targetAnswer))
            let o = try session.replacement.bridgeSwap(clean, swap)
            row.status = 1
            row.answerProbability = o.answerProbability
            row.ablatedAnswerProbability = o.ablatedAnswerProbability
            row.swappedTopToken = session.tokenizer.decode([o.swappedTopToken]).trimmingCharacters(in: .whitespaces)
            row.swappedTopProbability = o.swappedTopProbability
            row.success = o.success ? 1 : 0
            row.ablations = Int64(o.ablations)
            row.settings = Int64(o.settings)
        } catch {
            row.reason = "\(error)"
        }
        return row
    }

    /// The token the model predicts for `word` after a prompt: the first token of `" " + word`
    /// after BOS.
    func answerToken(_ word: String) throws -> Int {
        let tokens = try session.tokens(for: " " + word)
        guard tokens.count >= 2 else { throw WorkerError(reason: "the answer '\(word)' has no token") }
        return tokens[1]
    }

    /// The feature logits of the dashboards: computed by the worker of task 0 only (they depend
    /// on the model and transcoders, not on the prompts), nil for other tasks or without dashboards.
    func featureLogits(_ task: TaskAssignment) throws -> FeatureLogitTable? {
        guard task.taskID == 0, job.statistics.dashboards else { return nil }
        return try FeatureLogits.table(model: session.replacement.model.weights, transcoders: session.replacement.transcoders,
                                       tokenText: session.tokenText)
    }

    /// The first non-finite quantity of a traced prompt, if any.
    static func nonFinite(_ r: TraceResult) -> String? {
        if !r.scores.replacement.isFinite || !r.scores.completeness.isFinite { return "graph scores" }
        if r.graph.activationValues.contains(where: { !$0.isFinite }) { return "feature activations" }
        if r.graph.logitProbabilities.contains(where: { !$0.isFinite }) { return "logit probabilities" }
        if r.pruning.nodeInfluence.contains(where: { !$0.isFinite }) { return "node influence (adjacency)" }
        return nil
    }
}
