/// Whole-dictionary global weights: for every feature its top-k upstream sources and top-k
/// downstream targets, ranked by |TWERA|, by |ERA|, and (interference) by |V| among the pairs
/// never active together. Rows are features, `layer · dTranscoder + feature`; partners too.
///
/// Written as `/all` of `global_weights.h5` by `GlobalPartnersFile`. Blocks of targets
/// computed apart merge exactly (`absorb`): every list is the top k of a total order.
public struct GlobalPartners: Sendable {
    public let nLayers: Int
    public let dTranscoder: Int
    public let k: Int
    /// Non-BOS positions the statistics cover.
    public var tokensSeen: Int64
    /// Upstream lists: row t holds sources s (l_s < l_t) of target t.
    public let upstream: [PartnerRanking: PartnerTable]
    /// Downstream lists: row s holds targets t (l_t > l_s) of source s.
    public let downstream: [PartnerRanking: PartnerTable]

    public init(nLayers: Int, dTranscoder: Int, k: Int, tokensSeen: Int64) {
        self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.k = k; self.tokensSeen = tokensSeen
        let n = nLayers * dTranscoder
        upstream = Dictionary(uniqueKeysWithValues: PartnerRanking.allCases.map { ($0, PartnerTable(features: n, k: k)) })
        downstream = Dictionary(uniqueKeysWithValues: PartnerRanking.allCases.map { ($0, PartnerTable(features: n, k: k)) })
    }

    public var features: Int { nLayers * dTranscoder }

    /// Adds another block's lists (same shape and corpus): each list becomes the top k of both.
    public func absorb(_ other: GlobalPartners) {
        precondition(other.nLayers == nLayers && other.dTranscoder == dTranscoder && other.k == k, "partners of different shapes")
        for r in PartnerRanking.allCases {
            upstream[r]!.absorb(other.upstream[r]!)
            downstream[r]!.absorb(other.downstream[r]!)
        }
    }

    public func feature(_ key: Int) -> FeatureID { FeatureID(layer: key / dTranscoder, feature: key % dTranscoder) }
    public func key(_ f: FeatureID) -> Int { f.layer * dTranscoder + f.feature }
}
