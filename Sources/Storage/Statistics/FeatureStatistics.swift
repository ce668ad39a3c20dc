/// Per-feature corpus statistics over non-BOS token positions: how often each transcoder
/// feature is active, and the sum and sum of squares of its activation. Means over all positions
/// (inactive counting as 0) are `sum / tokensSeen`. Stored as `/stats/features` of shards and of
/// `aggregate.h5` by `FeatureStatisticsFile`.
public struct FeatureStatistics: Sendable, Equatable {
    /// `[nLayers, dTranscoder]`
    public var shape: [Int]
    /// Non-BOS positions seen.
    public var tokensSeen: Int64
    /// `[nLayers · dTranscoder]`, row-major: positions where the feature is active.
    public var activeCount: [Int64]
    /// `[nLayers · dTranscoder]`: Σ activation over those positions.
    public var sumActivation: [Double]
    /// `[nLayers · dTranscoder]`: Σ activation².
    public var sumSqActivation: [Double]

    /// Zero statistics for `nLayers` layers of `dTranscoder` features.
    public init(nLayers: Int, dTranscoder: Int) {
        shape = [nLayers, dTranscoder]
        tokensSeen = 0
        activeCount = [Int64](repeating: 0, count: nLayers * dTranscoder)
        sumActivation = [Double](repeating: 0, count: nLayers * dTranscoder)
        sumSqActivation = sumActivation
    }

    public init(shape: [Int], tokensSeen: Int64, activeCount: [Int64], sumActivation: [Double], sumSqActivation: [Double]) {
        self.shape = shape; self.tokensSeen = tokensSeen
        self.activeCount = activeCount; self.sumActivation = sumActivation; self.sumSqActivation = sumSqActivation
    }

    /// Counts one active feature at one position with activation `value`.
    public mutating func add(layer: Int, feature: Int, value: Float) {
        let k = layer * shape[1] + feature
        activeCount[k] += 1
        sumActivation[k] += Double(value)
        sumSqActivation[k] += Double(value) * Double(value)
    }
}
