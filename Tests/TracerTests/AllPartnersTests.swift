// Whole-dictionary global weights (`AllPartners`) against a float64 computation over every
// (target, source) pair of every reference case: V, counts, ERA, TWERA and the top-k lists both
// ways; any split of the tiles into blocks and threads gives the same bits; `/all` round-trips
// through global_weights.h5 beside `--top`'s tables.
import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

@Suite struct AllPartnersTests {
    /// A case's corpus: its golden activations (one prompt), then the same prompt with values
    /// squared (a second prompt, so that sums are not proportional).
    static func store(_ run: ReferenceRun, _ tc: TranscoderSet) throws -> ActivationStore {
        try goldenActivationStore(run, nLayers: tc.nLayers, dTranscoder: tc.dTranscoder) { copy, v in copy == 0 ? v : v * v }
    }

    /// Float64 pair quantities of every (target, source) with l_s < l_t.
    struct Oracle {
        var v: [Int: [Int: Double]] = [:], era: [Int: [Int: Double]] = [:], twera: [Int: [Int: Double]] = [:]
        var count: [Int: [Int: Int]] = [:]
        func score(_ r: PartnerRanking, target t: Int, source s: Int) -> Double {
            switch r {
            case .twera: abs(twera[t]![s]!)
            case .era: abs(era[t]![s]!)
            case .interference: count[t]![s]! == 0 ? abs(v[t]![s]!) : 0
            }
        }
    }

    static func oracle(_ store: ActivationStore, _ replacement: ReplacementModel) throws -> Oracle {
        let tc = replacement.transcoders, dT = tc.dTranscoder, n = tc.nLayers * dT
        var rows: [[Int: Double]] = []
        for p in 0..<store.tokens {
            var a: [Int: Double] = [:]
            for i in store.offsets[p]..<store.offsets[p + 1] { a[Int(store.keys[i])] = Double(store.values[i]) }
            rows.append(a)
        }
        let tokens = Double(store.tokens)
        var o = Oracle()
        for t in dT..<n {
            let targetSum = rows.reduce(0) { $0 + ($1[t] ?? 0) }
            for s in 0..<((t / dT) * dT) {
                var count = 0, product = 0.0, sourceWhereActive = 0.0
                for a in rows {
                    let at = a[t] ?? 0, as_ = a[s] ?? 0
                    if at > 0 && as_ != 0 { count += 1 }
                    if at > 0 { sourceWhereActive += as_ }
                    product += as_ * at
                }
                let v = try naiveVirtualWeight(FeatureID(layer: t / dT, feature: t % dT), FeatureID(layer: s / dT, feature: s % dT),
                                               replacement: replacement)
                o.v[t, default: [:]][s] = v
                o.count[t, default: [:]][s] = count
                o.era[t, default: [:]][s] = v * sourceWhereActive / tokens
                o.twera[t, default: [:]][s] = targetSum > 0 ? v * product / targetSum : 0
            }
        }
        return o
    }

    @Test(arguments: referenceCases())
    func matchesFloat64OverAllPairs(run: ReferenceRun) throws {
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders, dT = tc.dTranscoder, k = 3
        let store = try Self.store(run, tc)
        let engine = AllPartners(topK: k, tileSize: 7, threads: 1)
        let (partners, counters) = try engine.compute(store: store, byFeature: store.byFeature(), transcoders: tc, reading: ResidualReading(replacement),
                                                      tiles: AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: dT, tileSize: 7))
        #expect(partners.tokensSeen == Int64(store.tokens))
        let o = try Self.oracle(store, replacement)
        let maxV = o.v.values.flatMap(\.values).map(abs).max() ?? 0
        #expect(maxV > 0.01, "\(run): non-trivial weights")
        // Every co-active (target, source, position) is one update.
        let expectedUpdates = o.count.values.flatMap(\.values).reduce(0, +)
        #expect(counters.pairUpdates == Int64(expectedUpdates), "\(run)")
        #expect(expectedUpdates > 0)

        var checkedEntries = 0
        for r in PartnerRanking.allCases {
            let maxScore = o.v.keys.flatMap { t in o.v[t]!.keys.map { o.score(r, target: t, source: $0) } }.max() ?? 0
            let tol = 1e-4 * max(maxScore, 1e-6)
            for up in [true, false] {
                let table = (up ? partners.upstream : partners.downstream)[r]!
                for row in 0..<(tc.nLayers * dT) {
                    // Oracle candidates of the row: (partner, score), best first.
                    let pairs: [(partner: Int, target: Int, source: Int)] = up
                        ? (o.v[row]?.keys.map { ($0, row, $0) } ?? [])
                        : o.v.keys.filter { o.v[$0]![row] != nil }.map { ($0, $0, row) }
                    let ranked = pairs.map { (p: $0.partner, t: $0.target, s: $0.source, score: o.score(r, target: $0.target, source: $0.source)) }
                        .filter { $0.score > 0 }.sorted { ($0.score, -$0.p) > ($1.score, -$1.p) }
                    let got = table.sorted(row: row)
                    let name = "\(run) \(up ? "upstream" : "downstream") \(r) of \(partners.feature(row))"
                    #expect(got.count == min(k, ranked.count), "\(name): \(got.count) entries, oracle \(ranked.count)")
                    for (i, e) in got.enumerated() where i < ranked.count {
                        #expect(abs(Double(e.score) - ranked[i].score) <= tol, "\(name) rank \(i): \(e.score) vs \(ranked[i].score)")
                        let (t, s) = up ? (row, Int(e.partner)) : (Int(e.partner), row)
                        let v = o.v[t]![s]!, era = o.era[t]![s]!, twera = o.twera[t]![s]!
                        #expect(Int(e.count) == o.count[t]![s]!, "\(name): count of \(e.partner)")
                        #expect(abs(Double(e.virtualWeight) - v) <= 1e-5 * maxV, "\(name): V of \(e.partner)")
                        #expect(abs(Double(e.era) - era) <= 1e-4 * max(1e-3, abs(era)), "\(name): ERA of \(e.partner): \(e.era) vs \(era)")
                        #expect(abs(Double(e.twera) - twera) <= 1e-4 * max(1e-3, abs(twera)), "\(name): TWERA of \(e.partner): \(e.twera) vs \(twera)")
                        checkedEntries += 1
                    }
                    // The top-k set: every oracle partner clearly above the k-th score is listed.
                    if ranked.count >= k {
                        let boundary = ranked[k - 1].score
                        for c in ranked.prefix(k) where c.score > boundary + tol {
                            #expect(got.contains { Int($0.partner) == c.p }, "\(name): oracle partner \(partners.feature(c.p)) missing")
                        }
                    }
                }
            }
        }
        #expect(checkedEntries > 100, "\(run): \(checkedEntries) entries checked")
    }

    @Test(arguments: referenceCases())
    func blocksAndThreadsGiveTheSameBits(run: ReferenceRun) throws {
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        let store = try Self.store(run, tc), byFeature = store.byFeature(), reading = ResidualReading(replacement)
        let tiles = AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: 5)
        let whole = try AllPartners(topK: 4, tileSize: 5, threads: 1)
            .compute(store: store, byFeature: byFeature, transcoders: tc, reading: reading, tiles: tiles).partners
        // Three blocks (the last one first), two threads each, merged.
        let merged = GlobalPartners(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, k: 4, tokensSeen: Int64(store.tokens))
        let cut = [0, tiles.count / 3, 2 * tiles.count / 3, tiles.count]
        for b in [2, 0, 1] {
            let block = try AllPartners(topK: 4, tileSize: 5, threads: 2)
                .compute(store: store, byFeature: byFeature, transcoders: tc, reading: reading, tiles: Array(tiles[cut[b]..<cut[b + 1]]))
            merged.absorb(block.partners)
        }
        var entries = 0
        for r in PartnerRanking.allCases {
            for row in 0..<merged.features {
                #expect(merged.upstream[r]!.sorted(row: row) == whole.upstream[r]!.sorted(row: row), "\(run) upstream \(r) row \(row)")
                #expect(merged.downstream[r]!.sorted(row: row) == whole.downstream[r]!.sorted(row: row), "\(run) downstream \(r) row \(row)")
                entries += whole.upstream[r]!.sorted(row: row).count
            }
        }
        #expect(entries > 0)
    }

    @Test func partnersRoundTripBesideTheTopTables() throws {
        let run = try firstReferenceRun()
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        let store = try Self.store(run, tc)
        let partners = try AllPartners(topK: 2, tileSize: 16, threads: 1)
            .compute(store: store, byFeature: store.byFeature(), transcoders: tc, reading: ResidualReading(replacement),
                     tiles: AllPartners.tiles(nLayers: tc.nLayers, dTranscoder: tc.dTranscoder, tileSize: 16)).partners
        let folder = try ScratchFolder("all-partners")
        defer { folder.remove() }
        let url = folder.file("global_weights.h5")
        // `--top`'s table first, then `--all`, then `--top` again: both stay.
        var pairs = CoactivationStatistics(targets: [FeatureID(layer: 1, feature: 0)], dTranscoder: tc.dTranscoder)
        pairs.add(features: [], values: [])
        let table = try GlobalWeightsTable(pairs: pairs, sumActivation: [Double](repeating: 1, count: store.features), tokensSeen: 1,
                                           transcoders: tc, reading: ResidualReading(replacement), extraSources: 2)
        try table.write(to: url, transcoderFolder: "tc")
        try GlobalPartnersFile.write(partners, to: url, transcoderFolder: "tc")
        try table.write(to: url, transcoderFolder: "tc")
        let f = try HDF5File.open(url)
        defer { f.close() }
        #expect(try f.read(Float.self, at: GlobalWeightsSchema.virtualWeights).values == table.virtualWeights)
        let back = try #require(try GlobalPartnersFile.read(f))
        #expect(back.k == 2 && back.tokensSeen == partners.tokensSeen)
        #expect(try f.shape(of: "all/upstream/twera/partner") == [store.features, 2, 2])
        var entries = 0
        for r in PartnerRanking.allCases {
            for row in 0..<partners.features {
                #expect(back.upstream[r]!.sorted(row: row) == partners.upstream[r]!.sorted(row: row))
                #expect(back.downstream[r]!.sorted(row: row) == partners.downstream[r]!.sorted(row: row))
                entries += partners.downstream[r]!.sorted(row: row).count
            }
        }
        #expect(entries > 0)
    }

    @Test func storeRejectsKeysOutOfOrder() {
        #expect(throws: SchemaError.self) {
            try ActivationStore(nLayers: 2, dTranscoder: 4, offsets: [0, 2], keys: [3, 1], values: [1, 1], file: "f", object: "o")
        }
        #expect(throws: SchemaError.self) {
            try ActivationStore(nLayers: 2, dTranscoder: 4, offsets: [0, 1], keys: [8], values: [1], file: "f", object: "o")
        }
    }
}
