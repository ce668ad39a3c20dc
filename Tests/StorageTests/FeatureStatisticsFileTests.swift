// FeatureStatisticsFile: `/stats/features` written and read back; absent group → nil; a missing
// dataset or attribute names the file and object; disagreeing shapes are a SchemaError.
import Foundation
import Storage
import Testing

@Suite struct FeatureStatisticsFileTests {
    static func sample() -> FeatureStatistics {
        var s = FeatureStatistics(nLayers: 2, dTranscoder: 3)
        s.tokensSeen = 5
        for (layer, feature, value) in [(0, 1, Float(0.5)), (1, 2, 2), (0, 1, 1.5), (1, 0, 0.25)] {
            s.add(layer: layer, feature: feature, value: value)
        }
        return s
    }

    @Test func accumulates() {
        let s = Self.sample()
        #expect(s.activeCount == [0, 2, 0, 1, 0, 1])
        #expect(s.sumActivation == [0, 2, 0, 0.25, 0, 2])
        #expect(s.sumSqActivation == [0, 2.5, 0, 0.0625, 0, 4])
    }

    @Test func roundTrip() throws {
        let s = Self.sample()
        let read = try writeThenRead("feature-stats", write: { try FeatureStatisticsFile.write(s, into: $0) }, read: { f in
            #expect(try f.read(Int64.self, at: "stats/features/active_count").shape == [2, 3], "the documented name and shape")
            #expect(try f.attribute("tokens_seen", as: Int64.self, at: "stats/features") == 5)
            return try FeatureStatisticsFile.read(f)
        })
        #expect(read == s)
    }

    @Test func noGroupReadsAsNil() throws {
        #expect(try writeThenRead("feature-stats-none", write: { try $0.createGroup(ShardSchema.stats) }, read: FeatureStatisticsFile.read) == nil)
    }

    /// Each dataset and the attribute left out in turn.
    @Test(arguments: [FeatureStatisticsSchema.activeCount, FeatureStatisticsSchema.sumActivation,
                      FeatureStatisticsSchema.sumSqActivation, FeatureStatisticsSchema.tokensSeen])
    func aMissingObjectNamesTheFileAndObject(missing: String) throws {
        let s = Self.sample(), g = FeatureStatisticsSchema.group
        try writeThenRead("feature-stats-missing", write: { f in
            try f.createGroup(g)
            if missing != FeatureStatisticsSchema.tokensSeen { try f.setAttribute(FeatureStatisticsSchema.tokensSeen, s.tokensSeen, at: g) }
            for (name, values) in [(FeatureStatisticsSchema.sumActivation, s.sumActivation), (FeatureStatisticsSchema.sumSqActivation, s.sumSqActivation)]
            where name != missing {
                try f.write(values, shape: s.shape, at: "\(g)/\(name)")
            }
            if missing != FeatureStatisticsSchema.activeCount { try f.write(s.activeCount, shape: s.shape, at: "\(g)/\(FeatureStatisticsSchema.activeCount)") }
        }, read: { f in
            let object = missing == FeatureStatisticsSchema.tokensSeen ? "/\(g)@\(missing)" : "/\(g)/\(missing)"
            expectNotFound(object, in: f) { _ = try FeatureStatisticsFile.read(f) }
        })
    }

    @Test func disagreeingShapesAreASchemaError() throws {
        // A sum_sq_activation of another shape than active_count.
        try writeThenRead("feature-stats-shape", write: { f in
            let g = FeatureStatisticsSchema.group
            try f.createGroup(g)
            try f.setAttribute(FeatureStatisticsSchema.tokensSeen, Int64(1), at: g)
            try f.write([Int64](repeating: 0, count: 6), shape: [2, 3], at: "\(g)/\(FeatureStatisticsSchema.activeCount)")
            try f.write([Double](repeating: 0, count: 6), shape: [2, 3], at: "\(g)/\(FeatureStatisticsSchema.sumActivation)")
            try f.write([Double](repeating: 0, count: 6), shape: [3, 2], at: "\(g)/\(FeatureStatisticsSchema.sumSqActivation)")
        }, read: { f in
            expectSchemaError("stats/features/sum_sq_activation", in: f) { _ = try FeatureStatisticsFile.read(f) }
        })
    }
}
