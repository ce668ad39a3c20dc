import Foundation
import Shared
import Storage
import Tokenizers
import Tracer

/// Runs the tasks of an EAP job (`JobSpec.eap`): each task's prompts are lines of the pairs file;
/// the worker reads them into tokenized pairs (`PromptPairFile.read(lines:…)`, the rules of `circuits eap`'s pair files), scores every edge of every
/// pair (`EdgeAttribution`: EAP, and EAP-IG / exact patching when the job asks), and writes the
/// task's sums (`EdgeScoreSums`) into its shard's `/eap` group, beside `/meta` and the prompt
/// table (one row per pair: scored, or skipped with its reason). A pair that cannot be scored
/// never fails the task. Loads the model and its tokenizer only: no transcoders.
public final class EAPTaskRunner: TaskRunning {
    public let job: JobSpec
    public let spec: JobSpec.EAP
    public let workerID: String
    let attribution: EdgeAttribution
    let tokenizer: Tokenizer
    let modelChecksum: String

    public init(job: JobSpec, workerID: String, threads: Int) throws {
        guard let spec = job.eap else { throw WorkerError(reason: "not an EAP job (no eap section)") }
        guard let metric = EAPMetric(rawValue: spec.metric) else { throw WorkerError(reason: "unknown EAP metric \(spec.metric)") }
        self.job = job
        self.spec = spec
        self.workerID = workerID
        let directory = URL(fileURLWithPath: job.model)
        attribution = EdgeAttribution(model: try Transformer(directory: directory), metric: metric)
        tokenizer = try Tokenizer(modelDirectory: directory)
        modelChecksum = try SHA256Digest.hex(ofFolder: directory)
        if threads >= 1 { setBLASThreads(threads) }
    }

    /// The methods the job runs, in `EdgeScoreSums` naming.
    var methods: [EdgeScoreSums.Method] {
        [.eap] + (spec.igSteps > 0 ? [.eapIG] : []) + (spec.exact ? [.exact] : [])
    }

    /// An empty sum over the model's edges with the job's metric and methods.
    func emptySums() -> EdgeScoreSums {
        let g = attribution.graph
        return EdgeScoreSums(edges: g.edges.map(g.name(of:)), metric: spec.metric, igSteps: spec.igSteps, methods: methods)
    }

    /// Every method of the job on one pair: the metric on both prompts and per-edge scores.
    /// - Throws: the engine's error, or `WorkerError` for a non-finite metric or score.
    public func score(_ pair: PromptPair) throws -> (clean: Double, corrupt: Double, scores: [EdgeScoreSums.Method: [Double]]) {
        let first = try attribution.eap(pair)
        var scores: [EdgeScoreSums.Method: [Double]] = [.eap: first.eap ?? []]
        if spec.igSteps > 0 { scores[.eapIG] = try attribution.eapIG(pair, steps: spec.igSteps).eapIG ?? [] }
        if spec.exact { scores[.exact] = try attribution.exact(pair).exact ?? [] }
        guard first.cleanMetric.isFinite, first.corruptMetric.isFinite else {
            throw WorkerError(reason: "non-finite metric (clean \(first.cleanMetric), corrupt \(first.corruptMetric))")
        }
        for (m, s) in scores {
            if let k = s.firstIndex(where: { !$0.isFinite }) {
                throw WorkerError(reason: "non-finite \(m.rawValue) score of edge \(attribution.graph.name(of: attribution.graph.edges[k]))")
            }
        }
        return (first.cleanMetric, first.corruptMetric, scores)
    }

    /// Scores a task's pairs and writes its shard to `url`; `progress(k)` after each pair.
    /// - Throws: `ShardWriteFailure` when the shard cannot be written; a pair's own failure is
    ///   a skipped row of the shard, never thrown.
    public func run(_ task: TaskAssignment, to url: URL, progress: (Int) -> Void) throws -> TaskResult {
        let start = ContinuousClock.now
        let read = PromptPairFile.read(lines: task.prompts.map { ($0.id, $0.text) }, tokenizer: tokenizer,
                                       nVocab: attribution.model.config.nVocab, nCtx: attribution.model.config.nCtx)
        var pairByID: [String: PromptPair] = [:]
        for p in read.pairs { pairByID[p.id] = p }
        var skipReason: [String: String] = [:]
        for s in read.skipped { skipReason[s.id] = s.reason }
        var sums = emptySums()
        var table = PromptTable()
        for (k, item) in task.prompts.enumerated() {
            let pairStart = ContinuousClock.now
            if let pair = pairByID[item.id] {
                do {
                    let s = try score(pair)
                    try sums.add(cleanMetric: s.clean, corruptMetric: s.corrupt, scores: s.scores)
                    var row = PromptTable.Row(id: item.id, prompt: item.text, status: 1)
                    row.nTokens = Int64(pair.clean.count)
                    row.edges = Int64(sums.edges.count)
                    row.seconds = (ContinuousClock.now - pairStart).seconds
                    table.append(row)
                } catch {
                    table.append(.failed(id: item.id, prompt: item.text, reason: "\(error)"))
                }
            } else {
                table.append(.failed(id: item.id, prompt: item.text, reason: skipReason[item.id] ?? "not read"))
            }
            progress(k + 1)
        }
        let meta = ShardMeta(jobHash: task.jobHash, taskID: task.taskID, workerID: workerID, modelChecksum: modelChecksum, transcoderChecksum: "")
        let sha256: String
        do {
            try ShardWriter.write(sums, prompts: table, meta: meta, to: url)
            sha256 = try SHA256Digest.hex(ofFileAt: url)
        } catch {
            throw ShardWriteFailure.classify(error, writing: url)
        }
        return TaskResult(taskID: task.taskID, attempt: task.attempt, workerID: workerID, sha256: sha256, promptsDone: sums.pairs,
                          promptsFailed: task.prompts.count - sums.pairs, seconds: (ContinuousClock.now - start).seconds)
    }
}

/// What a worker runs its tasks with: `TaskRunner` (attribution graphs, statistics, global
/// blocks, bridge swaps) or `EAPTaskRunner` (an EAP job).
public protocol TaskRunning: Sendable {
    func run(_ task: TaskAssignment, to url: URL, progress: (Int) -> Void) throws -> TaskResult
}

extension TaskRunner: TaskRunning {}
