import Foundation
import Shared
import Storage

/// The corpus statistics of a merged run (`aggregate.h5` `/stats`), for global weights.
public struct AggregateStatistics: Sendable {
    /// `[nLayers, dTranscoder]`
    public var shape: [Int]
    public var activeCount: [Int64]
    public var sumActivation: [Double]
    public var tokensSeen: Int64
    public var pairs: CoactivationStatistics?

    public init(url: URL) throws {
        try MergeError.requireAggregate(url)
        let f = try HDF5File.open(url)
        defer { f.close() }
        guard let s = try FeatureStatisticsFile.read(f) else {
            throw MergeError(path: url.path, reason: "no feature statistics (no prompt was traced)")
        }
        shape = s.shape
        activeCount = s.activeCount
        sumActivation = s.sumActivation
        tokensSeen = s.tokensSeen
        pairs = try PairStatisticsFile.read(f)
    }

    /// The `k` features most often active in the corpus, from layer 1 up (layer-0 features have
    /// no earlier-layer sources).
    public func mostFrequent(_ k: Int) -> [FeatureID] {
        let dT = shape[1]
        return activeCount.indices.filter { $0 >= dT && activeCount[$0] > 0 }
            .sorted { (activeCount[$0], -$0) > (activeCount[$1], -$1) }.prefix(k)
            .map { FeatureID(layer: $0 / dT, feature: $0 % dT) }.sorted()
    }
}

extension Aggregate {
    /// The `k` features in the most pruned graphs (once per prompt), from layer 1 up.
    public func recurringFeatures(_ k: Int) -> [FeatureID] {
        var prompts: [FeatureID: Int] = [:]
        for g in graphs {
            for f in Set(g.nodes.filter { $0.type == .feature && $0.layer > 0 }.map { FeatureID(layer: $0.layer, feature: $0.feature) }) {
                prompts[f, default: 0] += 1
            }
        }
        return prompts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(k).map(\.key).sorted()
    }
}
