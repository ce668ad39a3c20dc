import Storage

extension GlobalPartners {
    /// `prefilter.json` from the whole dictionary: every upstream |TWERA| list entry (each
    /// co-active pair is listed under its target) with |TWERA| ≥ `threshold`, strongest first,
    /// at most `limit`; the same file `--top` writes.
    public func prefilter(threshold: Float, limit: Int, transcoderFolder: String) -> GlobalWeightsTable.Prefilter {
        var pairs: [GlobalWeightsTable.PrefilterPair] = []
        let lists = upstream[.twera]!
        for t in 0..<features {
            for e in lists.sorted(row: t) where abs(e.twera) >= threshold {
                pairs.append(.init(source: feature(Int(e.partner)), target: feature(t), twera: e.twera, era: e.era,
                                   virtual_weight: e.virtualWeight, coactivation_count: Int64(e.count)))
            }
        }
        pairs.sort { (abs($0.twera), $1.target, $1.source) > (abs($1.twera), $0.target, $0.source) }
        pairs = Array(pairs.prefix(limit))
        return .init(transcoders: transcoderFolder, threshold: threshold, pairs: pairs,
                     features: Set(pairs.flatMap { [$0.source, $0.target] }).sorted())
    }
}
