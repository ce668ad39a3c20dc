extension ReplacementModel {
    /// Runs the model on `clean`'s prompt once per set of `interventions`, all sets packed
    /// into one batch (every dense product one GEMM over all of them), as circuit-tracer's
    /// `feature_intervention(…, apply_activation_function=True)` in `mode`. Each set's pass
    /// recomputes only the positions from its first intervened one on; the earlier ones are
    /// the clean run's (attention is causal).
    ///
    /// A set's interventions act in order; of several on one feature and position the last
    /// wins. An empty set runs the model as `mode` has it (for `replacement`: the clean logits,
    /// exactly).
    ///
    /// - Returns: one outcome per set, in order.
    /// - Throws: `TracerError.invalidArgument` naming the intervention out of range.
    /// - Complexity: one forward pass over `Σ (nPos − first position of the set)` rows, plus a
    ///   dense encoding of every layer's transcoder input in `replacement` mode or when
    ///   activations are recorded (otherwise of the set features only).
    public func intervene(_ clean: CleanRun, _ sets: [[FeatureIntervention]], mode: InterventionMode,
                          recording: InterventionRecording = []) throws -> [InterventionOutcome] {
        let c = model.config, tc = transcoders
        let L = c.nLayers, d = c.dModel, dT = tc.dTranscoder, T = clean.nPos, B = sets.count
        guard B > 0 else { return [] }
        try checkInterventions(sets, nPos: T, mode: mode)
        // Each set's pass from its first intervened position on (an empty set: the last position).
        let batch = SuffixBatch(starts: sets.map { $0.map(\.position).min() ?? T - 1 }, nPos: T)
        let rows = batch.rows

        // Where deltas are added, and what is held at the clean run.
        let deltaLayers: Range<Int>, freezeScales: Bool
        switch mode {
        case let .constrained(range): deltaLayers = range; freezeScales = range == 0..<L
        case .replacement: deltaLayers = 0..<L; freezeScales = true
        case .iterative, .frozenAttention: deltaLayers = 0..<L; freezeScales = false
        }
        let frozenScales = freezeScales ? FrozenScales(clean.record, batch) : nil

        // The set values per layer, each as (row of the batch, feature, value), later ones winning.
        var setValues = [[(row: Int, feature: Int, value: Float)]](repeating: [], count: L)
        for (b, set) in sets.enumerated() {
            for i in set { setValues[i.layer].append((batch.row(b, position: i.position), i.feature, i.value)) }
        }
        // Per output layer, the sum of the decoder vectors scaled by the activation changes. `[rows, d]`
        var layerDeltas = [[Float]](repeating: [], count: L)
        var recordedActivations: [[Float]] = []

        let patch = ForwardPatch(
            prefix: CleanPrefix(record: clean.record, starts: batch.starts),
            frozenPatterns: mode == .iterative ? nil : (clean.record.queries, clean.record.keys),
            frozenScales: frozenScales
        ) { l, inputs, realMLP in
            let x = inputs[tc.inputHook]
            // The activation changes this layer's features make: (row, feature, new − old).
            var changes: [(row: Int, feature: Int, delta: Float)] = []
            let cleanActs = clean.activations[l]
            if mode == .replacement || recording.contains(.activations) {
                var acts = tc.encode(layer: l, x, rows: rows)   // [rows, dT]
                for (r, p) in batch.positions.enumerated() where p == 0 { for f in 0..<dT { acts[r * dT + f] = 0 } }   // BOS
                if recording.contains(.activations) { recordedActivations.append(acts) }
                if mode == .replacement {
                    // Every feature follows its input; set ones hold their value. Against the clean run.
                    for s in setValues[l] { acts[s.row * dT + s.feature] = s.value }
                    for r in 0..<rows {
                        let cleanRow = batch.positions[r] * dT
                        for f in 0..<dT where acts[r * dT + f] != cleanActs[cleanRow + f] {
                            changes.append((r, f, acts[r * dT + f] - cleanActs[cleanRow + f]))
                        }
                    }
                }
            }
            if mode != .replacement {
                var last: [Int: Float] = [:]   // row·dT + feature → value
                for s in setValues[l] { last[s.row * dT + s.feature] = s.value }
                let entries = last.keys.sorted()
                // constrained: from the clean activations; otherwise re-based on the current ones
                let current = mode.isConstrained ? [] : tc.encode(layer: l, x, entries: entries.map { (row: $0 / dT, feature: $0 % dT) })
                for (j, key) in entries.enumerated() {
                    let (r, f) = key.quotientAndRemainder(dividingBy: dT)
                    let old = mode.isConstrained || batch.positions[r] == 0 ? cleanActs[batch.positions[r] * dT + f] : current[j]
                    if last[key]! != old { changes.append((r, f, last[key]! - old)) }
                }
            }
            try self.addDecoderVectors(of: changes, layer: l, into: &layerDeltas, outputs: deltaLayers, rows: rows)

            var out: [Float]
            if mode == .replacement || (mode.isConstrained && deltaLayers.contains(l)) {
                // Held at the clean MLP output; a skip transcoder adds skip(x_now) − skip(x_clean).
                out = batch.gather(clean.record.mlpOut[l], width: d)
                if let skip = tc.skips[l] {
                    var dx = x
                    let cleanX = batch.gather(clean.transcoderInputs[l], width: d)
                    for i in dx.indices { dx[i] -= cleanX[i] }
                    // out[rows, d] += dx[rows, d] · S[d, d]
                    gemm(&out, ldc: d, dx, lda: d, skip, ldb: d, m: rows, n: d, k: d, beta: 1)
                }
            } else {
                out = realMLP()
            }
            if deltaLayers.contains(l), !layerDeltas[l].isEmpty {
                for i in out.indices { out[i] += layerDeltas[l][i] }
            }
            return out
        }

        let (record, resid) = try model.blocks(tokens: batch.gather(clean.tokens, width: 1), segments: batch.segments, patch: patch)
        let logits = softcapped(model.unembed(resid, nPos: rows, rows: 0..<rows, frozenScale: frozenScales?.lnFinal).logits,
                                c.finalLogitSoftcap)
        for v in logits where !v.isFinite { throw TracerError.nonFinite("logits of an intervened pass") }

        let V = c.nVocab
        return (0..<B).map { b in
            let residuals = recording.contains(.residuals)
                ? (1...L).map { m in
                    m < L ? batch.whole(b, record.residPre[m], clean: clean.record.residPre[m], width: d)
                          : batch.whole(b, resid, clean: clean.record.residFinal, width: d)
                } : []
            return InterventionOutcome(
                logits: batch.whole(b, logits, clean: clean.logits, width: V),
                activations: recordedActivations.enumerated().map { l, a in batch.whole(b, a, clean: clean.activations[l], width: dT) },
                residuals: residuals)
        }
    }

    /// `deltas[m][row] += Σ δ · W_dec[l, f, m]` over `changes` `(row, feature, δ)` of source
    /// layer `l`, for every output layer `m` of `l` in `outputs` (`deltas[m]` `[rows, dModel]`,
    /// allocated when first written).
    private func addDecoderVectors(of changes: [(row: Int, feature: Int, delta: Float)], layer l: Int,
                                   into deltas: inout [[Float]], outputs: Range<Int>, rows: Int) throws {
        guard !changes.isEmpty else { return }
        let d = transcoders.dModel, written = transcoders.outputLayers(of: l)
        let features = Array(Set(changes.map(\.feature))).sorted()
        let slot = Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1, $0) })
        let decoders = try transcoders.decoderRows(layer: l, features: features)   // [features, written.count, d]
        for m in written where outputs.contains(m) {
            if deltas[m].isEmpty { deltas[m] = [Float](repeating: 0, count: rows * d) }
            let part = m - l
            for change in changes {
                let src = (slot[change.feature]! * written.count + part) * d, dst = change.row * d
                for i in 0..<d { deltas[m][dst + i] += change.delta * decoders[src + i] }
            }
        }
    }

    /// Throws naming the first intervention (or mode range) outside the model, the prompt or
    /// the dictionary.
    func checkInterventions(_ sets: [[FeatureIntervention]], nPos: Int, mode: InterventionMode) throws {
        let L = transcoders.nLayers, dT = transcoders.dTranscoder
        if case let .constrained(range) = mode, range.isEmpty || range.lowerBound < 0 || range.upperBound > L {
            throw TracerError.invalidArgument("constrained layers \(range.lowerBound):\(range.upperBound) are not a non-empty range inside the model's layers 0:\(L)")
        }
        for set in sets {
            for i in set {
                guard (0..<L).contains(i.layer) else { throw TracerError.invalidArgument("intervention \(i): layer \(i.layer) is outside the model's layers 0...\(L - 1)") }
                guard (0..<nPos).contains(i.position) else { throw TracerError.invalidArgument("intervention \(i): position \(i.position) is outside the prompt's positions 0...\(nPos - 1) (BOS at 0)") }
                guard (0..<dT).contains(i.feature) else { throw TracerError.invalidArgument("intervention \(i): feature \(i.feature) is outside the transcoder's features 0...\(dT - 1)") }
                guard i.value.isFinite else { throw TracerError.invalidArgument("intervention \(i): the value is not finite") }
            }
        }
    }
}

extension InterventionMode {
    var isConstrained: Bool { if case .constrained = self { return true } else { return false } }
}
