/// Reads and writes `EdgeScoreSums` as the `/eap` group of an HDF5 file (`circuits eap`'s
/// output, a pair task's shard, the merged aggregate). The one reader and writer of that group.
///
/// Layout: attributes `metric` (string), `ig_steps`, `pairs` (i64), `clean_metric_sum`,
/// `corrupt_metric_sum`, `abs_total_effect_sum` (f64); datasets `edges` (strings, `[nEdges]`)
/// and `<method>_sum` (f64 `[nEdges]`) for each method run (`eap`, `eap_ig`, `exact`).
public enum EdgeScoreSumsFile {
    public static let group = "/eap"

    public static func write(_ s: EdgeScoreSums, into f: HDF5File) throws {
        let g = group
        try f.createGroup(g)
        try f.setAttribute("metric", s.metric, at: g)
        try f.setAttribute("ig_steps", Int64(s.igSteps), at: g)
        try f.setAttribute("pairs", Int64(s.pairs), at: g)
        try f.setAttribute("clean_metric_sum", s.cleanMetric, at: g)
        try f.setAttribute("corrupt_metric_sum", s.corruptMetric, at: g)
        try f.setAttribute("abs_total_effect_sum", s.absoluteTotalEffect, at: g)
        try f.writeStrings(s.edges, at: "\(g)/edges")
        for m in EdgeScoreSums.Method.allCases {
            if let v = s.scores[m] { try f.write(v, shape: [v.count], at: "\(g)/\(m.rawValue)_sum", compression: 4) }
        }
    }

    /// The sums of `f`, or nil when it has no `/eap` group.
    /// - Throws: `HDF5Error` naming a missing attribute or dataset; `SchemaError` when a score
    ///   dataset's length is not the number of edges.
    public static func read(_ f: HDF5File) throws -> EdgeScoreSums? {
        let g = group
        guard f.exists(g) else { return nil }
        let edges = try f.readStrings(at: "\(g)/edges")
        let methods = EdgeScoreSums.Method.allCases.filter { f.exists("\(g)/\($0.rawValue)_sum") }
        var s = EdgeScoreSums(edges: edges, metric: try f.stringAttribute("metric", at: g),
                              igSteps: Int(try f.attribute("ig_steps", as: Int64.self, at: g)), methods: methods)
        s.pairs = Int(try f.attribute("pairs", as: Int64.self, at: g))
        s.cleanMetric = try f.attribute("clean_metric_sum", as: Double.self, at: g)
        s.corruptMetric = try f.attribute("corrupt_metric_sum", as: Double.self, at: g)
        s.absoluteTotalEffect = try f.attribute("abs_total_effect_sum", as: Double.self, at: g)
        for m in methods {
            let path = "\(g)/\(m.rawValue)_sum"
            let v = try f.read(Double.self, at: path)
            guard v.shape == [edges.count] else { throw SchemaError(file: f.path, object: path, detail: "shape \(v.shape), expected [\(edges.count)] (one per edge)") }
            s.scores[m] = v.values
        }
        return s
    }
}
