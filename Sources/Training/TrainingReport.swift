import Foundation

/// The end-of-training summary, printed per layer and written to `OUT/training_report.json`.
///
/// FVU and L0 are measured after training on the first `evaluationTokens` non-BOS tokens of
/// the corpus, in order (the training corpus: this measures fit, not generalisation):
/// `FVU_m = Σ‖ŷ_m − y_m‖² / Σ‖y_m − ȳ_m‖²` over those tokens (means over the same tokens).
public struct TrainingReport: Codable, Equatable, Sendable {
    public struct Layer: Codable, Equatable, Sendable {
        public var layer: Int
        /// Fraction of the variance of `hook_mlp_out` unexplained (output layer `layer`).
        public var fvu: Double
        public var explainedVariance: Double
        /// Mean active features of source layer `layer` per token.
        public var meanL0: Double
        /// Features of source layer `layer` that did not fire in the last `deadWindowTokens` training tokens.
        public var deadFeatures: Int
        /// Features of source layer `layer` that never fired on the evaluation tokens.
        public var inactiveOnEvaluation: Int
    }

    public var kind: String
    public var activation: String
    public var width: Int
    public var k: Int?
    public var skip: Bool
    public var inputHook: String
    public var sparsity: Float
    public var steps: Int
    public var batchTokens: Int
    public var tokensSeen: Int
    public var corpusTokens: Int
    public var epochs: Double
    public var seconds: Double
    public var stepsPerSecond: Double
    public var evaluationTokens: Int
    public var deadWindowTokens: Int
    public var resampledFeatures: Int
    public var meanFVU: Double
    public var meanL0: Double
    public var layers: [Layer]

    /// Lines for the terminal.
    public var text: String {
        var lines = ["layer      FVU   expl.var    mean L0   dead  inactive(eval)"]
        for l in layers {
            lines.append(String(format: "%5d  %7.4f  %9.4f  %9.2f  %5d  %14d", l.layer, l.fvu, l.explainedVariance, l.meanL0,
                                l.deadFeatures, l.inactiveOnEvaluation))
        }
        lines.append(String(format: "mean   %7.4f  %9.4f  %9.2f  (%d evaluation tokens; dead = no activation in the last %d training tokens)",
                            meanFVU, 1 - meanFVU, meanL0, evaluationTokens, deadWindowTokens))
        lines.append(String(format: "%d steps × %d tokens (%.2f epochs of %d tokens) in %.1f s: %.1f steps/s, %d features resampled",
                            steps, batchTokens, epochs, corpusTokens, seconds, stepsPerSecond, resampledFeatures))
        return lines.joined(separator: "\n")
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}
