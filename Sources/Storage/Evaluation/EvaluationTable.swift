/// The `/evaluation` group of shards and of `aggregate.h5`: one row per row of `/prompts` (same
/// order), the graph evaluation of each traced prompt (`evaluation:` in the job spec). A prompt
/// that was not evaluated (failed, or the evaluation failed) has NaN metrics and 0 features.
/// Written by workers, concatenated by the merge, read by the report (see `docs/shard-schema.md`).
public struct EvaluationTable: Sendable {
    public static let group = "evaluation"

    /// Dataset names; `n` rows, `L` = layers, `K` = the longest path length of any row.
    public enum Column {
        /// f64 [n]: mean path length `Σ k · share_k` (NaN: not evaluated).
        public static let pathLengthMean = "path_length_mean"
        /// f64 [n, K]: share of embedding → logit influence on paths of length k = column + 1 (0 past a row's longest).
        public static let pathLengthShares = "path_length_shares"
        /// f64 [n, L]: mean cosine of the real vs. replacement residual change at layer distance = column (NaN: no data).
        public static let fidelityCosine = "fidelity_cosine"
        /// f64 [n, L]: mean normalised MSE of the same (NaN: no data).
        public static let fidelityNMSE = "fidelity_nmse"
        /// i64 [n]: features ablated for the fidelity check.
        public static let fidelityFeatures = "fidelity_features"
        /// f64 [n]: Spearman correlation of influence on the top logit and ablation effect (NaN: skipped).
        public static let causalRankCorrelation = "causal_rank_correlation"
        /// i64 [n]: features ranked for it (0: skipped).
        public static let causalFeatures = "causal_features"
        /// f64 [n]: evaluation time (beside the trace time of `/prompts`); optional when reading.
        public static let seconds = "seconds"
        /// Attribute (i64) of the group: N, the job's `evaluation.features`.
        public static let features = "features"
    }

    /// One prompt's metrics.
    public struct Row: Sendable {
        /// Empty when not evaluated (or no token reaches a logit).
        public var pathLengthShares: [Double] = []
        public var pathLengthMean: Double = .nan
        /// `[nLayers]`, NaN where no data.
        public var fidelityCosine: [Double]
        public var fidelityNMSE: [Double]
        public var fidelityFeatures: Int64 = 0
        public var causalRankCorrelation: Double = .nan
        public var causalFeatures: Int64 = 0
        public var seconds: Double = 0

        /// A prompt without evaluation.
        public init(nLayers: Int) {
            fidelityCosine = Array(repeating: .nan, count: nLayers)
            fidelityNMSE = fidelityCosine
        }

        public var isEvaluated: Bool { pathLengthMean.isFinite }
    }

    public var nLayers: Int
    /// N, the features ablated per check.
    public var features: Int
    public var rows: [Row] = []

    public init(nLayers: Int, features: Int) { self.nLayers = nLayers; self.features = features }

    public var count: Int { rows.count }

    public mutating func append(_ row: Row) {
        precondition(row.fidelityCosine.count == nLayers && row.fidelityNMSE.count == nLayers, "fidelity rows are [nLayers]")
        rows.append(row)
    }

    /// Appends `n` rows of prompts without evaluation.
    public mutating func appendMissing(_ n: Int) {
        for _ in 0..<n { rows.append(Row(nLayers: nLayers)) }
    }

    public func write(into f: HDF5File) throws {
        typealias C = Column
        let g = Self.group, n = rows.count, L = max(1, nLayers)
        let K = max(1, rows.map(\.pathLengthShares.count).max() ?? 0)
        try f.createGroup(g)
        try f.setAttribute(C.features, Int64(features), at: g)
        try f.write(rows.map(\.pathLengthMean), shape: [n], at: "\(g)/\(C.pathLengthMean)")
        try f.write(rows.flatMap { r in (0..<K).map { $0 < r.pathLengthShares.count ? r.pathLengthShares[$0] : (r.isEvaluated ? 0 : .nan) } },
                    shape: [n, K], at: "\(g)/\(C.pathLengthShares)")
        func padded(_ x: [Double]) -> [Double] { x + Array(repeating: .nan, count: L - x.count) }
        try f.write(rows.flatMap { padded($0.fidelityCosine) }, shape: [n, L], at: "\(g)/\(C.fidelityCosine)")
        try f.write(rows.flatMap { padded($0.fidelityNMSE) }, shape: [n, L], at: "\(g)/\(C.fidelityNMSE)")
        try f.write(rows.map(\.fidelityFeatures), shape: [n], at: "\(g)/\(C.fidelityFeatures)")
        try f.write(rows.map(\.causalRankCorrelation), shape: [n], at: "\(g)/\(C.causalRankCorrelation)")
        try f.write(rows.map(\.causalFeatures), shape: [n], at: "\(g)/\(C.causalFeatures)")
        try f.write(rows.map(\.seconds), shape: [n], at: "\(g)/\(C.seconds)")
    }

    /// Writes one prompt's metrics as attributes of `path` (`circuits trace --evaluate`), named
    /// like the columns (NaN where the metric is missing), with N as `evaluation_features`.
    public static func writeAttributes(_ row: Row, features: Int, into f: HDF5File, at path: String = "/") throws {
        typealias C = Column
        try f.setAttribute("evaluation_" + C.features, Int64(features), at: path)
        try f.setAttribute(C.pathLengthMean, row.pathLengthMean, at: path)
        try f.setAttribute(C.pathLengthShares, row.pathLengthShares.isEmpty ? [0] : row.pathLengthShares, at: path)
        try f.setAttribute(C.fidelityCosine, row.fidelityCosine, at: path)
        try f.setAttribute(C.fidelityNMSE, row.fidelityNMSE, at: path)
        try f.setAttribute(C.fidelityFeatures, row.fidelityFeatures, at: path)
        try f.setAttribute(C.causalRankCorrelation, row.causalRankCorrelation, at: path)
        try f.setAttribute(C.causalFeatures, row.causalFeatures, at: path)
    }

    /// The table of `f`, or nil when it has none.
    /// - Throws: `HDF5Error` when a dataset is missing; `SchemaError` when shapes disagree.
    public static func read(_ f: HDF5File) throws -> EvaluationTable? {
        typealias C = Column
        let g = group
        guard f.exists(g) else { return nil }
        let mean = try f.read(Double.self, at: "\(g)/\(C.pathLengthMean)").values
        let shares = try f.read(Double.self, at: "\(g)/\(C.pathLengthShares)")
        let cosine = try f.read(Double.self, at: "\(g)/\(C.fidelityCosine)")
        let nmse = try f.read(Double.self, at: "\(g)/\(C.fidelityNMSE)")
        let fidelityFeatures = try f.read(Int64.self, at: "\(g)/\(C.fidelityFeatures)").values
        let causal = try f.read(Double.self, at: "\(g)/\(C.causalRankCorrelation)").values
        let causalFeatures = try f.read(Int64.self, at: "\(g)/\(C.causalFeatures)").values
        let n = mean.count
        // Optional: shards of the first version of this table have no times.
        let seconds = f.exists("\(g)/\(C.seconds)") ? try f.read(Double.self, at: "\(g)/\(C.seconds)").values : Array(repeating: .nan, count: n)
        for (name, shape) in [(C.pathLengthShares, shares.shape), (C.fidelityCosine, cosine.shape), (C.fidelityNMSE, nmse.shape)]
        where shape.count != 2 || shape[0] != n || shape[1] < 1 || (name != C.pathLengthShares && shape != cosine.shape) {
            throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "shape \(shape), expected [\(n), ≥1] (\(C.fidelityCosine) and \(C.fidelityNMSE) alike)")
        }
        for (name, count) in [(C.fidelityFeatures, fidelityFeatures.count), (C.causalRankCorrelation, causal.count), (C.causalFeatures, causalFeatures.count),
                             (C.seconds, seconds.count)]
        where count != n {
            throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(count) entries, but \(C.pathLengthMean) has \(n)")
        }
        let K = shares.shape[1], L = cosine.shape[1]
        var table = EvaluationTable(nLayers: L, features: Int(try f.attribute(C.features, as: Int64.self, at: g)))
        for k in 0..<n {
            var row = Row(nLayers: L)
            row.pathLengthMean = mean[k]
            if row.isEvaluated {
                var s = Array(shares.values[(k * K)..<((k + 1) * K)])
                while let last = s.last, last == 0 { s.removeLast() }
                row.pathLengthShares = s
            }
            row.fidelityCosine = Array(cosine.values[(k * L)..<((k + 1) * L)])
            row.fidelityNMSE = Array(nmse.values[(k * L)..<((k + 1) * L)])
            row.fidelityFeatures = fidelityFeatures[k]
            row.causalRankCorrelation = causal[k]
            row.causalFeatures = causalFeatures[k]
            row.seconds = seconds[k]
            table.rows.append(row)
        }
        return table
    }
}
