import Foundation
import Tracer

/// What `circuits train-transcoders` trains and how. Every field has a default except the
/// transcoder's kind, width and activation; `TranscoderTraining` reads nothing else.
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// Per-layer transcoders (one encoder/decoder pair per layer) or a cross-layer transcoder
    /// (layer `l`'s features decode into every layer `m ≥ l`).
    public enum Kind: String, Codable, Sendable, CaseIterable { case plt, clt }
    /// The feature nonlinearity, as the engine and circuit-tracer apply it.
    public enum ActivationKind: String, Codable, Sendable, CaseIterable {
        /// `max(pre, 0)`; sparsity by an L1 penalty on decoder-norm-weighted activations.
        case relu
        /// `pre · (pre > θ)` with learned thresholds; sparsity by a tanh (smoothed L0) penalty.
        case jumprelu
        /// The `k` largest pre-activations of each token, unchanged; no penalty.
        case topk
    }

    public var kind: Kind
    /// Features per layer (`d_transcoder`).
    public var width: Int
    public var activation: ActivationKind
    /// TopK's `k` (required for `topk`, ignored otherwise).
    public var k: Int?
    /// A learned linear skip `x_in · W_skipᵀ` (PLT only: circuit-tracer's CLT format drops `W_skip`).
    public var skip = false
    /// Where features read, relative to `blocks.{l}`.
    public var inputHook: String = TranscoderConfig.InputHook.residMid.rawValue
    /// Optimiser steps.
    public var steps = 2000
    /// Tokens per step (every layer sees the same tokens).
    public var batchTokens = 1024
    /// Adam's learning rate after warm-up.
    public var learningRate: Float = 1e-3
    /// The sparsity coefficient λ; nil = `TrainingConstants.defaultSparsity(for:)`.
    public var sparsity: Float?
    public var seed: UInt64 = 0
    /// Linear learning-rate warm-up from 0 over this many steps (0: none).
    public var warmupSteps = 100
    /// Tokens per shuffle block (the activations held in memory): `TrainingConstants.defaultBufferTokens`,
    /// reduced so that a block stays under `TrainingConstants.maxBufferBytes`.
    public var bufferTokens = TrainingConstants.defaultBufferTokens
    /// A feature that has not fired in this many training tokens is dead.
    public var deadWindowTokens = TrainingConstants.defaultDeadWindowTokens
    /// Every this many steps, dead features are re-initialised (0: never).
    public var resampleEvery = 500
    /// Write `OUT/checkpoint/` every this many steps (and at the end; 0: only at the end).
    public var checkpointEvery = 500
    /// Tokens of the corpus (from its start, in order) used for the final per-layer report.
    public var evaluationTokens = 4096

    public init(kind: Kind, width: Int, activation: ActivationKind, k: Int? = nil) {
        self.kind = kind
        self.width = width
        self.activation = activation
        self.k = k
    }

    /// λ actually used.
    public var effectiveSparsity: Float { sparsity ?? TrainingConstants.defaultSparsity(for: activation) }

    /// The input hook as the engine names it.
    public var hook: TranscoderConfig.InputHook {
        get throws {
            guard let h = TranscoderConfig.InputHook(rawValue: inputHook) else {
                throw TrainingError.invalidOption("--input-hook", "'\(inputHook)' (expected one of \(TranscoderConfig.InputHook.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return h
        }
    }

    /// Checks the options against each other (not against a model).
    public func validate() throws {
        guard width >= 1 else { throw TrainingError.invalidOption("--width", "must be at least 1 (got \(width))") }
        switch activation {
        case .topk:
            guard let k else { throw TrainingError.invalidOption("--k", "is required with --activation topk") }
            guard k >= 1, k <= width else { throw TrainingError.invalidOption("--k", "must be between 1 and --width \(width) (got \(k))") }
        case .relu, .jumprelu:
            break
        }
        if skip && kind == .clt {
            throw TrainingError.invalidOption("--skip", "is for --kind plt only (circuit-tracer's CLT format has no W_skip)")
        }
        guard steps >= 1 else { throw TrainingError.invalidOption("--steps", "must be at least 1 (got \(steps))") }
        guard batchTokens >= 1 else { throw TrainingError.invalidOption("--batch-tokens", "must be at least 1 (got \(batchTokens))") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError.invalidOption("--lr", "must be positive (got \(learningRate))") }
        if let sparsity, !(sparsity >= 0 && sparsity.isFinite) { throw TrainingError.invalidOption("--l1", "must be ≥ 0 (got \(sparsity))") }
        guard warmupSteps >= 0 else { throw TrainingError.invalidOption("--warmup-steps", "must be ≥ 0") }
        guard bufferTokens >= 1 else { throw TrainingError.invalidOption("--buffer-tokens", "must be at least 1") }
        guard deadWindowTokens >= 1 else { throw TrainingError.invalidOption("--dead-window", "must be at least 1") }
        guard resampleEvery >= 0, checkpointEvery >= 0 else { throw TrainingError.invalidOption("--resample-every/--checkpoint-every", "must be ≥ 0") }
        guard evaluationTokens >= 1 else { throw TrainingError.invalidOption("--eval-tokens", "must be at least 1") }
        _ = try hook
    }

    /// Whether a checkpoint written with `other` can be continued with these options: everything
    /// that shapes the parameters, the data or the update must agree (only `steps`,
    /// `checkpointEvery` and `evaluationTokens` may change).
    func isResumable(from other: TrainingOptions) -> Bool {
        var a = self, b = other
        a.steps = 0; b.steps = 0
        a.checkpointEvery = 0; b.checkpointEvery = 0
        a.evaluationTokens = 0; b.evaluationTokens = 0
        return a == b
    }
}

/// Constants of the training method, defined once (CLI defaults and library read these).
public enum TrainingConstants {
    /// Default λ per activation, in the loss units of `TranscoderTrainer` (FVU + λ·penalty):
    /// ReLU L1 on `a·‖W̃_dec‖`, JumpReLU `tanh(c·a·‖W̃_dec‖)` (TopK has none).
    public static func defaultSparsity(for activation: TrainingOptions.ActivationKind) -> Float {
        switch activation {
        case .relu: return 1e-2
        case .jumprelu: return 3e-3
        case .topk: return 0
        }
    }
    /// `c` of the JumpReLU penalty `tanh(c · a · ‖W̃_dec‖)` (normalised units, where a token's target has norm ≈ √dModel).
    public static let tanhScale: Float = 4
    /// Width ε of the rectangle kernel in the JumpReLU threshold pseudo-derivative
    /// `∂a/∂θ = −(θ/ε)·1[|pre − θ| < ε/2]` (pre-activation units; inputs are normalised so that
    /// pre-activations start with unit scale).
    public static let jumpReLUBandwidth: Float = 0.5
    /// Initial JumpReLU threshold.
    public static let initialThreshold: Float = 0.5
    /// Default tokens per shuffle block.
    public static let defaultBufferTokens = 16384
    /// A shuffle block never holds more than this many bytes of activations.
    public static let maxBufferBytes = 2 << 30
    /// Default dead-feature window (tokens).
    public static let defaultDeadWindowTokens = 100_000
    /// Initial normalised decoder norm: `sqrt(initialDecoderVariance / dTranscoder)`, so that
    /// half the features firing at unit scale reconstruct noise of about this fraction of the target variance.
    public static let initialDecoderVariance: Float = 0.2
    /// Adam's β₁, β₂ and ε.
    public static let adamBeta1: Float = 0.9
    public static let adamBeta2: Float = 0.999
    public static let adamEpsilon: Float = 1e-8
}
