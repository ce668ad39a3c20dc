import Foundation
import Storage

/// `global_weights.h5` (docs/global-weights.md) read once: for a feature, its strongest
/// upstream partners (sources, where it is a target) and downstream partners (targets, where
/// it is a source), each ranked by |TWERA|, |ERA| and |V|: from the `--top` tables where the
/// feature is in them, else from the whole dictionary's partner lists (`/all`, `--all`), which
/// also name the largest-|V| partners the co-activation filter removed.
public struct GlobalWeightPartners: Sendable {
    public struct Partner: Codable, Sendable, Equatable {
        public var feature: String
        public var twera: Float, era: Float, virtual_weight: Float
        public var coactivation_count: Int64
    }
    public struct Ranked: Codable, Sendable, Equatable {
        public var by_twera: [Partner], by_era: [Partner], by_virtual_weight: [Partner]
        /// `/all` only: the largest-|V| partners that never co-activate (removed by the filter).
        public var removed_by_filter: [Partner]?
    }

    /// The `--top` tables: `[nTargets, nSources]`, row-major.
    struct Tables: Sendable {
        let targets: [FeatureID], sources: [FeatureID]
        let v: [Float], era: [Float], twera: [Float], count: [Int64]
    }
    let tables: Tables?
    /// The `/all` partner lists.
    let all: GlobalPartners?
    public let tokensSeen: Int64

    public init(url: URL) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        typealias S = GlobalWeightsSchema
        all = try GlobalPartnersFile.read(f)
        if f.exists(S.targets) {
            func ids(_ path: String) throws -> [FeatureID] {
                let a = try f.read(Int64.self, at: path).values
                return stride(from: 0, to: a.count - 1, by: 2).map { FeatureID(layer: Int(a[$0]), feature: Int(a[$0 + 1])) }
            }
            let t = Tables(targets: try ids(S.targets), sources: try ids(S.sources), v: try f.read(Float.self, at: S.virtualWeights).values,
                           era: try f.read(Float.self, at: S.era).values, twera: try f.read(Float.self, at: S.twera).values,
                           count: try f.read(Int64.self, at: S.coactivationCount).values)
            guard [t.v.count, t.era.count, t.twera.count, t.count.count].allSatisfy({ $0 == t.targets.count * t.sources.count }) else {
                throw ServeError.unreadable("\(url.path): weight matrices are not [targets, sources] = [\(t.targets.count), \(t.sources.count)]")
            }
            tables = t
            tokensSeen = try f.attribute(S.Attribute.tokensSeen, as: Int64.self)
        } else if let all {
            tables = nil
            tokensSeen = all.tokensSeen
        } else {
            throw ServeError.unreadable("\(url.path): neither `--top` tables (\(S.targets)) nor the `/\(GlobalPartnersFile.group)` partner lists")
        }
    }

    /// Sources of `feature` (nil when it is not a target of the file).
    public func upstream(of feature: FeatureID, top k: Int = 10) -> Ranked? {
        if let t = tables, let i = t.targets.firstIndex(of: feature) {
            return ranked(t.sources.indices.map { partner(t.sources[$0], t, i * t.sources.count + $0) }, k)
        }
        return listed(all?.upstream, feature, k)
    }

    /// Targets of `feature` (nil when it is not a source of the file).
    public func downstream(of feature: FeatureID, top k: Int = 10) -> Ranked? {
        if let t = tables, let j = t.sources.firstIndex(of: feature) {
            return ranked(t.targets.indices.map { partner(t.targets[$0], t, $0 * t.sources.count + j) }, k)
        }
        return listed(all?.downstream, feature, k)
    }

    private func partner(_ id: FeatureID, _ t: Tables, _ at: Int) -> Partner {
        Partner(feature: id.description, twera: t.twera[at], era: t.era[at], virtual_weight: t.v[at], coactivation_count: t.count[at])
    }

    private func ranked(_ all: [Partner], _ k: Int) -> Ranked {
        func top(_ key: (Partner) -> Float) -> [Partner] {
            Array(all.filter { key($0) != 0 }.sorted { abs(key($0)) > abs(key($1)) }.prefix(k))
        }
        return Ranked(by_twera: top(\.twera), by_era: top(\.era), by_virtual_weight: top(\.virtual_weight), removed_by_filter: nil)
    }

    /// `feature`'s row of one direction of `/all` (nil without `/all` or outside its transcoders).
    private func listed(_ lists: [PartnerRanking: PartnerTable]?, _ feature: FeatureID, _ k: Int) -> Ranked? {
        guard let all, let lists, (0..<all.nLayers).contains(feature.layer), (0..<all.dTranscoder).contains(feature.feature) else { return nil }
        func row(_ r: PartnerRanking) -> [Partner] {
            lists[r]!.sorted(row: all.key(feature)).prefix(k).map {
                Partner(feature: all.feature(Int($0.partner)).description, twera: $0.twera, era: $0.era, virtual_weight: $0.virtualWeight,
                        coactivation_count: Int64($0.count))
            }
        }
        let byV = (row(.twera) + row(.interference)).sorted { abs($0.virtual_weight) > abs($1.virtual_weight) }
        return Ranked(by_twera: row(.twera), by_era: row(.era), by_virtual_weight: Array(byV.prefix(k)), removed_by_filter: row(.interference))
    }
}
