// Feature dashboards: the histogram bins against log2 in Float64; a random corpus (many tied
// activations) built as one task (TaskDashboards), and split into random tasks written to HDF5,
// read back and merged in random orders (FeatureDashboards), each equal to the naive Float64
// computation over the whole corpus (NaiveDashboards); the file round trip; mismatched merges
// are refused.
import Foundation
import Storage
import Testing
import TestSupport

@Suite struct FeatureDashboardsTests {
    static let parameters = DashboardParameters(topK: 5, samplesPerBin: 2, windowBefore: 3, windowAfter: 1)
    static let nLayers = 2, dT = 16

    /// A corpus of `n` prompts over 40 token ids; activations on a 1/8 grid (ties are common),
    /// spanning the under- and overflow bins; feature 3 active almost everywhere.
    static func corpus(_ n: Int, seed: UInt64) -> [NaiveDashboards.Prompt] {
        var rng = SplitMix(seed: seed)
        return (0..<n).map { k in
            let nPos = Int.random(in: 3...14, using: &rng)
            let tokens = (0..<nPos).map { _ in Int32.random(in: 0..<40, using: &rng) }
            var entries: [(feature: Int, position: Int, value: Float)] = []
            for p in 1..<nPos {
                for g in 0..<(nLayers * dT) where g == 3 || Int.random(in: 0..<5, using: &rng) == 0 {
                    let v: Float = switch Int.random(in: 0..<10, using: &rng) {
                    case 0: Float.random(in: 0.00001...0.0009, using: &rng)          // underflow bin
                    case 1: Float(Int.random(in: 1025...1100, using: &rng))          // overflow bin
                    default: Float(Int.random(in: 1...40, using: &rng)) / 8           // a tie-prone grid
                    }
                    entries.append((g, p, v))
                }
            }
            return NaiveDashboards.Prompt(ordinal: Int64(k), tokens: tokens, entries: entries)
        }
    }

    /// One task's dashboards, as a worker builds them.
    static func task(_ prompts: some Collection<NaiveDashboards.Prompt>) -> DashboardColumns {
        TaskDashboards.build(prompts.map { p in
            TaskDashboards.Prompt(ordinal: p.ordinal, tokens: p.tokens, strings: p.tokens.map { "t\($0)" },
                                  features: p.entries.map { Int32($0.feature) }, positions: p.entries.map { Int32($0.position) },
                                  values: p.entries.map(\.value))
        }, nLayers: nLayers, dTranscoder: dT, parameters: parameters)
    }

    static func accumulate(_ prompts: some Collection<NaiveDashboards.Prompt>) -> FeatureDashboards { FeatureDashboards(task(prompts)) }

    @Test func binsAreFloorOfTwiceLog2() {
        var rng = SplitMix(seed: 7)
        var values: [Float] = [0, -1, .leastNonzeroMagnitude, 1e-30, 1e30, 1, 2, 0.5, 1024, 1023.99, 0.0009765625, 0.00097656]
        for k in -24...24 { let e = Float(pow(2, Double(k) / 2)); values += [e, e.nextUp, e.nextDown] }
        for _ in 0..<20_000 { values.append(Float.random(in: 0...1, using: &rng) * pow(2, Float.random(in: -12...12, using: &rng))) }
        for v in values { #expect(ActivationHistogram.bin(v) == NaiveDashboards.bin(v), "bin of \(v)") }
        #expect(ActivationHistogram.edges.count == ActivationHistogram.binCount - 1)
    }

    @Test func onePassEqualsNaive() {
        let prompts = Self.corpus(60, seed: 1)
        let naive = NaiveDashboards(prompts, features: Self.nLayers * Self.dT, parameters: Self.parameters)
        let d = Self.accumulate(prompts)
        #expect(naive.differences(d) == [])
        #expect(d.top[3].count == 5 && d.histogram[(3 * 42)..<(4 * 42)].reduce(0, +) > 400, "feature 3 fills its top-k")
    }

    @Test(arguments: [2, 3, 4]) func splitWrittenAndMergedInAnyOrderEqualsNaive(seed: UInt64) throws {
        let prompts = Self.corpus(60, seed: seed)
        let naive = NaiveDashboards(prompts, features: Self.nLayers * Self.dT, parameters: Self.parameters)
        var rng = SplitMix(seed: seed &* 31)
        var cuts = Set((0..<6).map { _ in Int.random(in: 1..<60, using: &rng) })
        cuts.insert(60)
        var tasks: [DashboardColumns] = [], start = 0
        let folder = try ScratchFolder("dashboards-merge")
        defer { folder.remove() }
        for end in cuts.sorted() {
            let url = folder.file("task-\(start).h5")
            let f = try HDF5File.create(url)
            try FeatureDashboardsFile.write(Self.task(prompts[start..<end]), into: f)
            f.close()
            let g = try HDF5File.open(url)
            tasks.append(try #require(try FeatureDashboardsFile.readColumns(g)))
            g.close()
            start = end
        }
        tasks.shuffle(using: &rng)
        var merged = FeatureDashboards(nLayers: Self.nLayers, dTranscoder: Self.dT, parameters: Self.parameters)
        for t in tasks { try merged.add(t) }
        #expect(naive.differences(merged) == [])
        #expect(merged.tokenStrings.allSatisfy { $0.value == "t\($0.key)" })
    }

    @Test func roundTripKeepsEverything() throws {
        var d = Self.accumulate(Self.corpus(20, seed: 9))
        let n = Self.nLayers * Self.dT * 2
        d.logits = FeatureLogitTable(nLayers: Self.nLayers, dTranscoder: Self.dT, k: 2, topIDs: (0..<n).map { Int32($0 % 40) },
                                     topValues: (0..<n).map { Float($0) }, bottomIDs: (0..<n).map { Int32(39 - $0 % 40) },
                                     bottomValues: (0..<n).map { -Float($0) }, tokenStrings: Dictionary(uniqueKeysWithValues: (0..<40).map { (Int32($0), "t\($0)") }))
        let folder = try ScratchFolder("dashboards-roundtrip")
        defer { folder.remove() }
        let f = try HDF5File.create(folder.file("d.h5"))
        try FeatureDashboardsFile.write(d, into: f)
        f.close()
        let g = try HDF5File.open(folder.file("d.h5"))
        defer { g.close() }
        let r = try #require(try FeatureDashboardsFile.read(g))
        #expect(r.parameters == d.parameters && r.maxActivation == d.maxActivation && r.histogram == d.histogram)
        #expect(r.top == d.top && r.samples == d.samples && r.logits == d.logits)
        #expect(try g.attribute("d_transcoder", as: Int64.self, at: "dashboards") == Int64(Self.dT), "the documented names")
        #expect(try g.read(Int64.self, at: "dashboards/histogram_index").values.count == d.histogram.filter { $0 > 0 }.count)
    }

    @Test func mergingOtherShapesOrParametersIsRefused() {
        var d = FeatureDashboards(nLayers: 2, dTranscoder: 16, parameters: Self.parameters)
        #expect(throws: FeatureDashboards.MergeFailure.self) { try d.add(FeatureDashboards(nLayers: 2, dTranscoder: 8, parameters: Self.parameters)) }
        #expect(throws: FeatureDashboards.MergeFailure.self) { try d.add(FeatureDashboards(nLayers: 2, dTranscoder: 16)) }
    }

    @Test func featureIDsParseAsTheReportSpellsThem() {
        #expect(FeatureID(parsing: "L0/F21") == FeatureID(layer: 0, feature: 21))
        #expect(FeatureID(parsing: FeatureID(layer: 11, feature: 8191).description) == FeatureID(layer: 11, feature: 8191))
        for bad in ["L0F21", "0/21", "L-1/F2", "L0/F", "L0/F21/x", "l0/f21", ""] { #expect(FeatureID(parsing: bad) == nil, "\(bad)") }
    }
}

/// SplitMix64, seeded: the same corpus on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
