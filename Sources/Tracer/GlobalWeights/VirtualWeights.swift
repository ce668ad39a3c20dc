import CBLAS
import Foundation
import Storage

/// How a target feature's encoder reads the residual stream, context-free.
///
/// Convention: the virtual weight is the effect of a unit source activation on the target's
/// pre-activation through the residual stream with every norm scale set to 1 (scales are
/// per-token, so a prompt-independent weight leaves them out):
/// - `hook_resid_mid`: `W_enc[t]` reads the residual directly;
/// - `ln2.hook_normalized`: LayerNorm models centre the residual first (`W_enc[t] · P`,
///   `P = I − 11ᵀ/d`); RMSNorm models do not centre;
/// - `mlp.hook_in`: the pre-MLP norm's weight comes in too (`(W_enc[t] ⊙ γ₂) · P`).
public struct ResidualReading: Sendable {
    public var hook: TranscoderConfig.InputHook
    /// Whether the pre-MLP norm subtracts the mean (LayerNorm).
    public var centred: Bool
    /// The pre-MLP norm's effective weight per layer (`[dModel]` each).
    public var ln2Weights: [[Float]]

    public init(hook: TranscoderConfig.InputHook, centred: Bool, ln2Weights: [[Float]]) {
        self.hook = hook; self.centred = centred; self.ln2Weights = ln2Weights
    }

    /// The reading of a replacement model's transcoders.
    public init(_ replacement: ReplacementModel) {
        self.init(hook: replacement.transcoders.inputHook, centred: replacement.model.config.norm == .layerNorm,
                  ln2Weights: replacement.model.weights.layers.map(\.ln2.weight))
    }

    /// The encoder row of feature `f` of `layer` as a linear function of the residual stream. `[dModel]`
    func effectiveEncoder(_ tc: TranscoderSet, layer: Int, feature f: Int) -> [Float] {
        let d = tc.dModel
        var row = Array(tc.encoders[layer][(f * d)..<((f + 1) * d)])
        if hook == .mlpIn { for i in 0..<d { row[i] *= ln2Weights[layer][i] } }
        if hook != .residMid && centred {
            let mean = row.reduce(0, +) / Float(d)
            for i in 0..<d { row[i] -= mean }
        }
        return row
    }
}

/// Virtual weights between transcoder features: the direct, prompt-independent effect of a
/// source feature's decoder on a target feature's encoder through the residual stream.
///
/// `V[t, s] = Σ_{l = l_s}^{l_t − 1} W_dec[s → l] · Ŵ_enc[t]` for a CLT, `W_dec[s] · Ŵ_enc[t]` for a
/// PLT (`l_s < l_t`; zero otherwise), with `Ŵ_enc` the effective encoder of `ResidualReading`.
/// Computed by GEMM per (source layer, target layer) and block of sources; never materialised
/// beyond `[nTargets, nSources]`.
public enum VirtualWeights {
    /// `V` as `[targets.count, sources.count]` row-major.
    ///
    /// - Parameter blockSize: source features read and multiplied at a time (bounds memory to
    ///   `blockSize · nOutputs · dModel` decoder floats).
    public static func compute(targets: [FeatureID], sources: [FeatureID], transcoders tc: TranscoderSet,
                               reading: ResidualReading, blockSize: Int = 2048) throws -> [Float] {
        let d = tc.dModel, nT = targets.count, nS = sources.count
        guard nT > 0, nS > 0 else { return [Float](repeating: 0, count: nT * nS) }
        for f in targets + sources where !(0..<tc.nLayers).contains(f.layer) || !(0..<tc.dTranscoder).contains(f.feature) {
            throw TracerError.invalidArgument("feature \(f) is outside the transcoders (\(tc.nLayers) layers × \(tc.dTranscoder) features)")
        }
        // Work on targets sorted by layer, so each target layer's rows (and, for a PLT, all rows
        // above a source layer) are contiguous in V; rows go back to the caller's order at the end.
        let order = targets.indices.sorted { (targets[$0], $0) < (targets[$1], $1) }
        let sortedTargets = order.map { targets[$0] }
        // Effective encoders of the sorted targets. [nT, d]
        let encoders = sortedTargets.flatMap { reading.effectiveEncoder(tc, layer: $0.layer, feature: $0.feature) }
        func rows(above layer: Int, below upper: Int = .max) -> Range<Int> {
            let lo = sortedTargets.firstIndex { $0.layer > layer } ?? nT
            let hi = sortedTargets.firstIndex { $0.layer >= upper } ?? nT
            return lo..<max(lo, hi)
        }

        var v = [Float](repeating: 0, count: nT * nS)
        var sourceColumns: [Int: [Int]] = [:]
        for (j, s) in sources.enumerated() { sourceColumns[s.layer, default: []].append(j) }
        var block = [Float](), cumulative = [Float](), product = [Float]()
        for (ls, columns) in sourceColumns.sorted(by: { $0.key < $1.key }) {
            let targetLayers = Array(Set(sortedTargets.map(\.layer).filter { $0 > ls })).sorted()
            guard !targetLayers.isEmpty else { continue }
            let outputs = tc.outputLayers(of: ls)
            for start in stride(from: 0, to: columns.count, by: blockSize) {
                let cols = Array(columns[start..<min(start + blockSize, columns.count)])
                let b = cols.count
                let contiguous = cols.last! - cols.first! == b - 1
                block = try tc.decoderRows(layer: ls, features: cols.map { sources[$0].feature })   // [b, nOut, d]

                // V[rows, cols] = Ŵ_enc[rows] · Dᵀ, straight into V when the columns are contiguous.
                func multiply(_ decoder: UnsafePointer<Float>, ldd: Int, rows r: Range<Int>) {
                    guard !r.isEmpty else { return }
                    encoders.withUnsafeBufferPointer { e in
                        if contiguous {
                            v.withUnsafeMutableBufferPointer { out in
                                gemm(out.baseAddress! + r.lowerBound * nS + cols[0], ldc: nS, e.baseAddress! + r.lowerBound * d, lda: d,
                                     decoder, ldb: ldd, transB: true, m: r.count, n: b, k: d)
                            }
                        } else {
                            product = [Float](repeating: 0, count: r.count * b)
                            gemm(&product, ldc: b, e.baseAddress! + r.lowerBound * d, lda: d, decoder, ldb: ldd, transB: true, m: r.count, n: b, k: d)
                            for (i, row) in r.enumerated() { for (c, j) in cols.enumerated() { v[row * nS + j] = product[i * b + c] } }
                        }
                    }
                }

                if outputs.count == 1 {
                    // Per-layer transcoder: one decoder, every target above `ls` in one GEMM.
                    block.withUnsafeBufferPointer { multiply($0.baseAddress!, ldd: d, rows: rows(above: ls)) }
                    continue
                }
                // Cross-layer: cumulative[b, d] = Σ_{l = ls}^{lt − 1} W_dec[s → l], grown one output layer at a time.
                cumulative = [Float](repeating: 0, count: b * d)
                var through = ls
                for lt in targetLayers {
                    while through < lt {
                        let o = through - ls
                        block.withUnsafeBufferPointer { w in
                            cumulative.withUnsafeMutableBufferPointer { c in
                                for i in 0..<b {
                                    // cumulative[i] += W_dec[s_i → through]
                                    cblas_saxpy(Int32(d), 1, w.baseAddress! + (i * outputs.count + o) * d, 1, c.baseAddress! + i * d, 1)
                                }
                            }
                        }
                        through += 1
                    }
                    cumulative.withUnsafeBufferPointer { multiply($0.baseAddress!, ldd: d, rows: rows(above: lt - 1, below: lt + 1)) }
                }
            }
        }
        // Back to the caller's target order.
        if order != Array(targets.indices) {
            var out = [Float](repeating: 0, count: nT * nS)
            for (sortedRow, row) in order.enumerated() {
                out.replaceSubrange((row * nS)..<((row + 1) * nS), with: v[(sortedRow * nS)..<((sortedRow + 1) * nS)])
            }
            v = out
        }
        return v
    }

    /// Every feature of the layers below the highest target layer: the sources a target can have.
    public static func allSources(below targets: [FeatureID], transcoders tc: TranscoderSet) -> [FeatureID] {
        let top = targets.map(\.layer).max() ?? 0
        return (0..<top).flatMap { l in (0..<tc.dTranscoder).map { FeatureID(layer: l, feature: $0) } }
    }
}
