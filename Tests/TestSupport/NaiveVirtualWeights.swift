import Foundation
import Storage
import Tracer

/// V[t, s] in float64 loops: Σ over the output layers l_s..l_t−1 (PLT: l_s only) of
/// W_dec[s → l] · Ŵ_enc[t], Ŵ_enc the encoder through the pre-MLP norm's weight and centring.
public func naiveVirtualWeight(_ t: FeatureID, _ s: FeatureID, replacement: ReplacementModel) throws -> Double {
    let tc = replacement.transcoders, d = tc.dModel
    guard s.layer < t.layer else { return 0 }
    var e = (0..<d).map { Double(tc.encoders[t.layer][t.feature * d + $0]) }
    if tc.inputHook == .mlpIn {
        let g = replacement.model.weights.layers[t.layer].ln2.weight
        for k in 0..<d { e[k] *= Double(g[k]) }
    }
    if tc.inputHook != .residMid && replacement.model.config.norm == .layerNorm {
        let mean = e.reduce(0, +) / Double(d)
        for k in 0..<d { e[k] -= mean }
    }
    let rows = try tc.decoderRows(layer: s.layer, features: [s.feature])   // [nOut, d]
    let last = tc.kind == .perLayer ? s.layer : t.layer - 1
    var v = 0.0
    for l in s.layer...last {
        let o = l - s.layer
        for k in 0..<d { v += Double(rows[o * d + k]) * e[k] }
    }
    return v
}
