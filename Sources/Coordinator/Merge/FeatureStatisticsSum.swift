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

    init(shard f: HDF5File) throws {
        let s = ShardSchema.featureStats
        let counts = try f.read(Int64.self, at: "\(s)/active_count")
        shape = counts.shape
        activeCount = counts.values
        tokensSeen = try f.attribute("tokens_seen", as: Int64.self, at: s)
        sum = try f.read(Double.self, at: "\(s)/sum_activation").values
        sumSq = try f.read(Double.self, at: "\(s)/sum_sq_activation").values
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

    func write(into f: HDF5File) throws {
        let s = ShardSchema.featureStats
        try f.createGroup(s)
        try f.setAttribute("tokens_seen", tokensSeen, at: s)
        try f.write(activeCount, shape: shape, at: "\(s)/active_count", compression: 4)
        try f.write(zip(sum, sumCompensation).map { $0 + $1 }, shape: shape, at: "\(s)/sum_activation", compression: 4)
        try f.write(zip(sumSq, sumSqCompensation).map { $0 + $1 }, shape: shape, at: "\(s)/sum_sq_activation", compression: 4)
    }
}
