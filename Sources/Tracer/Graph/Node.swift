/// A node of an attribution graph.
///
/// circuit-tracer's node order, used for every adjacency matrix, mask and influence vector
/// (`N = nFeatures + nLayers·nPos + nPos + nLogits`):
/// 1. `[0, nFeatures)`: feature nodes, in the order of `AttributionGraph.selectedFeatures`;
/// 2. error nodes, index `nFeatures + layer·nPos + pos` (layer-major);
/// 3. token (embedding) nodes, index `nFeatures + nLayers·nPos + pos`;
/// 4. logit nodes, index `N − nLogits + rank`, the rank-th logit target in descending probability.
public enum Node: Hashable, Sendable {
    /// A selected transcoder feature; `selected` indexes `AttributionGraph.selectedFeatures`.
    case feature(selected: Int)
    /// The transcoder error at the MLP output of `layer`, position `pos`.
    case error(layer: Int, pos: Int)
    /// The token embedding at `pos`.
    case token(pos: Int)
    /// The `rank`-th logit target.
    case logit(rank: Int)
}

/// Maps nodes to adjacency offsets and back: the one place that knows the node order.
public struct NodeLayout: Equatable, Sendable {
    public let nFeatures: Int
    public let nLayers: Int
    public let nPos: Int
    public let nLogits: Int

    public init(nFeatures: Int, nLayers: Int, nPos: Int, nLogits: Int) {
        self.nFeatures = nFeatures
        self.nLayers = nLayers
        self.nPos = nPos
        self.nLogits = nLogits
    }

    /// Total node count N.
    public var count: Int { nFeatures + nLayers * nPos + nPos + nLogits }
    public var errorRange: Range<Int> { nFeatures..<(nFeatures + nLayers * nPos) }
    public var tokenRange: Range<Int> { errorRange.upperBound..<(errorRange.upperBound + nPos) }
    public var logitRange: Range<Int> { tokenRange.upperBound..<count }
    public var featureRange: Range<Int> { 0..<nFeatures }

    /// The adjacency offset of `node`.
    public func index(of node: Node) -> Int {
        switch node {
        case let .feature(selected): return selected
        case let .error(layer, pos): return nFeatures + layer * nPos + pos
        case let .token(pos): return tokenRange.lowerBound + pos
        case let .logit(rank): return logitRange.lowerBound + rank
        }
    }

    /// The node at adjacency offset `index`.
    public func node(at index: Int) -> Node {
        if index < nFeatures { return .feature(selected: index) }
        if index < tokenRange.lowerBound {
            let e = index - nFeatures
            return .error(layer: e / nPos, pos: e % nPos)
        }
        if index < logitRange.lowerBound { return .token(pos: index - tokenRange.lowerBound) }
        return .logit(rank: index - logitRange.lowerBound)
    }
}
