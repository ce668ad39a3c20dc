import Foundation
import Storage

/// The decoders of every source feature as the residual stream at a target layer holds them:
/// for target layer `l_t`, row `l_s · dTranscoder + f` (`l_s < l_t`) is
/// `Σ_{l = l_s}^{l_t − 1} W_dec[(l_s, f) → l]` for a CLT, `W_dec[(l_s, f)]` for a PLT. `V` of a
/// target block is then one GEMM against these rows.
///
/// Grown one target layer at a time (`advance(to:)`), adding output layers in ascending order,
/// so the sums (and V) are the same bits however the target layers are visited.
/// Memory: `(nLayers − 1) · dTranscoder · dModel` floats.
/// Sendable: threads only read `rows` between `advance` calls, which run on one thread.
final class CumulativeDecoders: @unchecked Sendable {
    let tc: TranscoderSet
    /// `[(nLayers − 1) · dTranscoder, dModel]`; rows below `through · dTranscoder` are valid.
    var rows: [Float]
    /// The target layer the rows are summed up to (exclusive).
    private(set) var through = 0
    private var scratch: [Float]

    init(_ tc: TranscoderSet) {
        self.tc = tc
        rows = [Float](repeating: 0, count: max(0, tc.nLayers - 1) * tc.dTranscoder * tc.dModel)
        scratch = [Float](repeating: 0, count: tc.dTranscoder * tc.dModel)
    }

    static func bytes(_ tc: TranscoderSet) -> Int { max(0, tc.nLayers - 1) * tc.dTranscoder * tc.dModel * 4 }

    /// Makes the rows those of target layer `layer` (≥ the current one).
    func advance(to layer: Int) {
        precondition(layer >= through && layer < tc.nLayers, "target layers are visited in ascending order")
        let dT = tc.dTranscoder, d = tc.dModel, block = dT * d
        while through < layer {
            let l = through
            rows.withUnsafeMutableBufferPointer { r in
                // The new source layer l writes to l: its rows start as W_dec[(l, ·) → l]. [dT, d]
                tc.decoderRows(layer: l, features: 0..<dT, output: l, into: r.baseAddress! + l * block)
                guard tc.kind == .crossLayer else { return }
                // Every earlier source layer adds its decoder into l.
                for ls in 0..<l {
                    scratch.withUnsafeMutableBufferPointer { w in
                        tc.decoderRows(layer: ls, features: 0..<dT, output: l, into: w.baseAddress!)
                        let out = r.baseAddress! + ls * block
                        for i in 0..<block { out[i] += w[i] }
                    }
                }
            }
            through += 1
        }
    }
}
