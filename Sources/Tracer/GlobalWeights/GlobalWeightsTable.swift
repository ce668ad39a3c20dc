import Foundation
import Storage

/// Global weights of a target set: virtual weights filtered by corpus co-activation.
///
/// With expectations over every non-BOS token position of the corpus (`tokensSeen`), inactive
/// features counting as 0:
/// - `ERA[t, s]   = V[t, s] · E[a_s · 1(a_t > 0)]` (expected residual attribution),
/// - `TWERA[t, s] = V[t, s] · E[a_s · a_t] / E[a_t]` (target-weighted).
/// Pairs never active together get 0: the filter that removes interference weights.
///
/// Sources: every feature that co-activates with a target, plus each target's `extraSources`
/// largest |V| among all earlier-layer features (so the table shows which large weights the
/// filter removed). Matrices are `[targets.count, sources.count]` row-major.
public struct GlobalWeightsTable: Sendable {
    public var targets: [FeatureID]
    public var sources: [FeatureID]
    public var virtualWeights: [Float]
    public var era: [Float]
    public var twera: [Float]
    public var coactivationCount: [Int64]
    public var pairSumProduct: [Double]
    public var pairSumSourceWhereTargetActive: [Double]
    /// `Σ a_s / tokensSeen` per source. `[nSources]`
    public var sourceMeanActivation: [Double]
    /// `Σ a_t` per target. `[nTargets]`
    public var targetSumActivation: [Double]
    public var tokensSeen: Int64

    /// - Parameters:
    ///   - pairs: the corpus's pair statistics (their targets are this table's targets).
    ///   - sumActivation: Σ activation per feature, `[nLayers · dTranscoder]`.
    public init(pairs: CoactivationStatistics, sumActivation: [Double], tokensSeen: Int64, transcoders tc: TranscoderSet,
                reading: ResidualReading, extraSources: Int = 10) throws {
        let dT = tc.dTranscoder
        let targets = pairs.targets
        self.targets = targets
        self.tokensSeen = tokensSeen
        // Sources: co-active ones, then the strongest |V| of all earlier-layer features.
        let all = VirtualWeights.allSources(below: targets, transcoders: tc)
        let full = try VirtualWeights.compute(targets: targets, sources: all, transcoders: tc, reading: reading)
        var chosen = Set(pairs.pairs.keys.map { FeatureID(layer: $0.source / dT, feature: $0.source % dT) })
        if extraSources > 0, !all.isEmpty {
            for i in targets.indices {
                let row = full[(i * all.count)..<((i + 1) * all.count)]
                let top = row.indices.filter { all[$0 - i * all.count].layer < targets[i].layer }
                    .sorted { abs(row[$0]) > abs(row[$1]) }.prefix(extraSources)
                for j in top { chosen.insert(all[j - i * all.count]) }
            }
        }
        let sources = chosen.sorted()
        self.sources = sources
        let nT = targets.count, nS = sources.count
        let column = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($0.element, $0.offset) })
        virtualWeights = [Float](repeating: 0, count: nT * nS)
        for i in 0..<nT { for (j, s) in sources.enumerated() { virtualWeights[i * nS + j] = full[i * all.count + column[s]!] } }

        coactivationCount = [Int64](repeating: 0, count: nT * nS)
        pairSumProduct = [Double](repeating: 0, count: nT * nS)
        pairSumSourceWhereTargetActive = [Double](repeating: 0, count: nT * nS)
        let sourceColumn = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($0.element.layer * dT + $0.element.feature, $0.offset) })
        for (pair, sums) in pairs.pairs {
            let k = pair.target * nS + sourceColumn[pair.source]!
            coactivationCount[k] = sums.count
            pairSumProduct[k] = sums.sumProduct
            pairSumSourceWhereTargetActive[k] = sums.sumSource
        }
        let tokens = Double(max(1, tokensSeen))
        let targetSumActivation = targets.map { sumActivation[$0.layer * dT + $0.feature] }
        self.targetSumActivation = targetSumActivation
        sourceMeanActivation = sources.map { sumActivation[$0.layer * dT + $0.feature] / tokens }
        era = [Float](repeating: 0, count: nT * nS)
        twera = [Float](repeating: 0, count: nT * nS)
        for i in 0..<nT {
            for j in 0..<nS {
                let k = i * nS + j, v = Double(virtualWeights[k])
                era[k] = Float(v * pairSumSourceWhereTargetActive[k] / tokens)
                twera[k] = targetSumActivation[i] > 0 ? Float(v * pairSumProduct[k] / targetSumActivation[i]) : 0
            }
        }
    }

    /// Writes `global_weights.h5` (names in `GlobalWeightsSchema`), through a temporary file
    /// renamed over `url` on success (`GlobalWeightsFile.update`: `--all`'s `/all` group stays).
    public func write(to url: URL, transcoderFolder: String) throws {
        typealias S = GlobalWeightsSchema
        try GlobalWeightsFile.update(url, removing: { try $0.children().filter { $0 != GlobalPartnersFile.group } }) { f in
            let nT = targets.count, nS = sources.count
            func z(_ n: Int) -> Int? { n > 1024 ? 4 : nil }
            try f.write(targets.flatMap { [Int64($0.layer), Int64($0.feature)] }, shape: [nT, 2], at: S.targets)
            try f.write(sources.flatMap { [Int64($0.layer), Int64($0.feature)] }, shape: [nS, 2], at: S.sources)
            try f.write(virtualWeights, shape: [nT, nS], at: S.virtualWeights, compression: z(nT * nS))
            try f.write(era, shape: [nT, nS], at: S.era, compression: z(nT * nS))
            try f.write(twera, shape: [nT, nS], at: S.twera, compression: z(nT * nS))
            try f.write(coactivationCount, shape: [nT, nS], at: S.coactivationCount, compression: z(nT * nS))
            try f.write(pairSumProduct, shape: [nT, nS], at: S.pairSumProduct, compression: z(nT * nS))
            try f.write(pairSumSourceWhereTargetActive, shape: [nT, nS], at: S.pairSumSourceWhereTargetActive, compression: z(nT * nS))
            try f.write(sourceMeanActivation, shape: [nS], at: S.sourceMeanActivation)
            try f.write(targetSumActivation, shape: [nT], at: S.targetSumActivation)
            try f.setAttribute(S.Attribute.tokensSeen, tokensSeen)
            try f.setAttribute(S.Attribute.transcoders, transcoderFolder)
            try f.setAttribute(S.Attribute.convention, "V = decoder · effective encoder through the residual stream, norm scales 1; ERA = V·E[a_s·1(a_t>0)]; TWERA = V·E[a_s·a_t]/E[a_t]")
        }
    }

    /// One ranked pair of the prefilter.
    public struct PrefilterPair: Codable, Sendable {
        public var source: FeatureID, target: FeatureID
        public var twera: Float, era: Float, virtual_weight: Float
        public var coactivation_count: Int64
    }
    /// `prefilter.json`: the pairs with |TWERA| ≥ threshold (strongest first) and the features
    /// they involve, which `circuits trace --prefilter` forces into a local graph.
    public struct Prefilter: Codable, Sendable {
        public var transcoders: String
        public var threshold: Float
        public var pairs: [PrefilterPair]
        public var features: [FeatureID]
    }

    public func prefilter(threshold: Float, limit: Int, transcoderFolder: String) -> Prefilter {
        let nS = sources.count
        var pairs: [PrefilterPair] = []
        for i in targets.indices {
            for j in sources.indices where abs(twera[i * nS + j]) >= threshold && twera[i * nS + j] != 0 {
                let k = i * nS + j
                pairs.append(PrefilterPair(source: sources[j], target: targets[i], twera: twera[k], era: era[k],
                                           virtual_weight: virtualWeights[k], coactivation_count: coactivationCount[k]))
            }
        }
        pairs.sort { abs($0.twera) > abs($1.twera) }
        pairs = Array(pairs.prefix(limit))
        let features = Set(pairs.flatMap { [$0.source, $0.target] }).sorted()
        return Prefilter(transcoders: transcoderFolder, threshold: threshold, pairs: pairs, features: features)
    }
}
