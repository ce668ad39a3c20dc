import Foundation

// The backward kernels of Edge Attribution Patching: each differentiates one forward kernel of
// `Kernels/Norm.swift` exactly (the norm's scale is not frozen here, unlike the linearised
// attribution backward), the forward line it inverts quoted in its comment.

/// The norm's Jacobian transposed, applied to `dy`: `dx = J(x)ᵀ · dy` over rows, for
/// `y = (x − mean(x)) / s · w + b` (LayerNorm) or `y = x / s · w` (RMSNorm), `s = sqrt(var + eps)`.
///
/// With `n = y`'s normalised part and `dn = dy ⊙ w`:
/// - LayerNorm: `dx = (dn − mean(dn) − n · mean(dn ⊙ n)) / s`
/// - RMSNorm:   `dx = (dn − n · mean(dn ⊙ n)) / s`
/// The forward's statistics are recomputed from `x` in Double, as `normForward` does.
///
/// - Parameters:
///   - dx: `[rows, dim]`; `accumulate` adds into it instead of overwriting.
///   - dy: `[rows, dim]` gradient of the norm's output.
///   - x: `[rows, dim]` the norm's input in the forward.
///   - weight: `[dim]` (nil: 1).
///   - rowStride: distance between rows of `dx`, `dy` and `x` (`dim` when packed).
func normBackward(dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
                  rows: Int, dim: Int, rowStride: Int? = nil, kind: ModelConfig.NormKind, eps: Float, accumulate: Bool) {
    let stride = rowStride ?? dim
    for r in 0..<rows {
        let xr = x + r * stride, gr = dy + r * stride, o = dx + r * stride
        var mean: Double = 0
        if kind == .layerNorm {
            for i in 0..<dim { mean += Double(xr[i]) }
            mean /= Double(dim)
        }
        var ss: Double = 0
        for i in 0..<dim { let c = Double(xr[i]) - mean; ss += c * c }
        let s = (ss / Double(dim) + Double(eps)).squareRoot()
        let inv = 1 / s
        // mean(dn) and mean(dn ⊙ n), n = (x − mean) / s
        var meanDn: Double = 0, meanDnN: Double = 0
        for i in 0..<dim {
            let dn = Double(gr[i]) * Double(weight?[i] ?? 1)
            meanDn += dn
            meanDnN += dn * (Double(xr[i]) - mean) * inv
        }
        meanDn = kind == .layerNorm ? meanDn / Double(dim) : 0
        meanDnN /= Double(dim)
        for i in 0..<dim {
            let dn = Double(gr[i]) * Double(weight?[i] ?? 1)
            let n = (Double(xr[i]) - mean) * inv
            let v = Float((dn - meanDn - n * meanDnN) * inv)
            if accumulate { o[i] += v } else { o[i] = v }
        }
    }
}


/// d/dx of `geluTanh`: with `σ = sigmoid(2u)`, `2u = 2√(2/π)(x + 0.044715x³)`,
/// `gelu' = σ + x·σ(1 − σ)·2√(2/π)(1 + 3·0.044715x²)`.
@inline(__always)
func geluTanhDerivative(_ x: Float) -> Float {
    let sg = 1 / (1 + exp(-1.5957691216057308 * (x + 0.044715 * x * x * x)))
    return sg + x * sg * (1 - sg) * 1.5957691216057308 * (1 + 3 * 0.044715 * x * x)
}

/// d/dx of `silu`: `σ(x) + x·σ(x)(1 − σ(x))`.
@inline(__always)
func siluDerivative(_ x: Float) -> Float {
    let sg = 1 / (1 + exp(-x))
    return sg + x * sg * (1 - sg)
}
