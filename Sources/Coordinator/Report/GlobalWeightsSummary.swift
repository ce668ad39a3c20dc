import Foundation
import Shared
import Storage

/// The report's view of `global_weights.h5`: per target, its strongest sources by |TWERA|
/// beside their raw virtual weights, and the largest virtual weights the co-activation filter
/// removed (never co-active in the corpus).
public struct GlobalWeightsSummary: Codable, Sendable {
    public struct Source: Codable, Sendable {
        public var source: String
        public var twera: Double, era: Double, virtual_weight: Double
        public var coactivation_count: Int64
    }
    public struct Target: Codable, Sendable {
        public var target: String
        public var top_sources: [Source]
        public var removed_by_filter: [Source]
    }
    public var tokens_seen: Int64
    public var targets: [Target]
    /// From `--all` (`/all`): the features whose strongest upstream |TWERA| is largest, each
    /// with its top sources and the largest V the filter removed.
    public var all_features: [Target]?

    public init(url: URL, perTarget k: Int = 5, allFeatures: Int = 20) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        typealias S = GlobalWeightsSchema
        if let all = try GlobalPartnersFile.read(f) {
            let twera = all.upstream[.twera]!, removed = all.upstream[.interference]!
            func source(_ p: Partner) -> Source {
                Source(source: all.feature(Int(p.partner)).description, twera: Double(p.twera), era: Double(p.era),
                       virtual_weight: Double(p.virtualWeight), coactivation_count: Int64(p.count))
            }
            let best = (0..<all.features).compactMap { row in twera.sorted(row: row).first.map { (row, $0.score) } }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(allFeatures)
            all_features = best.map { row, _ in
                Target(target: all.feature(row).description, top_sources: twera.sorted(row: row).prefix(k).map(source),
                       removed_by_filter: removed.sorted(row: row).prefix(k).map(source))
            }
            guard f.exists(S.targets) else {
                tokens_seen = all.tokensSeen
                targets = []
                return
            }
        }
        let t = try f.read(Int64.self, at: S.targets).values, s = try f.read(Int64.self, at: S.sources).values
        let v = try f.read(Float.self, at: S.virtualWeights).values, era = try f.read(Float.self, at: S.era).values
        let twera = try f.read(Float.self, at: S.twera).values, count = try f.read(Int64.self, at: S.coactivationCount).values
        tokens_seen = try f.attribute(S.Attribute.tokensSeen, as: Int64.self)
        let nT = t.count / 2, nS = s.count / 2
        func label(_ a: [Int64], _ i: Int) -> String { "L\(a[2 * i])/F\(a[2 * i + 1])" }
        targets = (0..<nT).map { i in
            let row = (0..<nS).map { j in
                Source(source: label(s, j), twera: Double(twera[i * nS + j]), era: Double(era[i * nS + j]),
                       virtual_weight: Double(v[i * nS + j]), coactivation_count: count[i * nS + j])
            }
            return Target(target: label(t, i),
                          top_sources: Array(row.filter { $0.twera != 0 }.sorted { abs($0.twera) > abs($1.twera) }.prefix(k)),
                          removed_by_filter: Array(row.filter { $0.coactivation_count == 0 && $0.virtual_weight != 0 }
                              .sorted { abs($0.virtual_weight) > abs($1.virtual_weight) }.prefix(k)))
        }
    }
}
