import Foundation

/// Adam (Kingma & Ba) with bias correction over the whole parameter arena:
///
///     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
///     p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// `t` counts this optimiser's updates. Rows can be reset (resampled features): their moments
/// restart at zero while `t` goes on, as in the SAE literature.
public struct Adam: Sendable {
    public var beta1 = TrainingConstants.adamBeta1
    public var beta2 = TrainingConstants.adamBeta2
    public var epsilon = TrainingConstants.adamEpsilon
    /// First moments, `[count]`.
    public var m: [Float]
    /// Second moments, `[count]`.
    public var v: [Float]
    /// Updates so far.
    public var t = 0

    public init(count: Int) {
        m = [Float](repeating: 0, count: count)
        v = m
    }

    /// One update of `parameters` by `gradients` at learning rate `lr`.
    public mutating func step(_ parameters: inout [Float], gradients: [Float], lr: Float) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        t += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
        let step = lr / c1, invC2 = 1 / c2
        let n = m.count
        parameters.withUnsafeMutableBufferPointer { P in
            gradients.withUnsafeBufferPointer { G in
                m.withUnsafeMutableBufferPointer { M in
                    v.withUnsafeMutableBufferPointer { V in
                        for i in 0..<n {
                            let g = G[i]
                            let mi = b1 * M[i] + (1 - b1) * g
                            let vi = b2 * V[i] + (1 - b2) * g * g
                            M[i] = mi
                            V[i] = vi
                            P[i] -= step * mi / ((vi * invC2).squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }

    /// Zeroes the moments of `range`.
    public mutating func reset(_ range: Range<Int>) {
        for i in range { m[i] = 0; v[i] = 0 }
    }
}
