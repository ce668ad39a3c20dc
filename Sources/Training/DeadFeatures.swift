import Foundation
import Tracer

/// Which features have stopped firing, and their re-initialisation.
///
/// Every feature counts the training tokens since it last fired (saturating at the window). A
/// feature is *dead* when it has not fired in the last `window` tokens. Every `resampleEvery`
/// steps, dead features are re-initialised (method: random re-initialisation):
/// - encoder row: a random direction with the mean norm of the layer's live encoder rows;
///   `b_enc = 0`; JumpReLU threshold back to its initial value;
/// - decoder row: a random direction with 0.1 × the mean norm of the live decoder rows (small,
///   so the feature starts by perturbing the reconstruction little);
/// - the Adam moments of all those entries restart at zero;
/// - its counter restarts at zero, so it gets a whole window to become useful.
/// With `b_enc = 0` and unit-scale inputs, a resampled feature fires on a large share of tokens
/// at first, and the sparsity penalty then shapes it like any other feature.
public struct DeadFeatures: Codable, Equatable, Sendable {
    public let nLayers: Int
    public let dTranscoder: Int
    public let window: Int
    /// `[nLayers, dT]`: tokens since the feature last fired (≤ window).
    public var tokensSinceFired: [Int]
    /// Features re-initialised so far.
    public var resampled = 0

    public init(nLayers: Int, dTranscoder: Int, window: Int) {
        self.nLayers = nLayers
        self.dTranscoder = dTranscoder
        self.window = window
        tokensSinceFired = [Int](repeating: 0, count: nLayers * dTranscoder)
    }

    /// Dead features per layer.
    public var deadCounts: [Int] {
        (0..<nLayers).map { l in tokensSinceFired[(l * dTranscoder)..<((l + 1) * dTranscoder)].filter { $0 >= window }.count }
    }

    /// Records one batch: `fired[l·dT + i]` tells whether feature i of layer l fired on any of its `tokens`.
    public mutating func record(fired: [Bool], tokens: Int) {
        for j in tokensSinceFired.indices {
            tokensSinceFired[j] = fired[j] ? 0 : min(tokensSinceFired[j] + tokens, window)
        }
    }

    /// Re-initialises every dead feature (see the type's description); returns how many.
    public mutating func resample(_ trainer: TranscoderTrainer, adam: inout Adam, rng: inout SeededRandom) -> Int {
        let layout = trainer.layout, d = layout.shape.dModel, dT = dTranscoder
        var count = 0
        for l in 0..<nLayers {
            let dead = (0..<dT).filter { tokensSinceFired[l * dT + $0] >= window }
            guard !dead.isEmpty else { continue }
            let width = layout.decoderRowLength(l)
            let live = (0..<dT).filter { tokensSinceFired[l * dT + $0] < window }
            func rowNorm(_ offset: Int, _ n: Int) -> Float {
                var s: Float = 0
                for j in 0..<n { s += trainer.parameters[offset + j] * trainer.parameters[offset + j] }
                return s.squareRoot()
            }
            let encNorm = live.isEmpty ? 1 : live.map { rowNorm(layout.encoder[l] + $0 * d, d) }.reduce(0, +) / Float(live.count)
            let decNorm = live.isEmpty
                ? (TrainingConstants.initialDecoderVariance / Float(dT)).squareRoot()
                : 0.1 * live.map { rowNorm(layout.decoder[l] + $0 * width, width) }.reduce(0, +) / Float(live.count)
            for i in dead {
                ParameterInitialization.initializeFeature(&trainer.parameters, layout, layer: l, feature: i, rng: &rng,
                                                          encoderNorm: encNorm, decoderNorm: decNorm)
                adam.reset((layout.encoder[l] + i * d)..<(layout.encoder[l] + (i + 1) * d))
                adam.reset((layout.encoderBias[l] + i)..<(layout.encoderBias[l] + i + 1))
                if !layout.logThreshold.isEmpty { adam.reset((layout.logThreshold[l] + i)..<(layout.logThreshold[l] + i + 1)) }
                adam.reset((layout.decoder[l] + i * width)..<(layout.decoder[l] + (i + 1) * width))
                tokensSinceFired[l * dT + i] = 0
            }
            count += dead.count
        }
        resampled += count
        return count
    }
}
