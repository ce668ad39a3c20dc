import ArgumentParser
import Foundation
import Logging
import Tokenizers
import Shared
import Storage
import Tracer
import Training

extension Circuits {
    struct TrainTranscoders: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-transcoders",
            abstract: "Train per-layer (PLT) or cross-layer (CLT) transcoders on a model's MLPs over a corpus.",
            discussion: """
            Runs the model over the corpus (JSONL {"id","prompt"} or plain text, BOS prepended, BOS \
            positions excluded), keeps a bounded, shuffled block of (transcoder input, hook_mlp_out) \
            activations per token, and trains with Adam on the variance-normalised reconstruction \
            error plus a sparsity penalty: L1 on decoder-norm-weighted activations (relu), \
            tanh of them with learned thresholds (jumprelu), or none (topk). Dead features are \
            re-initialised. Progress goes to standard error; OUT/checkpoint/ is written every \
            --checkpoint-every steps and --resume continues from it exactly.

            Writes circuit-tracer's native format into OUT (layer_{l}.safetensors, or \
            W_enc_{l}/W_dec_{l}.safetensors for a CLT, plus config.yaml), loadable by \
            `circuits trace --transcoders OUT` and by circuit-tracer, and OUT/training_report.json \
            (per-layer FVU, mean L0, dead features).

            Example:
              circuits train-transcoders --model models/demo/model --corpus models/demo/transcoder_corpus.txt \\
                  --kind plt --width 256 --activation relu --steps 2000 --out out/plt
            """
        )

        @Option(help: "Hugging Face model folder.")
        var model: String

        @Option(help: "Corpus: JSONL ({\"id\", \"prompt\"} a line) or plain text (one prompt a line).")
        var corpus: String

        @Option(help: "plt (one transcoder per layer) or clt (cross-layer transcoder).")
        var kind: String

        @Option(help: "Features per layer (d_transcoder).")
        var width: Int

        @Option(help: "relu, jumprelu or topk.")
        var activation: String

        @Option(help: "TopK's k (required with --activation topk).")
        var k: Int?

        @Flag(help: "Learn a linear skip connection W_skip (plt only).")
        var skip = false

        @Option(help: "Output folder (transcoders, checkpoint/, training_report.json).")
        var out: String

        @Option(help: "Optimiser steps.")
        var steps = 2000

        @Option(help: "Tokens per step.")
        var batchTokens = 1024

        @Option(help: "Adam learning rate (after warm-up).")
        var lr: Float = 1e-3

        @Option(help: ArgumentHelp("Sparsity coefficient λ (default: \(TrainingConstants.defaultSparsity(for: .relu)) for relu, \(TrainingConstants.defaultSparsity(for: .jumprelu)) for jumprelu; topk has no penalty)."))
        var l1: Float?

        @Option(help: "Random seed (initialisation, shuffling, resampling).")
        var seed: UInt64 = 0

        @Option(help: "Where features read: hook_resid_mid, ln2.hook_normalized or mlp.hook_in.")
        var inputHook: String = TranscoderConfig.InputHook.residMid.rawValue

        @Flag(help: "Continue from OUT/checkpoint/ (same options; --steps may be larger).")
        var resume = false

        @Option(help: "Learning-rate warm-up steps.")
        var warmupSteps = 100

        @Option(help: "Tokens per shuffle block held in memory.")
        var bufferTokens = TrainingConstants.defaultBufferTokens

        @Option(help: "A feature silent for this many training tokens is dead.")
        var deadWindow = TrainingConstants.defaultDeadWindowTokens

        @Option(help: "Re-initialise dead features every this many steps (0: never).")
        var resampleEvery = 500

        @Option(help: "Write OUT/checkpoint/ every this many steps (0: only at the end).")
        var checkpointEvery = 500

        @Option(help: "Corpus tokens (from its start) for the final per-layer report.")
        var evalTokens = 4096

        @Option(help: "A progress line every this many steps.")
        var logEvery = 100

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            try reportingErrors {
                let options = try trainingOptions()
                try TrainingRunner.run(options: options, model: URL(fileURLWithPath: model), corpus: URL(fileURLWithPath: corpus),
                                       out: URL(fileURLWithPath: out), resume: resume, logEvery: logEvery)
            }
        }

        /// The options, checked (one-line errors naming the option; exit status 2).
        func trainingOptions() throws -> TrainingOptions {
            guard let kind = TrainingOptions.Kind(rawValue: kind.lowercased()) else {
                throw TrainingError.invalidOption("--kind", "'\(self.kind)' (expected plt or clt)")
            }
            guard let activation = TrainingOptions.ActivationKind(rawValue: activation.lowercased()) else {
                throw TrainingError.invalidOption("--activation", "'\(self.activation)' (expected relu, jumprelu or topk)")
            }
            var o = TrainingOptions(kind: kind, width: width, activation: activation, k: k)
            o.skip = skip
            o.inputHook = inputHook
            o.steps = steps
            o.batchTokens = batchTokens
            o.learningRate = lr
            o.sparsity = l1
            o.seed = seed
            o.warmupSteps = warmupSteps
            o.bufferTokens = bufferTokens
            o.deadWindowTokens = deadWindow
            o.resampleEvery = resampleEvery
            o.checkpointEvery = checkpointEvery
            o.evaluationTokens = evalTokens
            guard logEvery >= 1 else { throw TrainingError.invalidOption("--log-every", "must be at least 1") }
            try o.validate()
            return o
        }
    }
}

/// What `train-transcoders` does once its options are checked.
enum TrainingRunner {
    static func run(options: TrainingOptions, model modelURL: URL, corpus corpusURL: URL, out: URL, resume: Bool, logEvery: Int) throws {
        let fm = FileManager.default
        let checkpointFolder = Checkpoint.folder(in: out)
        if !resume, fm.fileExists(atPath: checkpointFolder.path) {
            throw TrainingError.checkpoint(checkpointFolder.path, reason: "exists; pass --resume to continue that run or choose another --out")
        }
        let corpus = try Corpus.load(corpusURL)
        let model = try Transformer(directory: modelURL)
        let tokenizer = try Tokenizer(modelDirectory: modelURL)
        let (prompts, skipped) = ActivationStream.tokenize(corpus, tokenizer: tokenizer, maxTokens: model.config.nCtx, nVocab: model.config.nVocab)
        guard !prompts.isEmpty else {
            throw TrainingError.emptyCorpus(corpusURL.path, reason: "no prompt tokenizes to a token after BOS (\(skipped) skipped)")
        }
        let checkpoint = resume ? try Checkpoint.read(in: out) : nil
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        let training = try TranscoderTraining(options: options, model: model, prompts: prompts, checkpoint: checkpoint)
        let logger = Logger(label: "circuits.train")
        logger.info("""
        train-transcoders: \(options.kind.rawValue) \(options.activation.rawValue)\(options.activation == .topk ? " k=\(options.k ?? 0)" : "") \
        width \(options.width)\(options.skip ? " + skip" : "") on \(model.config.nLayers) layers × d_model \(model.config.dModel), \
        input \(options.inputHook) → hook_mlp_out; \(prompts.count) prompts (\(training.stream.corpusTokens) tokens\
        \(skipped > 0 ? ", \(skipped) skipped" : "")); λ \(training.trainer.sparsity); \
        \(resume ? "resuming at step \(training.step)" : "fresh start")
        """)
        try training.train(checkpointInto: out, reportEvery: logEvery) { logger.info("\($0.line)") }
        try training.export(to: out, modelName: modelURL.relativePath)   // as given: no machine-specific absolute path
        let report = try training.evaluate()
        try report.write(to: out.appendingPathComponent("training_report.json"))
        print(report.text)
        print("wrote \(out.path) (\(options.kind == .plt ? "layer_{l}.safetensors" : "W_enc_{l}/W_dec_{l}.safetensors"), config.yaml, training_report.json, checkpoint/)")
    }
}
