import Foundation
import Storage
import Testing
import TestSupport
@testable import Serve

/// The viewer's partners from a `global_weights.h5` that has only the whole dictionary's lists
/// (`circuits global-weights OUT --all`).
struct GlobalWeightPartnersTests {
    @Test func partnersComeFromTheAllGroupWithoutTopTables() throws {
        let folder = try ScratchFolder("gw-all")
        defer { folder.remove() }
        // 2 layers × 4 features, k = 2; L1/F3's sources: L0/F1 (TWERA −0.5), L0/F2 (0.25), and
        // L0/F0 never co-active with V 0.9 (interference).
        let p = GlobalPartners(nLayers: 2, dTranscoder: 4, k: 2, tokensSeen: 77)
        let target = p.key(FeatureID(layer: 1, feature: 3))
        func partner(_ f: Int, v: Float, era: Float, twera: Float, count: Int32, score: Float) -> Partner {
            Partner(partner: Int32(f), virtualWeight: v, era: era, twera: twera, count: count, score: score)
        }
        p.upstream[.twera]!.offer(partner(1, v: 0.6, era: -0.4, twera: -0.5, count: 9, score: 0.5), row: target)
        p.upstream[.twera]!.offer(partner(2, v: 0.3, era: 0.35, twera: 0.25, count: 4, score: 0.25), row: target)
        p.upstream[.era]!.offer(partner(1, v: 0.6, era: -0.4, twera: -0.5, count: 9, score: 0.4), row: target)
        p.upstream[.era]!.offer(partner(2, v: 0.3, era: 0.35, twera: 0.25, count: 4, score: 0.35), row: target)
        p.upstream[.interference]!.offer(partner(0, v: 0.9, era: 0, twera: 0, count: 0, score: 0.9), row: target)
        p.downstream[.twera]!.offer(partner(target, v: 0.6, era: -0.4, twera: -0.5, count: 9, score: 0.5), row: 1)
        let url = folder.file("global_weights.h5")
        try GlobalPartnersFile.write(p, to: url, transcoderFolder: "clt")

        let gw = try GlobalWeightPartners(url: url)
        #expect(gw.tokensSeen == 77)
        let up = try #require(gw.upstream(of: FeatureID(layer: 1, feature: 3)))
        #expect(up.by_twera.map(\.feature) == ["L0/F1", "L0/F2"] && up.by_twera.map(\.twera) == [-0.5, 0.25])
        #expect(up.by_era.map(\.feature) == ["L0/F1", "L0/F2"] && up.by_era[0].coactivation_count == 9)
        #expect(up.removed_by_filter?.map(\.feature) == ["L0/F0"])
        #expect(up.by_virtual_weight.map(\.feature) == ["L0/F0", "L0/F1", "L0/F2"])
        let down = try #require(gw.downstream(of: FeatureID(layer: 0, feature: 1)))
        #expect(down.by_twera.map(\.feature) == ["L1/F3"] && down.removed_by_filter == [])
        #expect(gw.upstream(of: FeatureID(layer: 0, feature: 0))?.by_twera.isEmpty == true)
        #expect(gw.upstream(of: FeatureID(layer: 5, feature: 0)) == nil)
    }

    @Test func aFileWithNeitherTablesNorListsIsNamed() throws {
        let folder = try ScratchFolder("gw-empty")
        defer { folder.remove() }
        let url = folder.file("global_weights.h5")
        let f = try HDF5File.create(url)
        f.close()
        #expect { try GlobalWeightPartners(url: url) } throws: { "\($0)".contains("global_weights.h5") && "\($0)".contains("/all") }
    }
}
