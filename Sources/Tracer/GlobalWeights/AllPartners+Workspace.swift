import Foundation
import Storage

extension AllPartners {
    /// One thread's buffers (allocated once, reused for every tile) and its downstream lists.
    final class Workspace: @unchecked Sendable {
        let tc: TranscoderSet
        /// `[tileSize, dModel]`: effective encoders of the tile's targets.
        var encoders: [Float]
        /// `[tileSize, (nLayers − 1) · dTranscoder]`: V of the tile (row stride: the tile layer's sources).
        var v: [Float]
        /// `[(nLayers − 1) · dTranscoder, 3]`: one target's accumulators over its sources,
        /// interleaved (Σ a_s·a_t, Σ a_s, count) so that an update touches one cache line.
        var sums: [Double]
        let downstream: [PartnerRanking: PartnerTable]
        var counters = Counters()

        init(tc: TranscoderSet, tileSize: Int, k: Int) {
            self.tc = tc
            let sources = max(0, tc.nLayers - 1) * tc.dTranscoder
            encoders = [Float](repeating: 0, count: tileSize * tc.dModel)
            v = [Float](repeating: 0, count: tileSize * sources)
            sums = [Double](repeating: 0, count: 3 * sources)
            downstream = Dictionary(uniqueKeysWithValues: PartnerRanking.allCases.map {
                ($0, PartnerTable(features: tc.nLayers * tc.dTranscoder, k: k))
            })
        }

        /// V, statistics and partner offers of one tile's targets.
        func run(_ tile: Tile, store: ActivationStore, byFeature: ActivationStore.ByFeature, cumulative: CumulativeDecoders,
                 reading: ResidualReading, upstream: [PartnerRanking: PartnerTable], dModel d: Int) {
            let dT = tc.dTranscoder, lt = tile.layer, nS = lt * dT, nT = tile.features.count
            var clock = ContinuousClock.now
            for (i, f) in tile.features.enumerated() {
                encoders.replaceSubrange((i * d)..<((i + 1) * d), with: reading.effectiveEncoder(tc, layer: lt, feature: f))
            }
            encoders.withUnsafeBufferPointer { e in
                cumulative.rows.withUnsafeBufferPointer { c in
                    v.withUnsafeMutableBufferPointer { out in
                        // V[nT, nS] = Ŵ_enc[nT, d] · Cum[nS, d]ᵀ
                        gemm(out.baseAddress!, ldc: nS, e.baseAddress!, lda: d, c.baseAddress!, ldb: d, transB: true, m: nT, n: nS, k: d)
                    }
                }
            }
            counters.gemmSeconds += (ContinuousClock.now - clock).seconds
            counters.flop += 2 * Double(nT * nS * d)
            clock = ContinuousClock.now
            let tokens = Double(max(1, store.tokens))
            let upTwera = upstream[.twera]!, upEra = upstream[.era]!, upInterference = upstream[.interference]!
            let downTwera = downstream[.twera]!, downEra = downstream[.era]!, downInterference = downstream[.interference]!
            var updates: Int64 = 0
            store.offsets.withUnsafeBufferPointer { rowStart in
            store.keys.withUnsafeBufferPointer { keys in
            store.values.withUnsafeBufferPointer { values in
            byFeature.offsets.withUnsafeBufferPointer { colStart in
            byFeature.positions.withUnsafeBufferPointer { positions in
            byFeature.values.withUnsafeBufferPointer { colValues in
            v.withUnsafeBufferPointer { vTile in
            sums.withUnsafeMutableBufferPointer { sums in
                let limit = Int32(nS)
                for (i, f) in tile.features.enumerated() {
                    let t = lt * dT + f
                    // Accumulate: every position where t is active, every source active there below lt.
                    var targetSum = 0.0
                    for j in colStart[t]..<colStart[t + 1] {
                        let at = colValues[j]
                        targetSum += Double(at)
                        guard at > 0 else { continue }
                        let p = Int(positions[j]), atD = Double(at)
                        var e = rowStart[p]
                        let end = rowStart[p + 1]
                        while e < end && keys[e] < limit {
                            let s = 3 * Int(keys[e]), a = Double(values[e])
                            sums[s] += a * atD
                            sums[s + 1] += a
                            sums[s + 2] += 1
                            e += 1
                        }
                        updates &+= Int64(e - rowStart[p])
                    }
                    // Scan: offer every pair, zero the accumulators.
                    let vRow = vTile.baseAddress! + i * nS, target = Int32(t)
                    for s in 0..<nS {
                        let vs = vRow[s], c = sums[3 * s + 2]
                        if c > 0 {
                            let vd = Double(vs)
                            let era = Float(vd * sums[3 * s + 1] / tokens)
                            let twera = targetSum > 0 ? Float(vd * sums[3 * s] / targetSum) : 0
                            var p = Partner(partner: Int32(s), virtualWeight: vs, era: era, twera: twera, count: Int32(c), score: abs(twera))
                            upTwera.offer(p, row: t)
                            p.partner = target; downTwera.offer(p, row: s)
                            p.score = abs(era)
                            downEra.offer(p, row: s)
                            p.partner = Int32(s); upEra.offer(p, row: t)
                            sums[3 * s] = 0; sums[3 * s + 1] = 0; sums[3 * s + 2] = 0
                        } else if vs != 0 {
                            var p = Partner(partner: Int32(s), virtualWeight: vs, era: 0, twera: 0, count: 0, score: abs(vs))
                            upInterference.offer(p, row: t)
                            p.partner = target; downInterference.offer(p, row: s)
                        }
                    }
                }
            }}}}}}}}
            counters.pairUpdates += updates
            counters.statisticsSeconds += (ContinuousClock.now - clock).seconds
        }
    }
}
