/// Reads and writes `FeatureStatistics` as the `/stats/features` group of an HDF5 file (names in
/// `FeatureStatisticsSchema`). The one reader and writer of that group, for shards (worker),
/// the merge and the global-weights step (coordinator).
public enum FeatureStatisticsFile {
    /// Creates `/stats/features` in `f` (datasets gzip level 4).
    public static func write(_ s: FeatureStatistics, into f: HDF5File) throws {
        typealias S = FeatureStatisticsSchema
        let g = S.group
        try f.createGroup(g)
        try f.setAttribute(S.tokensSeen, s.tokensSeen, at: g)
        try f.write(s.activeCount, shape: s.shape, at: "\(g)/\(S.activeCount)", compression: 4)
        try f.write(s.sumActivation, shape: s.shape, at: "\(g)/\(S.sumActivation)", compression: 4)
        try f.write(s.sumSqActivation, shape: s.shape, at: "\(g)/\(S.sumSqActivation)", compression: 4)
    }

    /// The feature statistics of `f`, or nil when it has no `/stats/features` group.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and dataset or attribute) when the group
    ///   lacks one; `SchemaError` when the datasets are not all `[nLayers, dTranscoder]` alike.
    public static func read(_ f: HDF5File) throws -> FeatureStatistics? {
        typealias S = FeatureStatisticsSchema
        let g = S.group
        guard f.exists(g) else { return nil }
        let counts = try f.read(Int64.self, at: "\(g)/\(S.activeCount)")
        let tokens = try f.attribute(S.tokensSeen, as: Int64.self, at: g)
        let sum = try f.read(Double.self, at: "\(g)/\(S.sumActivation)")
        let sumSq = try f.read(Double.self, at: "\(g)/\(S.sumSqActivation)")
        guard counts.shape.count == 2 else {
            throw SchemaError(file: f.path, object: "\(g)/\(S.activeCount)", detail: "shape \(counts.shape), expected [nLayers, dTranscoder]")
        }
        for (name, shape) in [(S.sumActivation, sum.shape), (S.sumSqActivation, sumSq.shape)] where shape != counts.shape {
            throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "shape \(shape), expected \(counts.shape) like \(S.activeCount)")
        }
        return FeatureStatistics(shape: counts.shape, tokensSeen: tokens, activeCount: counts.values,
                                 sumActivation: sum.values, sumSqActivation: sumSq.values)
    }
}
