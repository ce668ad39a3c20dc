/// The component graph of a model, in the convention of ACDC and Edge Attribution Patching
/// (Conmy et al. 2023; Syed, Rager, Conmy 2023): senders write into the residual stream,
/// receivers read their own copy of it, and an edge joins every sender to every receiver
/// downstream of it. Patching an edge replaces that sender's output, in that receiver's copy of
/// the residual only, by its value on another prompt.
///
/// - Senders: the token embeddings (Gemma: scaled), the learned position embeddings (GPT-2 only),
///   each attention head's output (its slice of `z · W_O`; Gemma-2: after the post-attention
///   norm at the run's own scale, so the heads' outputs sum to the sub-block's), each MLP's output.
///   Biases (`b_O`, `b_out`) belong to no sender: they are the same on every prompt.
/// - Receivers: each head's query input, each key/value head's key and value inputs (GQA: one
///   per KV head, shared by its query heads), each MLP's input (all before their norm), and the
///   final residual (before the final norm), which the metric reads.
///
/// Names follow the EAP-IG library (Hanna et al. 2024): `input`, `pos`, `a3.h1`, `m3`,
/// `a3.h1<q>`, `a3.h0<k>`, `a3.h0<v>`, `logits`; an edge is `sender->receiver`.
public struct ComponentGraph: Sendable, Equatable {
    public enum Sender: Hashable, Sendable {
        case tokenEmbedding
        case positionEmbedding
        case head(layer: Int, head: Int)
        case mlp(layer: Int)
    }

    public enum Receiver: Hashable, Sendable {
        case query(layer: Int, head: Int)
        case key(layer: Int, kvHead: Int)
        case value(layer: Int, kvHead: Int)
        case mlp(layer: Int)
        case logits
    }

    /// One edge: indices into `senders` and `receivers`.
    public struct Edge: Hashable, Sendable {
        public var sender: Int
        public var receiver: Int
    }

    /// Embeddings first, then per layer its heads in order and its MLP.
    public let senders: [Sender]
    /// Per layer: queries by head, keys by KV head, values by KV head, the MLP; then `logits`.
    public let receivers: [Receiver]
    /// Every sender → every receiver downstream of it, ordered by receiver, then sender.
    public let edges: [Edge]

    public init(nLayers: Int, nHeads: Int, nKVHeads: Int, learnedPositions: Bool) {
        var s: [Sender] = [.tokenEmbedding]
        if learnedPositions { s.append(.positionEmbedding) }
        for l in 0..<nLayers {
            for h in 0..<nHeads { s.append(.head(layer: l, head: h)) }
            s.append(.mlp(layer: l))
        }
        var r: [Receiver] = []
        for l in 0..<nLayers {
            for h in 0..<nHeads { r.append(.query(layer: l, head: h)) }
            for h in 0..<nKVHeads { r.append(.key(layer: l, kvHead: h)) }
            for h in 0..<nKVHeads { r.append(.value(layer: l, kvHead: h)) }
            r.append(.mlp(layer: l))
        }
        r.append(.logits)
        var e: [Edge] = []
        for (ri, receiver) in r.enumerated() {
            for (si, sender) in s.enumerated() where Self.feeds(sender, receiver) { e.append(Edge(sender: si, receiver: ri)) }
        }
        senders = s
        receivers = r
        edges = e
    }

    public init(config: ModelConfig) {
        var learned = false
        if case .learned = config.positional { learned = true }
        self.init(nLayers: config.nLayers, nHeads: config.nHeads, nKVHeads: config.nKVHeads, learnedPositions: learned)
    }

    /// Whether `sender`'s output reaches `receiver`'s input directly through the residual stream.
    /// Layer `l`'s heads feed layer `l`'s MLP; nothing feeds its own layer's attention.
    public static func feeds(_ sender: Sender, _ receiver: Receiver) -> Bool {
        let receiverLayer: Int, isMLP: Bool
        switch receiver {
        case .logits: return true
        case let .query(l, _), let .key(l, _), let .value(l, _): receiverLayer = l; isMLP = false
        case let .mlp(l): receiverLayer = l; isMLP = true
        }
        switch sender {
        case .tokenEmbedding, .positionEmbedding: return true
        case let .head(l, _): return l < receiverLayer || (l == receiverLayer && isMLP)
        case let .mlp(l): return l < receiverLayer
        }
    }

    public func name(of s: Sender) -> String {
        switch s {
        case .tokenEmbedding: return "input"
        case .positionEmbedding: return "pos"
        case let .head(l, h): return "a\(l).h\(h)"
        case let .mlp(l): return "m\(l)"
        }
    }

    public func name(of r: Receiver) -> String {
        switch r {
        case let .query(l, h): return "a\(l).h\(h)<q>"
        case let .key(l, h): return "a\(l).h\(h)<k>"
        case let .value(l, h): return "a\(l).h\(h)<v>"
        case let .mlp(l): return "m\(l)"
        case .logits: return "logits"
        }
    }

    /// `sender->receiver`, e.g. `a0.h1->a2.h3<q>`.
    public func name(of e: Edge) -> String { "\(name(of: senders[e.sender]))->\(name(of: receivers[e.receiver]))" }
}
