/// An active transcoder feature: `(layer, pos, index)`, as in circuit-tracer's `active_features`.
public struct ActiveFeature: Hashable, Comparable, Sendable {
    public var layer: Int
    public var pos: Int
    public var index: Int

    public init(layer: Int, pos: Int, index: Int) {
        self.layer = layer
        self.pos = pos
        self.index = index
    }

    public static func < (a: ActiveFeature, b: ActiveFeature) -> Bool {
        (a.layer, a.pos, a.index) < (b.layer, b.pos, b.index)
    }
}

/// A salient logit the graph explains.
public struct LogitTarget: Equatable, Sendable {
    /// Vocabulary id.
    public var tokenId: Int
    /// Decoded token text.
    public var token: String
    /// Full-vocabulary softmax probability (not renormalised over the targets).
    public var probability: Float

    public init(tokenId: Int, token: String, probability: Float) {
        self.tokenId = tokenId
        self.token = token
        self.probability = probability
    }
}

/// A local attribution graph of one prompt: circuit-tracer's `Graph`.
///
/// Node order: `NodeLayout`. The adjacency is `A[target, source]`: rows are targets, columns are
/// sources; only feature and logit rows can be non-zero, and only those are stored (`Adjacency`).
public struct AttributionGraph: Sendable {
    /// The attributed token ids, BOS first. `[nPos]`
    public var inputTokens: [Int]
    /// The decoded text of each attributed token. `[nPos]`
    public var tokenStrings: [String]
    /// Every non-zero transcoder activation, sorted by (layer, pos, index). `[nActive]`
    public var activeFeatures: [ActiveFeature]
    /// Post-nonlinearity activation of each active feature. `[nActive]`
    public var activationValues: [Float]
    /// Indices into `activeFeatures` of the graph's feature nodes, ascending. `[nFeatures]`
    public var selectedFeatures: [Int]
    /// The logit nodes, descending probability. `[nLogits]`
    public var logitTargets: [LogitTarget]
    /// Number of transformer layers (error nodes per position).
    public var nLayers: Int
    /// `A[target, source]`, `[N, N]`, stored by its feature and logit rows.
    public var adjacency: Adjacency

    public init(inputTokens: [Int], tokenStrings: [String], activeFeatures: [ActiveFeature],
                activationValues: [Float], selectedFeatures: [Int], logitTargets: [LogitTarget],
                nLayers: Int, adjacency: Adjacency) {
        self.inputTokens = inputTokens
        self.tokenStrings = tokenStrings
        self.activeFeatures = activeFeatures
        self.activationValues = activationValues
        self.selectedFeatures = selectedFeatures
        self.logitTargets = logitTargets
        self.nLayers = nLayers
        self.adjacency = adjacency
        precondition(adjacency.layout == layout, "adjacency must be laid out for this graph's nodes")
    }

    public var layout: NodeLayout {
        NodeLayout(nFeatures: selectedFeatures.count, nLayers: nLayers, nPos: inputTokens.count, nLogits: logitTargets.count)
    }

    /// Logit probabilities in rank order. `[nLogits]`
    public var logitProbabilities: [Float] { logitTargets.map(\.probability) }

    /// The `ActiveFeature` behind feature node `selected`.
    public func feature(selected: Int) -> ActiveFeature { activeFeatures[selectedFeatures[selected]] }

    /// The activation behind feature node `selected`.
    public func activation(selected: Int) -> Float { activationValues[selectedFeatures[selected]] }
}
