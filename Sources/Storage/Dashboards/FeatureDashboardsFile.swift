import Foundation

/// Reads and writes the `/dashboards` group of an HDF5 file (names in `DashboardSchema`, layout
/// `DashboardColumns`): the one reader and writer of that group, for shards (worker), the merge,
/// the report, `circuits features` and `circuits export` (coordinator side).
public enum FeatureDashboardsFile {
    typealias S = DashboardSchema

    public static func write(_ d: FeatureDashboards, into f: HDF5File) throws { try write(d.columns, into: f) }

    /// Creates `/dashboards` in `f` (datasets gzip level 4).
    public static func write(_ c: DashboardColumns, into f: HDF5File) throws {
        let g = S.group, z = 4
        try f.createGroup(g)
        let p = c.parameters
        for (name, value) in [(S.nLayers, c.nLayers), (S.dTranscoder, c.dTranscoder), (S.topK, p.topK), (S.samplesPerBin, p.samplesPerBin),
                              (S.windowBefore, p.windowBefore), (S.windowAfter, p.windowAfter)] {
            try f.setAttribute(name, Int64(value), at: g)
        }
        try f.write(ActivationHistogram.edges, shape: [ActivationHistogram.binCount - 1], at: "\(g)/\(S.histogramEdges)")
        func column<T: HDF5Element>(_ values: [T], _ name: String) throws { try f.write(values, shape: [values.count], at: "\(g)/\(name)", compression: z) }
        try column(c.seenFeature, S.seenFeature); try column(c.maxActivation, S.maxActivation)
        try column(c.histogramIndex, S.histogramIndex); try column(c.histogramCount, S.histogramCount)
        try column(c.exampleFeature, S.exampleFeature); try column(c.exampleGroup, S.exampleGroup)
        try column(c.exampleActivation, S.exampleActivation); try column(c.examplePrompt, S.examplePrompt)
        try column(c.examplePosition, S.examplePosition); try column(c.exampleKey, S.exampleKey)
        try column(c.windowStart, S.windowStart); try column(c.windowOffset, S.windowOffset)
        try column(c.windowToken, S.windowToken); try column(c.windowActivation, S.windowActivation)
        var vocabulary = c.vocabulary
        if let l = c.logits { vocabulary.merge(l.tokenStrings) { a, _ in a } }
        let ids = vocabulary.keys.sorted()
        try f.write(ids.map(Int64.init), shape: [ids.count], at: "\(g)/\(S.vocabularyIDs)")
        try f.writeStrings(ids.map { vocabulary[$0]! }, at: "\(g)/\(S.vocabularyStrings)")
        if let l = c.logits {
            let shape = [l.nLayers, l.dTranscoder, l.k]
            try f.write(l.topIDs, shape: shape, at: "\(g)/\(S.logitTopIDs)", compression: z)
            try f.write(l.topValues, shape: shape, at: "\(g)/\(S.logitTopValues)", compression: z)
            try f.write(l.bottomIDs, shape: shape, at: "\(g)/\(S.logitBottomIDs)", compression: z)
            try f.write(l.bottomValues, shape: shape, at: "\(g)/\(S.logitBottomValues)", compression: z)
        }
    }

    /// Whether the HDF5 file at `url` has a `/dashboards` group.
    public static func exists(in url: URL) throws -> Bool {
        let f = try HDF5File.open(url)
        defer { f.close() }
        return f.exists(S.group)
    }

    /// The dashboards of `f`, or nil when it has no `/dashboards` group.
    public static func read(_ f: HDF5File) throws -> FeatureDashboards? {
        try readColumns(f).map(FeatureDashboards.init)
    }

    /// The columns of `f`'s `/dashboards`, or nil when it has none.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and object) when a dataset or
    ///   attribute is missing; `SchemaError` naming the dataset when lengths or values disagree.
    public static func readColumns(_ f: HDF5File) throws -> DashboardColumns? {
        let g = S.group, B = ActivationHistogram.binCount
        guard f.exists(g) else { return nil }
        func attribute(_ name: String, _ range: ClosedRange<Int64>) throws -> Int {
            let v = try f.attribute(name, as: Int64.self, at: g)
            guard range.contains(v) else { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(v) is outside \(range)") }
            return Int(v)
        }
        let parameters = DashboardParameters(topK: try attribute(S.topK, 0...1_000_000), samplesPerBin: try attribute(S.samplesPerBin, 0...1_000_000),
                                             windowBefore: try attribute(S.windowBefore, 0...100_000), windowAfter: try attribute(S.windowAfter, 0...100_000))
        var c = DashboardColumns(nLayers: try attribute(S.nLayers, 1...1_000_000), dTranscoder: try attribute(S.dTranscoder, 1...1 << 31),
                                 parameters: parameters)
        func column<T: HDF5Element>(_ name: String, _ type: T.Type, count: Int? = nil) throws -> [T] {
            let v = try f.read(T.self, at: "\(g)/\(name)").values
            if let count, v.count != count { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(v.count) values, expected \(count)") }
            return v
        }
        func check(_ ok: Bool, _ name: String, _ detail: @autoclosure () -> String) throws {
            if !ok { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: detail()) }
        }
        let nF = Int64(c.nLayers * c.dTranscoder)
        c.seenFeature = try column(S.seenFeature, Int64.self)
        c.maxActivation = try column(S.maxActivation, Float.self, count: c.seenFeature.count)
        try check(c.seenFeature.allSatisfy { (0..<nF).contains($0) }, S.seenFeature, "a feature outside 0..<\(nF)")
        c.histogramIndex = try column(S.histogramIndex, Int64.self)
        c.histogramCount = try column(S.histogramCount, Int64.self, count: c.histogramIndex.count)
        try check(c.histogramIndex.allSatisfy { (0..<(nF * Int64(B))).contains($0) }, S.histogramIndex, "a cell outside 0..<\(nF * Int64(B))")
        c.exampleFeature = try column(S.exampleFeature, Int64.self)
        let n = c.exampleFeature.count
        c.exampleGroup = try column(S.exampleGroup, Int32.self, count: n)
        c.exampleActivation = try column(S.exampleActivation, Float.self, count: n)
        c.examplePrompt = try column(S.examplePrompt, Int64.self, count: n)
        c.examplePosition = try column(S.examplePosition, Int32.self, count: n)
        c.exampleKey = try column(S.exampleKey, Int64.self, count: n)
        c.windowStart = try column(S.windowStart, Int32.self, count: n)
        c.windowOffset = try column(S.windowOffset, Int64.self, count: n + 1)
        let width = Int(c.windowOffset.last ?? 0)
        c.windowToken = try column(S.windowToken, Int32.self, count: width)
        c.windowActivation = try column(S.windowActivation, Float.self, count: width)
        try check(c.exampleFeature.allSatisfy { (0..<nF).contains($0) }, S.exampleFeature, "a feature outside 0..<\(nF)")
        try check(c.exampleGroup.allSatisfy { (-1..<Int32(B)).contains($0) }, S.exampleGroup, "a group outside -1..<\(B)")
        try check(c.windowOffset.first == 0 && zip(c.windowOffset, c.windowOffset.dropFirst()).allSatisfy { $0 <= $1 }, S.windowOffset,
                  "offsets must start at 0 and never decrease")
        let ids = try column(S.vocabularyIDs, Int64.self)
        let strings = try f.readStrings(at: "\(g)/\(S.vocabularyStrings)")
        try check(strings.count == ids.count, S.vocabularyStrings, "\(strings.count) strings, expected \(ids.count)")
        for (id, s) in zip(ids, strings) { c.vocabulary[Int32(truncatingIfNeeded: id)] = s }
        if f.exists("\(g)/\(S.logitTopIDs)") {
            let top = try f.read(Int32.self, at: "\(g)/\(S.logitTopIDs)")
            try check(top.shape.count == 3 && top.shape[0] == c.nLayers && top.shape[1] == c.dTranscoder, S.logitTopIDs,
                      "shape \(top.shape), expected [\(c.nLayers), \(c.dTranscoder), k]")
            let count = top.values.count
            c.logits = FeatureLogitTable(nLayers: c.nLayers, dTranscoder: c.dTranscoder, k: top.shape[2], topIDs: top.values,
                                         topValues: try column(S.logitTopValues, Float.self, count: count),
                                         bottomIDs: try column(S.logitBottomIDs, Int32.self, count: count),
                                         bottomValues: try column(S.logitBottomValues, Float.self, count: count),
                                         tokenStrings: c.vocabulary)
        }
        return c
    }
}
