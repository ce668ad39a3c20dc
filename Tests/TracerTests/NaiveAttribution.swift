@testable import Tracer

/// The unoptimised attribution, kept as the oracle the fast path is tested against: one target
/// at a time, float64, plain loops over every layer and position (no BLAS, no batching, no
/// truncation), written from the semantics in the reference README §5 rather than from the
/// fast code. Returns rows over circuit-tracer's edge columns (`[nTargets][nColumns]`).
func naiveRows(model: Transformer, transcoders tc: TranscoderSet, record: ForwardRecord,
               features: FeatureActivations, logitDirections: [Float], targets: [AttributionTarget]) -> [[Double]] {
    let c = model.config, w = model.weights
    let L = c.nLayers, T = record.nPos, d = c.dModel, H = c.nHeads, dh = c.dHead, KV = c.nKVHeads
    let nActive = features.count, nCols = nActive + (L + 1) * T
    let centred = c.norm == .layerNorm
    let pattern = model.patterns(record)

    // Transpose of the frozen norm `w ⊙ P(δ)/s`: `P(w ⊙ g)/s`.
    func normT(_ g: [Double], weight: [Float]?, scale: Float, centred: Bool) -> [Double] {
        var u = (0..<d).map { g[$0] * Double(weight?[$0] ?? 1) }
        if centred { let m = u.reduce(0, +) / Double(d); u = u.map { $0 - m } }
        return u.map { $0 / Double(scale) }
    }
    func inputHookT(_ g: [Double], layer l: Int, pos p: Int) -> [Double] {
        switch tc.inputHook {
        case .residMid: return g
        case .ln2Normalized: return normT(g, weight: nil, scale: record.ln2Scale[l][p], centred: centred)
        case .mlpIn: return normT(g, weight: w.layers[l].ln2.weight, scale: record.ln2Scale[l][p], centred: centred)
        }
    }
    func dot(_ a: [Double], _ b: ArraySlice<Float>) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * Double($1.1) } }

    return targets.map { target in
        var row = [Double](repeating: 0, count: nCols)
        var g = [[Double]](repeating: [Double](repeating: 0, count: d), count: T)
        var top = L
        switch target {
        case let .logit(rank):
            g[T - 1] = normT(logitDirections[(rank * d)..<((rank + 1) * d)].map(Double.init), weight: w.lnFinal.weight,
                             scale: record.lnFinalScale[T - 1], centred: centred)
        case let .feature(f):
            top = f.layer
        }
        for l in stride(from: min(top, L - 1), through: 0, by: -1) {
            if l < top {
                // Sources written into mlp_out[l].
                for l2 in 0...l where tc.outputLayers(of: l2).contains(l) {
                    let nOut = tc.outputLayers(of: l2).count, base = features.slotStart[l2 * T]
                    for p in 0..<T {
                        for a in features.slot(layer: l2, pos: p, nPos: T) {
                            let off = ((a - base) * nOut + (l - l2)) * d
                            row[a] += dot(g[p], features.scaledDecoders[l2][off..<(off + d)])
                        }
                    }
                }
                for p in 0..<T { row[nActive + l * T + p] += dot(g[p], features.errors[l][(p * d)..<((p + 1) * d)]) }
                // Skip: mlp_out += x_in · S  ⇒  g_mid += x_inᵀ(S · g)
                if let S = tc.skips[l] {
                    for p in 0..<T {
                        let sg = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + Double(S[i * d + $1]) * g[p][$1] } }
                        let back = inputHookT(sg, layer: l, pos: p)
                        for i in 0..<d { g[p][i] += back[i] }
                    }
                }
            }
            if case let .feature(f) = target, f.layer == l {
                let e = tc.encoders[l][(f.index * d)..<((f.index + 1) * d)].map(Double.init)
                let back = inputHookT(e, layer: l, pos: f.pos)
                for i in 0..<d { g[f.pos][i] += back[i] }
            }
            // Attention: out[q] = post(Σ_h Σ_k pattern[h,q,k] · (LN1(δ)[k] · W_V[h]) · W_O[h]).
            let lw = w.layers[l]
            var z = [[Double]](repeating: [Double](repeating: 0, count: d), count: T)
            for q in 0..<T {
                var gq = g[q]
                if let post = lw.postAttentionNorm { gq = normT(gq, weight: post.weight, scale: record.postAttentionScale[l][q], centred: false) }
                for h in 0..<H {
                    let kvh = h / (H / KV)
                    // v[e] = Σ_i W_O[h·dh + e, i] · gq[i]
                    let v = (0..<dh).map { e in (0..<d).reduce(0.0) { $0 + Double(lw.wO[(h * dh + e) * d + $1]) * gq[$1] } }
                    for k in 0...q {
                        let a = Double(pattern[l][(h * T + q) * T + k])
                        if a == 0 { continue }
                        for i in 0..<d {
                            var s = 0.0
                            for e in 0..<dh { s += Double(lw.wV[i * KV * dh + kvh * dh + e]) * v[e] }
                            z[k][i] += a * s
                        }
                    }
                }
            }
            for k in 0..<T {
                let back = normT(z[k], weight: lw.ln1.weight, scale: record.ln1Scale[l][k], centred: centred)
                for i in 0..<d { g[k][i] += back[i] }
            }
        }
        for p in 0..<T { row[nActive + L * T + p] = dot(g[p], record.tokenEmbeddings[(p * d)..<((p + 1) * d)]) }
        return row
    }
}
