import Foundation

/// The transcoders applied to one recorded forward pass: active features, their scaled
/// decoder vectors, and the error vectors that make the replacement exact.
public struct FeatureActivations: Sendable {
    /// Every non-zero activation at positions ≥ 1, sorted by (layer, pos, index). `[nActive]`
    public var activeFeatures: [ActiveFeature]
    /// Post-nonlinearity values. `[nActive]`
    public var values: [Float]
    /// `slotStart[l·nPos + p] ..< slotStart[l·nPos + p + 1]` are the active features of (l, p). `[nLayers·nPos + 1]`
    public var slotStart: [Int]
    /// Activation-scaled decoder rows of each layer's active features, in `activeFeatures` order:
    /// `[nActive(l), nOutputs(l), dModel]` per source layer l; empty (read per slot when needed,
    /// `scaledDecoderRows`) when all of them would take more than the cache budget.
    public var scaledDecoders: [[Float]]
    /// Whether `scaledDecoders` holds every layer's rows.
    public var decodersCached: Bool { !scaledDecoders.isEmpty }
    let transcoders: TranscoderSet
    let nPos: Int
    /// `mlp_out − reconstruction` per layer (position 0 zeroed). `[nPos, dModel]` per layer
    public var errors: [[Float]]
    /// The transcoder input `x_in` per layer when requested (`[nPos, dModel]`), else empty.
    public var inputs: [[Float]]
    /// Pre-activations per layer when requested (`[nPos, dTranscoder]`), else empty.
    public var preactivations: [[Float]]

    public var count: Int { activeFeatures.count }

    /// The range of `activeFeatures` at (layer, pos).
    public func slot(layer: Int, pos: Int, nPos: Int) -> Range<Int> {
        slotStart[layer * nPos + pos]..<slotStart[layer * nPos + pos + 1]
    }

    /// Calls `body` with the activation-scaled decoder vectors of the active features `slot` (all
    /// of source layer `l`, ascending) into output layer `m`: `[slot.count, dModel]` rows `stride`
    /// floats apart, from `scaledDecoders` or, when those are not cached, read into `scratch`
    /// (`[slot.count, dModel]`) from the mapped weights.
    func withScaledDecoderRows<R>(layer l: Int, slot: Range<Int>, output m: Int, scratch: UnsafeMutablePointer<Float>,
                                  _ body: (_ rows: UnsafePointer<Float>, _ stride: Int) -> R) -> R {
        let d = transcoders.dModel, nOut = transcoders.outputLayers(of: l).count
        if decodersCached {
            let layerBase = slotStart[l * nPos]
            return scaledDecoders[l].withUnsafeBufferPointer { D in
                body(D.baseAddress! + ((slot.lowerBound - layerBase) * nOut + (m - l)) * d, nOut * d)
            }
        }
        transcoders.decoderRows(layer: l, features: slot.lazy.map { self.activeFeatures[$0].index }, output: m, into: scratch)
        for (i, a) in slot.enumerated() {
            let v = values[a], r = scratch + i * d
            for j in 0..<d { r[j] *= v }
        }
        return body(scratch, d)
    }

    /// Encodes every layer's transcoder input, reads the active features' decoder rows and
    /// forms the reconstruction and error of every MLP output.
    ///
    /// - Parameters:
    ///   - keepPreactivations: also return the transcoder inputs and the dense pre-activations
    ///     (debugging; 1.8 GB for GPT-2 small at 4,096 tokens).
    ///   - decoderCacheBytes: keep the scaled decoder rows of all active features in memory when
    ///     they fit in this many bytes (2.5 GB for GPT-2 small at 1,024 tokens); otherwise read
    ///     them per (layer, position) slot from the mapped weights each time they are needed.
    public init(record: ForwardRecord, transcoders tc: TranscoderSet, keepPreactivations: Bool = false,
                decoderCacheBytes: Int = AttributionOptions.defaultDecoderCacheBytes) throws {
        let nPos = record.nPos, d = tc.dModel, dT = tc.dTranscoder, L = tc.nLayers
        var active: [ActiveFeature] = [], values: [Float] = [], slotStart: [Int] = [0]
        var inputs: [[Float]] = [], pres: [[Float]] = []
        active.reserveCapacity(L * nPos * 16)
        var pre = [Float](repeating: 0, count: nPos * dT)
        for l in 0..<L {
            let x = MLPInputs(record, layer: l)[tc.inputHook]
            inputs.append(x)
            // pre[T, dT] = x_in[T, d] · W_encᵀ[d, dT] + b_enc
            gemm(&pre, ldc: dT, x, lda: d, tc.encoders[l], ldb: d, transB: true, m: nPos, n: dT, k: d)
            let b = tc.encoderBiases[l]
            for p in 0..<nPos { for f in 0..<dT { pre[p * dT + f] += b[f] } }
            if keepPreactivations { pres.append(pre) }
            for p in 0..<nPos {
                let row = p * dT
                let kept: [Int]
                if case let .topK(k) = tc.activation {
                    kept = TranscoderSet.topK(k, of: pre[row..<(row + dT)]).filter { pre[row + $0] != 0 }
                } else {
                    kept = (0..<dT).filter { tc.activate(pre[row + $0], layer: l, feature: $0) != 0 }
                }
                if p > 0 {  // position 0 (BOS) is zeroed
                    for f in kept {
                        let v = pre[row + f]
                        guard v.isFinite else { throw TracerError.nonFinite("transcoder pre-activation (layer \(l), position \(p), feature \(f))") }
                        active.append(ActiveFeature(layer: l, pos: p, index: f))
                        values.append(v)
                    }
                }
                slotStart.append(active.count)
            }
        }

        self.activeFeatures = active
        self.values = values
        self.slotStart = slotStart
        self.transcoders = tc
        self.nPos = nPos
        self.scaledDecoders = []
        self.errors = []
        self.inputs = inputs
        self.preactivations = pres
        let cacheFloats = (0..<L).reduce(0) { $0 + (slotStart[($1 + 1) * nPos] - slotStart[$1 * nPos]) * tc.outputLayers(of: $1).count * d }
        if cacheFloats * 4 <= decoderCacheBytes {
            // Scaled decoder rows of every active feature, read once from the mapped files.
            var scaled: [[Float]] = []
            for l in 0..<L {
                let range = slotStart[l * nPos]..<slotStart[(l + 1) * nPos]
                var rows = try tc.decoderRows(layer: l, features: active[range].map(\.index))
                let width = tc.outputLayers(of: l).count * d
                for (i, a) in range.enumerated() {
                    let v = values[a]
                    for j in 0..<width { rows[i * width + j] *= v }
                }
                scaled.append(rows)
            }
            self.scaledDecoders = scaled
        }

        // reconstruction[m] = Σ_{l ≤ m} Σ act·W_dec_l[f, m−l] + b_dec[m] (+ skip); error = mlp_out − reconstruction.
        var errors: [[Float]] = []
        let maxSlot = (0..<(L * nPos)).reduce(0) { max($0, slotStart[$1 + 1] - slotStart[$1]) }
        var block = [Float](repeating: 0, count: maxSlot * d)   // [n, d]: one slot's scaled decoder rows
        for m in 0..<L {
            var recon = [Float](repeating: 0, count: nPos * d)
            for p in 0..<nPos { for i in 0..<d { recon[p * d + i] = tc.decoderBiases[m][i] } }
            if let s = tc.skips[m] {
                // recon[T, d] += x_in[T, d] · S[d, d]
                gemm(&recon, ldc: d, inputs[m], lda: d, s, ldb: d, m: nPos, n: d, k: d, beta: 1)
            }
            for l in 0...m where tc.outputLayers(of: l).contains(m) {
                for p in 0..<nPos {
                    let slot = slotStart[l * nPos + p]..<slotStart[l * nPos + p + 1]
                    guard !slot.isEmpty else { continue }
                    block.withUnsafeMutableBufferPointer { B in
                        recon.withUnsafeMutableBufferPointer { R in
                            withScaledDecoderRows(layer: l, slot: slot, output: m, scratch: B.baseAddress!) { rows, stride in
                                // recon[p, d] += Σ_i rows[i, d]   (the slot's decoder vectors, in order)
                                for i in 0..<slot.count {
                                    let r = rows + i * stride
                                    for j in 0..<d { R[p * d + j] += r[j] }
                                }
                            }
                        }
                    }
                }
            }
            var err = record.mlpOut[m]
            for i in 0..<(nPos * d) { err[i] -= recon[i] }
            for i in 0..<d { err[i] = 0 }  // position 0
            errors.append(err)
        }
        self.errors = errors
        if !keepPreactivations { self.inputs = [] }
    }
}
