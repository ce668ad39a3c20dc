/// Index arithmetic of `ComponentGraph`'s senders and receivers for one model, so that the
/// engine's hot paths never search the node lists: the orders are those `ComponentGraph.init`
/// builds (senders: embeddings, then per layer its heads and its MLP; receivers: per layer the
/// queries, keys, values, MLP; then `logits`). `EAPLayoutTests` checks both against the graph.
struct EAPLayout: Sendable {
    let nLayers: Int, nHeads: Int, nKVHeads: Int
    /// 2 with learned positions (token, position), else 1.
    let nEmbeddingSenders: Int

    init(nLayers: Int, nHeads: Int, nKVHeads: Int, nEmbeddingSenders: Int) {
        self.nLayers = nLayers; self.nHeads = nHeads; self.nKVHeads = nKVHeads; self.nEmbeddingSenders = nEmbeddingSenders
    }

    init(config c: ModelConfig) {
        var learned = false
        if case .learned = c.positional { learned = true }
        self.init(nLayers: c.nLayers, nHeads: c.nHeads, nKVHeads: c.nKVHeads, nEmbeddingSenders: learned ? 2 : 1)
    }

    var nSenders: Int { nEmbeddingSenders + nLayers * (nHeads + 1) }
    var receiversPerLayer: Int { nHeads + 2 * nKVHeads + 1 }
    var nReceivers: Int { nLayers * receiversPerLayer + 1 }

    func head(_ l: Int, _ h: Int) -> Int { nEmbeddingSenders + l * (nHeads + 1) + h }
    func mlpSender(_ l: Int) -> Int { nEmbeddingSenders + l * (nHeads + 1) + nHeads }
    /// The layer whose block computes sender `s`, nil for the embeddings.
    func layer(ofSender s: Int) -> Int? { s < nEmbeddingSenders ? nil : (s - nEmbeddingSenders) / (nHeads + 1) }

    func query(_ l: Int, _ h: Int) -> Int { l * receiversPerLayer + h }
    func key(_ l: Int, _ g: Int) -> Int { l * receiversPerLayer + nHeads + g }
    func value(_ l: Int, _ g: Int) -> Int { l * receiversPerLayer + nHeads + nKVHeads + g }
    func mlpReceiver(_ l: Int) -> Int { l * receiversPerLayer + nHeads + 2 * nKVHeads }
    var logits: Int { nLayers * receiversPerLayer }
    /// The layer whose block reads receiver `r`; `nLayers` for `logits`.
    func layer(ofReceiver r: Int) -> Int { r / receiversPerLayer }
}
