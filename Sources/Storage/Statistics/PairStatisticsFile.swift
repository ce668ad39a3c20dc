import Foundation

/// Reads and writes `CoactivationStatistics` as the `/stats/pairs` group of an HDF5 file.
public enum PairStatisticsFile {
    public static func write(_ s: CoactivationStatistics, into f: HDF5File) throws {
        let g = PairStatisticsSchema.group
        let rows = s.sorted, n = rows.count
        try f.createGroup(g)
        try f.setAttribute("d_transcoder", Int64(s.dTranscoder), at: g)
        try f.write(s.targets.flatMap { [Int64($0.layer), Int64($0.feature)] }, shape: [s.targets.count, 2], at: "\(g)/\(PairStatisticsSchema.targets)")
        let z = n > 512 ? 4 : nil
        try f.write(rows.map { Int32($0.pair.target) }, shape: [n], at: "\(g)/\(PairStatisticsSchema.targetIndex)", compression: z)
        try f.write(rows.flatMap { [Int64($0.pair.source / s.dTranscoder), Int64($0.pair.source % s.dTranscoder)] }, shape: [n, 2],
                    at: "\(g)/\(PairStatisticsSchema.source)", compression: z)
        try f.write(rows.map(\.sums.count), shape: [n], at: "\(g)/\(PairStatisticsSchema.count)", compression: z)
        try f.write(rows.map(\.sums.sumProduct), shape: [n], at: "\(g)/\(PairStatisticsSchema.sumProduct)", compression: z)
        try f.write(rows.map(\.sums.sumSource), shape: [n], at: "\(g)/\(PairStatisticsSchema.sumSource)", compression: z)
    }

    /// The pair statistics of `f`, or nil when it has none.
    public static func read(_ f: HDF5File) throws -> CoactivationStatistics? {
        let g = PairStatisticsSchema.group
        guard f.exists(g) else { return nil }
        let dT = Int(try f.attribute("d_transcoder", as: Int64.self, at: g))
        let t = try f.read(Int64.self, at: "\(g)/\(PairStatisticsSchema.targets)").values
        let targets = stride(from: 0, to: t.count, by: 2).map { FeatureID(layer: Int(t[$0]), feature: Int(t[$0 + 1])) }
        var s = CoactivationStatistics(targets: targets, dTranscoder: dT)
        let ti = try f.read(Int32.self, at: "\(g)/\(PairStatisticsSchema.targetIndex)").values
        let src = try f.read(Int64.self, at: "\(g)/\(PairStatisticsSchema.source)").values
        let count = try f.read(Int64.self, at: "\(g)/\(PairStatisticsSchema.count)").values
        let prod = try f.read(Double.self, at: "\(g)/\(PairStatisticsSchema.sumProduct)").values
        let sum = try f.read(Double.self, at: "\(g)/\(PairStatisticsSchema.sumSource)").values
        for k in ti.indices {
            s.set(.init(target: Int(ti[k]), source: Int(src[2 * k]) * dT + Int(src[2 * k + 1])),
                  .init(count: count[k], sumProduct: prod[k], sumSource: sum[k]))
        }
        return s
    }
}
