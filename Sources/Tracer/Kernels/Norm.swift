import Foundation

/// Forward LayerNorm / RMSNorm over rows, recording each row's scale.
///
/// LayerNorm: `y = (x − mean(x)) / s · w + b`, `s = sqrt(mean((x − mean)²) + eps)` (biased
/// variance, eps inside the root). RMSNorm: `y = x / s · w`, `s = sqrt(mean(x²) + eps)`.
/// Sums are accumulated in Double so the recorded scale is the float32 rounding of the exact one.
///
/// - Parameters:
///   - out: `[rows, dim]` normalised output, `w` and `b` applied (nil: write nothing).
///   - normalized: `[rows, dim]` output before the weight (`(x − mean)/s` or `x/s`) (nil: skip).
///   - scale: `[rows]` the frozen scale `s`.
///   - x: `[rows, dim]` input.
///   - frozenScale: `[rows]` scales to divide by instead of the computed ones (an intervention
///     that holds the norm at its clean value; LayerNorm still centres); copied to `scale`.
func normForward(out: UnsafeMutablePointer<Float>?, normalized: UnsafeMutablePointer<Float>?,
                 scale: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 rows: Int, dim: Int, kind: ModelConfig.NormKind, eps: Float, frozenScale: UnsafePointer<Float>? = nil) {
    for r in 0..<rows {
        let xr = x + r * dim
        var mean: Double = 0
        if kind == .layerNorm {
            for i in 0..<dim { mean += Double(xr[i]) }
            mean /= Double(dim)
        }
        let s: Float
        if let frozenScale {
            s = frozenScale[r]
        } else {
            var ss: Double = 0
            for i in 0..<dim { let c = Double(xr[i]) - mean; ss += c * c }
            s = Float((ss / Double(dim) + Double(eps)).squareRoot())
        }
        scale[r] = s
        let m = Float(mean)
        for i in 0..<dim {
            let n = (xr[i] - m) / s
            normalized?[r * dim + i] = n
            if let out { out[r * dim + i] = n * weight[i] + (bias?[i] ?? 0) }
        }
    }
}

/// The frozen norm as a linear map and its transpose, used by the linearised model.
///
/// Forward (what a residual perturbation δ becomes): `w ⊙ P(δ) / s`, with `P` the centring
/// `δ − mean(δ)` for LayerNorm and the identity for RMSNorm. Transpose (what a gradient `g`
/// becomes): `P(w ⊙ g) / s` (`P` is symmetric). `w` nil means weight 1 (`ln2.hook_normalized`).
///
/// - Parameters:
///   - out: `[rows, dim]`; `accumulate` adds into it instead of overwriting.
///   - g: `[rows, dim]` input rows.
///   - scaleOfRow: the frozen scale for each row (rows of one position share a scale).
func frozenNormTranspose(out: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
                         rows: Int, dim: Int, centred: Bool, accumulate: Bool, scaleOfRow: (Int) -> Float) {
    for r in 0..<rows {
        let gr = g + r * dim, o = out + r * dim
        let inv = 1 / scaleOfRow(r)
        var mean: Float = 0
        if centred {
            if let weight { for i in 0..<dim { mean += weight[i] * gr[i] } } else { for i in 0..<dim { mean += gr[i] } }
            mean /= Float(dim)
        }
        if accumulate {
            if let weight { for i in 0..<dim { o[i] += (weight[i] * gr[i] - mean) * inv } } else { for i in 0..<dim { o[i] += (gr[i] - mean) * inv } }
        } else {
            if let weight { for i in 0..<dim { o[i] = (weight[i] * gr[i] - mean) * inv } } else { for i in 0..<dim { o[i] = (gr[i] - mean) * inv } }
        }
    }
}

/// `gelu_new` / `gelu_pytorch_tanh`: `0.5·x·(1 + tanh(u))`, `u = sqrt(2/π)·(x + 0.044715·x³)`,
/// computed as `x · sigmoid(2u) = x / (1 + exp(−2u))` (the same function: `(1 + tanh u)/2 =
/// sigmoid(2u)`), because one `expf` costs a fraction of glibc's `tanhf`, which took a third
/// of transcoder training's time on the demo model. Within float32 round-off of the tanh form
/// (no cancellation: for large negative `u` the quotient goes to −0 as the tanh form does).
@inline(__always)
func geluTanh(_ x: Float) -> Float {
    x / (1 + exp(-1.5957691216057308 * (x + 0.044715 * x * x * x)))
}

/// SiLU: `x · sigmoid(x)`.
@inline(__always)
func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }

/// Rotary embedding inverse frequencies `[dHead/2]`, with Llama-3 scaling when given.
func rotaryInverseFrequencies(dHead: Int, theta: Double, scaling: ModelConfig.RopeScaling?) -> [Double] {
    var inv = (0..<(dHead / 2)).map { 1 / pow(theta, Double(2 * $0) / Double(dHead)) }
    if let s = scaling {
        let lowWavelen = s.originalMaxPositions / s.lowFreqFactor
        let highWavelen = s.originalMaxPositions / s.highFreqFactor
        inv = inv.map { f in
            let wavelen = 2 * Double.pi / f
            if wavelen < highWavelen { return f }
            if wavelen > lowWavelen { return f / s.factor }
            let smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
            return (1 - smooth) * f / s.factor + smooth * f
        }
    }
    return inv
}

/// Applies rotate-half rotary embeddings in place to `[nPos, nHeads, dHead]`; `transposed`: their
/// transpose (the rotation by the opposite angle), which carries a gradient back through them.
func applyRotary(_ x: UnsafeMutablePointer<Float>, nPos: Int, firstPosition: Int = 0, nHeads: Int, dHead: Int,
                 inverseFrequencies: [Double], transposed: Bool = false) {
    let half = dHead / 2
    for row in 0..<nPos {
        let p = firstPosition + row
        for i in 0..<half {
            // HF computes cos/sin in float32 from float32 inv_freq · position.
            let angle = Float(Float(inverseFrequencies[i]) * Float(p))
            let c = cos(angle), s = transposed ? -sin(angle) : sin(angle)
            for h in 0..<nHeads {
                let v = x + (row * nHeads + h) * dHead
                let x1 = v[i], x2 = v[i + half]
                v[i] = x1 * c - x2 * s
                v[i + half] = x2 * c + x1 * s
            }
        }
    }
}
