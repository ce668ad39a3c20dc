import Foundation

/// The clean and corrupt runs of one prompt pair that every EAP method starts from.
struct PairRuns: Sendable {
    /// The clean run, recorded, one segment.
    var clean: EAPRun
    var cleanLogits: [Float]
    var cleanMetric: Double
    var corruptMetric: Double
    /// Sender outputs `[nSenders, nPos·dModel]` on each prompt, and corrupt − clean.
    var cleanSenders: [Float]
    var corruptSenders: [Float]
    var delta: [Float]
    /// The residual entering block 0 (the embeddings' sum), `[nPos, dModel]`.
    var cleanEmbeddings: [Float]
    var corruptEmbeddings: [Float]
}

extension EdgeAttribution {
    /// Rows per packed forward (EAP-IG steps, exact patching's edges): the dense products stay
    /// GEMMs with many rows, the per-run buffers small.
    static let maxRows = 512

    var layout: EAPLayout { EAPLayout(config: model.config) }

    /// Checks `pair` against the model: same non-zero length within the context, every token,
    /// the answer and the wrong token inside the vocabulary.
    ///
    /// - Throws: `TracerError.invalidArgument("pair ID: reason")`.
    public func validate(_ pair: PromptPair) throws {
        let c = model.config
        func fail(_ why: String) -> TracerError { .invalidArgument("pair \(pair.id): \(why)") }
        guard !pair.clean.isEmpty, !pair.corrupt.isEmpty else { throw fail("a prompt is empty") }
        guard pair.clean.count == pair.corrupt.count else {
            throw fail("the clean prompt has \(pair.clean.count) tokens and the corrupt one \(pair.corrupt.count); a pair's prompts must have the same length")
        }
        guard pair.clean.count <= c.nCtx else { throw fail("the prompts have \(pair.clean.count) tokens but the model's context is \(c.nCtx)") }
        for (name, tokens) in [("clean", pair.clean), ("corrupt", pair.corrupt)] {
            if let p = tokens.firstIndex(where: { $0 < 0 || $0 >= c.nVocab }) {
                throw fail("\(name) token \(p) (id \(tokens[p])) is outside the vocabulary (size \(c.nVocab))")
            }
        }
        for (name, t) in [("answer", pair.answer), ("wrong", pair.wrong)] where t < 0 || t >= c.nVocab {
            throw fail("the \(name) token (id \(t)) is outside the vocabulary (size \(c.nVocab))")
        }
    }

    /// Validates `pair`, runs both prompts packed as two segments, and takes their sender outputs.
    func pairRuns(_ pair: PromptPair) throws -> PairRuns {
        try validate(pair)
        let T = pair.clean.count
        let ce = embeddings(pair.clean), xe = embeddings(pair.corrupt)
        func sum(_ e: (token: [Float], position: [Float]?)) -> [Float] {
            guard let p = e.position else { return e.token }
            return zip(e.token, p).map { $0 + $1 }
        }
        let clean0 = sum(ce), corrupt0 = sum(xe)
        let both = run(residual: clean0 + corrupt0, nSegments: 2, nPos: T, record: true)
        for logits in both.logits where logits.contains(where: { !$0.isFinite }) {
            throw TracerError.nonFinite("the logits of pair \(pair.id)")
        }
        let cleanSenders = senderOutputs(both, segment: 0, token: ce.token, position: ce.position)
        let corruptSenders = senderOutputs(both, segment: 1, token: xe.token, position: xe.position)
        var delta = corruptSenders
        for i in delta.indices { delta[i] -= cleanSenders[i] }
        let cleanLogits = both.logits[0]
        return PairRuns(clean: both.segment(0), cleanLogits: cleanLogits,
                        cleanMetric: metric.value(logits: cleanLogits, pair: pair, cleanLogits: cleanLogits),
                        corruptMetric: metric.value(logits: both.logits[1], pair: pair, cleanLogits: cleanLogits),
                        cleanSenders: cleanSenders, corruptSenders: corruptSenders, delta: delta,
                        cleanEmbeddings: clean0, corruptEmbeddings: corrupt0)
    }

    /// Per edge in `graph.edges` order, `Σ_pos delta_s · gradients_r`: one product
    /// `scores[nSenders, nReceivers] = delta[nSenders, T·d] · gradientsᵀ[T·d, nReceivers]`, then the edges picked.
    func edgeScores(delta: [Float], gradients: [Float], nPos T: Int) -> [Double] {
        let lay = layout, n = T * model.config.dModel, nS = lay.nSenders, nR = lay.nReceivers
        var all = [Float](repeating: 0, count: nS * nR)
        // all[nS, nR] = delta[nS, n] · gradients[nR, n]ᵀ
        gemm(&all, ldc: nR, delta, lda: n, gradients, ldb: n, transB: true, m: nS, n: nR, k: n)
        return graph.edges.map { Double(all[$0.sender * nR + $0.receiver]) }
    }

    /// The metric of one patched clean run per element of `patches`, each run starting at the
    /// earliest layer its patches read (the clean run's residual there), runs of one start layer
    /// packed `maxRows` rows per forward.
    func patchedMetrics(_ runs: PairRuns, pair: PromptPair, patches: [[ReceiverPatch]]) -> [Double] {
        let c = model.config, T = runs.clean.nPos, n = T * c.dModel, lay = layout
        var values = [Double](repeating: 0, count: patches.count)
        let starts = patches.map { $0.map { lay.layer(ofReceiver: $0.receiver) }.min() ?? c.nLayers }
        let perRun = max(1, Self.maxRows / T)
        for start in 0...c.nLayers {
            let members = patches.indices.filter { starts[$0] == start }
            let entry = start < c.nLayers ? runs.clean.layers[start].residPre : runs.clean.residFinal
            for chunk in stride(from: 0, to: members.count, by: perRun) {
                let ids = Array(members[chunk..<min(chunk + perRun, members.count)])
                var residual = [Float](repeating: 0, count: ids.count * n)
                for s in ids.indices { for i in 0..<n { residual[s * n + i] = entry[i] } }
                let patch = EAPPatch(clean: runs.cleanSenders, corrupt: runs.corruptSenders, segments: ids.map { patches[$0] })
                let out = run(residual: residual, nSegments: ids.count, nPos: T, from: start, patch: patch)
                for (s, id) in ids.enumerated() { values[id] = metric.value(logits: out.logits[s], pair: pair, cleanLogits: runs.cleanLogits) }
            }
        }
        return values
    }
}

extension EAPRun {
    /// Segment `i` alone, as a run of one segment.
    func segment(_ i: Int) -> EAPRun {
        let S = nSegments
        func slice(_ a: [Float]) -> [Float] {
            guard !a.isEmpty else { return a }
            let rows = a.count / S
            return Array(a[(i * rows)..<((i + 1) * rows)])
        }
        let layers = self.layers.map { r in
            EAPLayerRecord(residPre: slice(r.residPre), qPre: slice(r.qPre), kPre: slice(r.kPre), q: slice(r.q), k: slice(r.k), v: slice(r.v),
                           z: slice(r.z), attnPre: slice(r.attnPre), postAttentionScale: slice(r.postAttentionScale),
                           residMid: slice(r.residMid), gate: slice(r.gate), up: slice(r.up), mlpPre: slice(r.mlpPre), mlpOut: slice(r.mlpOut))
        }
        return EAPRun(nSegments: 1, nPos: nPos, layers: layers, residFinal: slice(residFinal), finalInput: slice(finalInput), logits: [logits[i]])
    }
}
