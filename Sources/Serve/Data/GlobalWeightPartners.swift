import Foundation
import Storage

/// `global_weights.h5` (docs/global-weights.md) read once: for a feature, its strongest
/// upstream partners (sources, where it is a target) and downstream partners (targets, where
/// it is a source), each ranked by |TWERA|, |ERA| and |V|.
public struct GlobalWeightPartners: Sendable {
    public struct Partner: Codable, Sendable, Equatable {
        public var feature: String
        public var twera: Float, era: Float, virtual_weight: Float
        public var coactivation_count: Int64
    }
    public struct Ranked: Codable, Sendable, Equatable {
        public var by_twera: [Partner], by_era: [Partner], by_virtual_weight: [Partner]
    }

    let targets: [FeatureID], sources: [FeatureID]
    let v: [Float], era: [Float], twera: [Float], count: [Int64]     // [nTargets, nSources], row-major
    public let tokensSeen: Int64

    public init(url: URL) throws {
        let f = try HDF5File.open(url)
        defer { f.close() }
        typealias S = GlobalWeightsSchema
        func ids(_ path: String) throws -> [FeatureID] {
            let a = try f.read(Int64.self, at: path).values
            return stride(from: 0, to: a.count - 1, by: 2).map { FeatureID(layer: Int(a[$0]), feature: Int(a[$0 + 1])) }
        }
        targets = try ids(S.targets)
        sources = try ids(S.sources)
        v = try f.read(Float.self, at: S.virtualWeights).values
        era = try f.read(Float.self, at: S.era).values
        twera = try f.read(Float.self, at: S.twera).values
        count = try f.read(Int64.self, at: S.coactivationCount).values
        tokensSeen = try f.attribute(S.Attribute.tokensSeen, as: Int64.self)
        guard [v.count, era.count, twera.count, count.count].allSatisfy({ $0 == targets.count * sources.count }) else {
            throw ServeError.unreadable("\(url.path): weight matrices are not [targets, sources] = [\(targets.count), \(sources.count)]")
        }
    }

    /// Sources of `feature` (nil when it is not a target of the file).
    public func upstream(of feature: FeatureID, top k: Int = 10) -> Ranked? {
        guard let i = targets.firstIndex(of: feature) else { return nil }
        return ranked(sources.indices.map { partner(sources[$0], i * sources.count + $0) }, k)
    }

    /// Targets of `feature` (nil when it is not a source of the file).
    public func downstream(of feature: FeatureID, top k: Int = 10) -> Ranked? {
        guard let j = sources.firstIndex(of: feature) else { return nil }
        return ranked(targets.indices.map { partner(targets[$0], $0 * sources.count + j) }, k)
    }

    private func partner(_ id: FeatureID, _ at: Int) -> Partner {
        Partner(feature: id.description, twera: twera[at], era: era[at], virtual_weight: v[at], coactivation_count: count[at])
    }

    private func ranked(_ all: [Partner], _ k: Int) -> Ranked {
        func top(_ key: (Partner) -> Float) -> [Partner] {
            Array(all.filter { key($0) != 0 }.sorted { abs(key($0)) > abs(key($1)) }.prefix(k))
        }
        return Ranked(by_twera: top(\.twera), by_era: top(\.era), by_virtual_weight: top(\.virtual_weight))
    }
}
