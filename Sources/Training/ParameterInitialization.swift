import Foundation
import Tracer

/// The starting point of training and of a resampled feature.
///
/// With normalised inputs (`E‖x̃‖² ≈ d`), an encoder row is a random unit-norm direction, so
/// `pre = u·x̃` starts with about unit variance (`E‖x̃‖²/d` for isotropic inputs); `b_enc = 0` (ReLU and TopK: about half the features fire at first), JumpReLU
/// thresholds start at `TrainingConstants.initialThreshold`. A decoder row is a random
/// direction of norm `sqrt(initialDecoderVariance / dT)`, `b_dec` the mean target, `W_skip = 0`.
public enum ParameterInitialization {
    /// Fresh parameters for `layout`.
    public static func parameters(_ layout: ParameterLayout, normalization: Normalization, rng: inout SeededRandom) -> [Float] {
        var p = [Float](repeating: 0, count: layout.count)
        let s = layout.shape
        for l in 0..<s.nLayers {
            for i in 0..<s.dTranscoder { initializeFeature(&p, layout, layer: l, feature: i, rng: &rng) }
            for i in 0..<s.dModel { p[layout.decoderBias[l] + i] = normalization.targetMean[l * s.dModel + i] }
        }
        return p
    }

    /// Encoder row `i` of layer `l` (unit norm), its bias (0), threshold and decoder row.
    public static func initializeFeature(_ p: inout [Float], _ layout: ParameterLayout, layer l: Int, feature i: Int,
                                         rng: inout SeededRandom, encoderNorm: Float = 1, decoderNorm: Float? = nil) {
        let s = layout.shape, d = s.dModel
        let decNorm = decoderNorm ?? (TrainingConstants.initialDecoderVariance / Float(s.dTranscoder)).squareRoot()
        randomRow(&p, at: layout.encoder[l] + i * d, count: d, norm: encoderNorm, rng: &rng)
        p[layout.encoderBias[l] + i] = 0
        if s.activation == .jumprelu { p[layout.logThreshold[l] + i] = Foundation.log(TrainingConstants.initialThreshold) }
        let width = layout.decoderRowLength(l)
        randomRow(&p, at: layout.decoder[l] + i * width, count: width, norm: decNorm, rng: &rng)
    }

    /// `p[offset ..< offset + count]` = a random direction times `norm`.
    static func randomRow(_ p: inout [Float], at offset: Int, count: Int, norm: Float, rng: inout SeededRandom) {
        var s: Float = 0
        for j in 0..<count { let v = rng.normal(); p[offset + j] = v; s += v * v }
        let f = norm / max(s.squareRoot(), .leastNormalMagnitude)
        for j in 0..<count { p[offset + j] *= f }
    }
}
