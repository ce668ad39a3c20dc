import Foundation

/// Scalar per-layer scales that make training independent of the model's units, measured on
/// the first block of training data and folded back into the weights on export.
///
/// `x̃_l = x_l / inputScale[l]`, `ỹ_m = y_m / outputScale[m]`, where `inputScale[l]` is
/// `sqrt(E‖x_l‖² / d)` and `outputScale[m]` is `sqrt(E‖y_m − ȳ_m‖² / d)`, each rounded to the
/// nearest power of two so that dividing data and multiplying weights are exact: the exported
/// transcoder computes bit-for-bit the pre-activations of the trained one (up to GEMM order).
public struct Normalization: Codable, Equatable, Sendable {
    /// `[nLayers]`
    public var inputScale: [Float]
    /// `[nLayers]`
    public var outputScale: [Float]
    /// Mean of the normalised target per layer, `[nLayers, d]` (initialises `b_dec`).
    public var targetMean: [Float]

    /// Measures the scales on samples `x`, `y` `[n, nLayers·d]` (raw units).
    public init(x: [Float], y: [Float], count n: Int, nLayers L: Int, dModel d: Int) {
        var inScale = [Float](), outScale = [Float](), mean = [Float](repeating: 0, count: L * d)
        for l in 0..<L {
            var sx = 0.0, sy = 0.0, my = [Double](repeating: 0, count: d)
            for t in 0..<n {
                for i in 0..<d {
                    let xi = Double(x[(t * L + l) * d + i]), yi = Double(y[(t * L + l) * d + i])
                    sx += xi * xi
                    sy += yi * yi
                    my[i] += yi
                }
            }
            let nn = Double(max(n, 1))
            let centred = max(sy / nn - my.reduce(0) { $0 + ($1 / nn) * ($1 / nn) }, 0)
            inScale.append(Normalization.powerOfTwo((sx / nn / Double(d)).squareRoot()))
            let s = Normalization.powerOfTwo((centred / Double(d)).squareRoot())
            outScale.append(s)
            for i in 0..<d { mean[l * d + i] = Float(my[i] / nn) / s }
        }
        self.inputScale = inScale
        self.outputScale = outScale
        self.targetMean = mean
    }

    /// The power of two nearest to `v` in log scale (1 for zero or non-finite `v`).
    static func powerOfTwo(_ v: Double) -> Float {
        guard v > 0, v.isFinite else { return 1 }
        return Float(Foundation.exp2(Foundation.log2(v).rounded()))
    }

    /// Divides `x` and `y` `[n, nLayers·d]` in place by their layer's scale.
    public func apply(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>?, count n: Int, dModel d: Int) {
        let L = inputScale.count
        for t in 0..<n {
            for l in 0..<L {
                let ix = 1 / inputScale[l], iy = 1 / outputScale[l]
                let row = (t * L + l) * d
                for i in 0..<d { x[row + i] *= ix }
                if let y { for i in 0..<d { y[row + i] *= iy } }
            }
        }
    }
}
