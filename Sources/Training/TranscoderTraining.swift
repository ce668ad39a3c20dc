import Foundation
import Tokenizers
import Storage
import Tracer

// Training: where it sits in the data flow.
//
//   corpus ─Tokenizer─▶ token ids ─Transformer.forward─▶ (x_in, hook_mlp_out) per layer
//     ─ActivationStream (shuffled blocks)─▶ batches ─Normalization─▶ TranscoderTrainer
//     (loss, gradients) ─Adam─▶ parameters ─DeadFeatures (resample)─▶ … ─Checkpoint─▶ OUT/checkpoint
//     ─TranscoderExport─▶ OUT/*.safetensors + config.yaml (what TranscoderSet and circuit-tracer load)
//
// `TranscoderTraining` owns one run: set up (fresh or from a checkpoint), step, evaluate, export.

/// One line of progress: averages over the steps since the previous line.
public struct TrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    public var loss: Double
    /// `1 − mean FVU` over layers (batch estimates).
    public var explainedVariance: Double
    /// Mean active features per token and layer.
    public var meanL0: Double
    public var deadFeatures: Int
    public var stepsPerSecond: Double

    public var line: String {
        String(format: "step %d/%d · loss %.4f · explained variance %.4f · L0 %.2f · dead %d · %.1f steps/s",
               step, steps, loss, explainedVariance, meanL0, deadFeatures, stepsPerSecond)
    }
}

/// A transcoder training run on one model and corpus.
public final class TranscoderTraining {
    public let options: TrainingOptions
    public let model: Transformer
    public let stream: ActivationStream
    public let trainer: TranscoderTrainer
    public private(set) var adam: Adam
    public private(set) var normalization: Normalization
    public private(set) var dead: DeadFeatures
    public private(set) var step = 0
    public private(set) var tokensSeen = 0
    private var rng: SeededRandom
    private var seconds: Double = 0
    /// `[batchTokens, nLayers·d]` each.
    private var batchX: [Float], batchY: [Float]

    /// Tokens of the corpus start used to measure `Normalization` on a fresh run.
    static let normalizationTokens = 4096

    /// Sets up a fresh run (parameters drawn from `options.seed`), or continues `checkpoint`.
    ///
    /// - Parameter prompts: token ids with BOS first (`ActivationStream.tokenize`).
    public init(options: TrainingOptions, model: Transformer, prompts: [[Int]], checkpoint: Checkpoint? = nil) throws {
        try options.validate()
        let hook = try options.hook
        let c = model.config
        let shape = TranscoderShape(kind: options.kind, activation: options.activation, k: options.k ?? 0, skip: options.skip,
                                    nLayers: c.nLayers, dModel: c.dModel, dTranscoder: options.width)
        let layout = ParameterLayout(shape)
        self.options = options
        self.model = model
        self.stream = ActivationStream(model: model, prompts: prompts, inputHook: hook, blockTokens: options.bufferTokens, seed: options.seed)
        guard stream.corpusTokens > 0 else { throw TrainingError.emptyCorpus("", reason: "no prompt has a token after BOS") }
        batchX = [Float](repeating: 0, count: options.batchTokens * c.nLayers * c.dModel)
        batchY = batchX

        if let checkpoint {
            let s = checkpoint.state
            guard options.isResumable(from: s.options) else {
                throw TrainingError.checkpoint("checkpoint", reason: "was written with other options (\(s.options.kind.rawValue), width \(s.options.width), \(s.options.activation.rawValue), batch \(s.options.batchTokens), lr \(s.options.learningRate), seed \(s.options.seed), …); only --steps may change on --resume")
            }
            guard s.layout == layout else { throw TrainingError.checkpoint("checkpoint", reason: "parameter layout differs from this model's") }
            trainer = TranscoderTrainer(layout: layout, parameters: checkpoint.parameters, sparsity: options.effectiveSparsity)
            adam = checkpoint.adam
            normalization = s.normalization
            dead = s.dead
            step = s.step
            tokensSeen = s.tokensSeen
            seconds = s.seconds
            rng = SeededRandom(state: UInt64(s.randomState)!)
            try stream.restore(s.stream)
        } else {
            // Scales from the corpus start (in order), then the initial parameters.
            var xs: [Float] = [], ys: [Float] = [], n = 0
            for p in stream.prompts where n < TranscoderTraining.normalizationTokens {
                let (x, y) = try stream.activations(of: p)
                xs += x; ys += y; n += p.count - 1
            }
            normalization = Normalization(x: xs, y: ys, count: n, nLayers: c.nLayers, dModel: c.dModel)
            rng = SeededRandom(seed: options.seed)
            trainer = TranscoderTrainer(layout: layout, parameters: ParameterInitialization.parameters(layout, normalization: normalization, rng: &rng),
                                        sparsity: options.effectiveSparsity)
            adam = Adam(count: layout.count)
            dead = DeadFeatures(nLayers: c.nLayers, dTranscoder: options.width, window: options.deadWindowTokens)
        }
    }

    /// The state to write as a checkpoint.
    public var checkpoint: Checkpoint {
        Checkpoint(state: .init(options: options, layout: trainer.layout, step: step, adamSteps: adam.t, randomState: String(rng.state),
                                stream: stream.position, normalization: normalization, dead: dead, tokensSeen: tokensSeen,
                                seconds: seconds),
                   parameters: trainer.parameters, adam: adam)
    }

    /// Learning rate at `step` (0-based): linear warm-up, then constant.
    func learningRate(at step: Int) -> Float {
        guard options.warmupSteps > 0, step < options.warmupSteps else { return options.learningRate }
        return options.learningRate * Float(step + 1) / Float(options.warmupSteps)
    }

    /// Trains until `options.steps`, checkpointing into `out` every `options.checkpointEvery`
    /// steps and at the end (nil `out`: never), and calling `progress` every `reportEvery` steps
    /// and at the last step.
    public func train(checkpointInto out: URL? = nil, reportEvery: Int = 100, progress: ((TrainingProgress) -> Void)? = nil) throws {
        let B = options.batchTokens, d = model.config.dModel
        var sumLoss = 0.0, sumFVU = 0.0, sumL0 = 0.0, n = 0
        var windowStart = ContinuousClock.now
        while step < options.steps {
            let started = ContinuousClock.now
            try batchX.withUnsafeMutableBufferPointer { X in
                try batchY.withUnsafeMutableBufferPointer { Y in
                    try stream.nextBatch(x: X.baseAddress!, y: Y.baseAddress!, count: B)
                    normalization.apply(x: X.baseAddress!, y: Y.baseAddress!, count: B, dModel: d)
                }
            }
            let stats = batchX.withUnsafeBufferPointer { X in
                batchY.withUnsafeBufferPointer { Y in trainer.lossAndGradients(x: X.baseAddress!, y: Y.baseAddress!, batch: B) }
            }
            guard stats.loss.isFinite else { throw TrainingError.diverged(step: step + 1, what: "loss") }
            adam.step(&trainer.parameters, gradients: trainer.gradients, lr: learningRate(at: step))
            dead.record(fired: trainer.fired, tokens: B)
            step += 1
            tokensSeen += B
            if options.resampleEvery > 0, step % options.resampleEvery == 0, step < options.steps {
                _ = dead.resample(trainer, adam: &adam, rng: &rng)
            }
            seconds += (ContinuousClock.now - started).seconds
            sumLoss += stats.loss; sumFVU += stats.meanFVU; sumL0 += stats.meanL0; n += 1
            if let progress, step % max(1, reportEvery) == 0 || step == options.steps {
                let elapsed = (ContinuousClock.now - windowStart).seconds
                progress(TrainingProgress(step: step, steps: options.steps, loss: sumLoss / Double(n), explainedVariance: 1 - sumFVU / Double(n),
                                          meanL0: sumL0 / Double(n), deadFeatures: dead.deadCounts.reduce(0, +),
                                          stepsPerSecond: elapsed > 0 ? Double(n) / elapsed : 0))
                sumLoss = 0; sumFVU = 0; sumL0 = 0; n = 0
                windowStart = ContinuousClock.now
            }
            if let out, options.checkpointEvery > 0, step % options.checkpointEvery == 0, step < options.steps {
                try checkpoint.write(in: out)
            }
        }
        if let out { try checkpoint.write(in: out) }
    }

    /// Per-layer FVU, L0 and dead features on the first `options.evaluationTokens` corpus tokens.
    public func evaluate() throws -> TrainingReport {
        let L = model.config.nLayers, d = model.config.dModel, dT = options.width, w = L * d
        var sse = [Double](repeating: 0, count: L), sum = [Double](repeating: 0, count: L * d), sumSq = [Double](repeating: 0, count: L)
        var active = [Double](repeating: 0, count: L), fired = [Bool](repeating: false, count: L * dT)
        var n = 0
        for p in stream.prompts where n < options.evaluationTokens {
            var (x, y) = try stream.activations(of: p)
            let rows = min(p.count - 1, options.evaluationTokens - n)
            x.withUnsafeMutableBufferPointer { X in
                y.withUnsafeMutableBufferPointer { Y in normalization.apply(x: X.baseAddress!, y: Y.baseAddress!, count: rows, dModel: d) }
            }
            x.withUnsafeBufferPointer { trainer.forward(x: $0.baseAddress!, batch: rows) }
            let recon = trainer.reconstruction(batch: rows)
            let base = recon.startIndex
            for r in 0..<rows {
                for m in 0..<L {
                    for i in 0..<d {
                        let j = r * w + m * d + i
                        let t = Double(y[j]), e = Double(recon[base + j]) - t
                        sse[m] += e * e; sum[m * d + i] += t; sumSq[m] += t * t
                    }
                }
            }
            for l in 0..<L {
                let a = trainer.activations(layer: l, batch: rows), ab = a.startIndex
                for r in 0..<rows {
                    for i in 0..<dT where a[ab + r * dT + i] != 0 { active[l] += 1; fired[l * dT + i] = true }
                }
            }
            n += rows
        }
        let deadCounts = dead.deadCounts
        var layers: [TrainingReport.Layer] = []
        for l in 0..<L {
            var meanSq = 0.0
            for i in 0..<d { let mu = sum[l * d + i] / Double(n); meanSq += mu * mu }
            let variance = sumSq[l] - Double(n) * meanSq
            let fvu = variance > 0 ? sse[l] / variance : .nan
            layers.append(.init(layer: l, fvu: fvu, explainedVariance: 1 - fvu, meanL0: active[l] / Double(n),
                                deadFeatures: deadCounts[l], inactiveOnEvaluation: (0..<dT).filter { !fired[l * dT + $0] }.count))
        }
        let meanFVU = layers.map(\.fvu).reduce(0, +) / Double(L)
        return TrainingReport(kind: options.kind.rawValue, activation: options.activation.rawValue, width: options.width,
                              k: options.activation == .topk ? options.k : nil, skip: options.skip, inputHook: options.inputHook,
                              sparsity: trainer.sparsity, steps: step, batchTokens: options.batchTokens, tokensSeen: tokensSeen,
                              corpusTokens: stream.corpusTokens, epochs: Double(tokensSeen) / Double(stream.corpusTokens),
                              seconds: seconds, stepsPerSecond: seconds > 0 ? Double(step) / seconds : 0, evaluationTokens: n,
                              deadWindowTokens: options.deadWindowTokens, resampledFeatures: dead.resampled, meanFVU: meanFVU,
                              meanL0: layers.map(\.meanL0).reduce(0, +) / Double(L), layers: layers)
    }

    /// Writes the trained transcoders in circuit-tracer's native format into `directory`.
    public func export(to directory: URL, modelName: String) throws {
        try TranscoderExport.write(parameters: trainer.parameters, layout: trainer.layout, normalization: normalization,
                                   inputHook: try options.hook, modelName: modelName, to: directory)
    }
}
