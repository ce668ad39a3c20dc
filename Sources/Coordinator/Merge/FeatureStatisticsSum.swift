import Shared
import Storage

/// Per-feature statistics summed over shards: counts exactly (integers), activation sums with
/// Neumaier compensation, in task order (so the result does not depend on completion order).
struct FeatureStatisticsSum {
    var shape: [Int]                 // [nLayers, dTranscoder]
    var tokensSeen: Int64
    var activeCount: [Int64]
    var sum: [Double], sumCompensation: [Double]
    var sumSq: [Double], sumSqCompensation: [Double]

    /// Starts the sum with one shard's statistics.
    init(_ s: FeatureStatistics) {
        shape = s.shape
        activeCount = s.activeCount
        tokensSeen = s.tokensSeen
        sum = s.sumActivation
        sumSq = s.sumSqActivation
        sumCompensation = [Double](repeating: 0, count: sum.count)
        sumSqCompensation = sumCompensation
    }

    mutating func add(_ other: FeatureStatisticsSum, path: String) throws {
        guard other.shape == shape else {
            throw MergeError(path: path, reason: "feature statistics have shape \(other.shape), other shards \(shape)")
        }
        tokensSeen += other.tokensSeen
        for i in activeCount.indices { activeCount[i] += other.activeCount[i] }
        Self.neumaier(&sum, &sumCompensation, other.sum)
        Self.neumaier(&sumSq, &sumSqCompensation, other.sumSq)
    }

    /// `s += x` elementwise, carrying the rounding error in `c`.
    static func neumaier(_ s: inout [Double], _ c: inout [Double], _ x: [Double]) {
        for i in s.indices {
            let t = s[i] + x[i]
            c[i] += abs(s[i]) >= abs(x[i]) ? (s[i] - t) + x[i] : (x[i] - t) + s[i]
            s[i] = t
        }
    }

    /// The compensated sums.
    var statistics: FeatureStatistics {
        FeatureStatistics(shape: shape, tokensSeen: tokensSeen, activeCount: activeCount,
                          sumActivation: zip(sum, sumCompensation).map { $0 + $1 },
                          sumSqActivation: zip(sumSq, sumSqCompensation).map { $0 + $1 })
    }
}
