import Foundation

/// Reads and writes `FeatureDashboards` as the `/dashboards` group of an HDF5 file (names in
/// `DashboardSchema`): the one reader and writer of that group, for shards (worker), the merge,
/// the report, `circuits features` and `circuits export` (coordinator side).
public enum FeatureDashboardsFile {
    typealias S = DashboardSchema

    /// Creates `/dashboards` in `f` (datasets gzip level 4).
    public static func write(_ d: FeatureDashboards, into f: HDF5File) throws {
        let g = S.group, B = ActivationHistogram.binCount
        try f.createGroup(g)
        let p = d.parameters
        try f.setAttribute(S.topK, Int64(p.topK), at: g)
        try f.setAttribute(S.samplesPerBin, Int64(p.samplesPerBin), at: g)
        try f.setAttribute(S.windowBefore, Int64(p.windowBefore), at: g)
        try f.setAttribute(S.windowAfter, Int64(p.windowAfter), at: g)
        let shape = [d.nLayers, d.dTranscoder]
        try f.write(d.maxActivation, shape: shape, at: "\(g)/\(S.maxActivation)", compression: 4)
        try f.write(d.histogram, shape: shape + [B], at: "\(g)/\(S.histogram)", compression: 4)
        try f.write(ActivationHistogram.edges, shape: [B - 1], at: "\(g)/\(S.histogramEdges)")

        var feature: [Int64] = [], group: [Int32] = [], activation: [Float] = [], prompt: [Int64] = [], position: [Int32] = []
        var key: [Int64] = [], start: [Int32] = [], offset: [Int64] = [0], token: [Int32] = [], act: [Float] = []
        func append(_ g: Int, _ b: Int, _ e: DashboardExample) {
            feature.append(Int64(g)); group.append(Int32(b)); activation.append(e.activation); prompt.append(e.prompt)
            position.append(e.position); key.append(Int64(bitPattern: e.key)); start.append(e.windowStart)
            token += e.tokens; act += e.activations; offset.append(Int64(token.count))
        }
        for g in 0..<d.featureCount {
            for e in d.top[g] { append(g, -1, e) }
            for (b, e) in d.samples(of: g) { append(g, b, e) }
        }
        let n = feature.count, z = 4
        try f.write(feature, shape: [n], at: "\(g)/\(S.exampleFeature)", compression: z)
        try f.write(group, shape: [n], at: "\(g)/\(S.exampleGroup)", compression: z)
        try f.write(activation, shape: [n], at: "\(g)/\(S.exampleActivation)", compression: z)
        try f.write(prompt, shape: [n], at: "\(g)/\(S.examplePrompt)", compression: z)
        try f.write(position, shape: [n], at: "\(g)/\(S.examplePosition)", compression: z)
        try f.write(key, shape: [n], at: "\(g)/\(S.exampleKey)", compression: z)
        try f.write(start, shape: [n], at: "\(g)/\(S.windowStart)", compression: z)
        try f.write(offset, shape: [n + 1], at: "\(g)/\(S.windowOffset)", compression: z)
        try f.write(token, shape: [token.count], at: "\(g)/\(S.windowToken)", compression: z)
        try f.write(act, shape: [act.count], at: "\(g)/\(S.windowActivation)", compression: z)

        var vocabulary = d.tokenStrings
        if let l = d.logits { vocabulary.merge(l.tokenStrings) { a, _ in a } }
        let ids = vocabulary.keys.sorted()
        try f.write(ids.map(Int64.init), shape: [ids.count], at: "\(g)/\(S.vocabularyIDs)")
        try f.writeStrings(ids.map { vocabulary[$0]! }, at: "\(g)/\(S.vocabularyStrings)")
        if let l = d.logits {
            let lshape = [l.nLayers, l.dTranscoder, l.k]
            try f.write(l.topIDs, shape: lshape, at: "\(g)/\(S.logitTopIDs)", compression: z)
            try f.write(l.topValues, shape: lshape, at: "\(g)/\(S.logitTopValues)", compression: z)
            try f.write(l.bottomIDs, shape: lshape, at: "\(g)/\(S.logitBottomIDs)", compression: z)
            try f.write(l.bottomValues, shape: lshape, at: "\(g)/\(S.logitBottomValues)", compression: z)
        }
    }

    /// Whether the HDF5 file at `url` has a `/dashboards` group.
    public static func exists(in url: URL) throws -> Bool {
        let f = try HDF5File.open(url)
        defer { f.close() }
        return f.exists(S.group)
    }

    /// The dashboards of `f`, or nil when it has no `/dashboards` group.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and object) when a dataset or
    ///   attribute is missing; `SchemaError` naming the dataset when shapes or values disagree.
    public static func read(_ f: HDF5File) throws -> FeatureDashboards? {
        let g = S.group, B = ActivationHistogram.binCount
        guard f.exists(g) else { return nil }
        func attribute(_ name: String) throws -> Int {
            let v = try f.attribute(name, as: Int64.self, at: g)
            guard v >= 0, v < 1 << 20 else { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(v) is out of range") }
            return Int(v)
        }
        let parameters = DashboardParameters(topK: try attribute(S.topK), samplesPerBin: try attribute(S.samplesPerBin),
                                             windowBefore: try attribute(S.windowBefore), windowAfter: try attribute(S.windowAfter))
        let maxA = try f.read(Float.self, at: "\(g)/\(S.maxActivation)")
        guard maxA.shape.count == 2 else { throw SchemaError(file: f.path, object: "\(g)/\(S.maxActivation)", detail: "shape \(maxA.shape), expected [nLayers, dTranscoder]") }
        let nLayers = maxA.shape[0], dT = maxA.shape[1], nF = nLayers * dT
        let hist = try f.read(Int64.self, at: "\(g)/\(S.histogram)")
        guard hist.shape == [nLayers, dT, B] else { throw SchemaError(file: f.path, object: "\(g)/\(S.histogram)", detail: "shape \(hist.shape), expected \([nLayers, dT, B])") }

        let feature = try f.read(Int64.self, at: "\(g)/\(S.exampleFeature)").values
        let n = feature.count
        func column<T: HDF5Element>(_ name: String, _ type: T.Type, count: Int = n) throws -> [T] {
            let v = try f.read(T.self, at: "\(g)/\(name)").values
            guard v.count == count else { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(v.count) values, expected \(count)") }
            return v
        }
        let group = try column(S.exampleGroup, Int32.self), activation = try column(S.exampleActivation, Float.self)
        let prompt = try column(S.examplePrompt, Int64.self), position = try column(S.examplePosition, Int32.self)
        let key = try column(S.exampleKey, Int64.self), start = try column(S.windowStart, Int32.self)
        let offset = try column(S.windowOffset, Int64.self, count: n + 1)
        let width = Int(offset.last ?? 0)
        let token = try column(S.windowToken, Int32.self, count: width), act = try column(S.windowActivation, Float.self, count: width)
        var examples: [(feature: Int, group: Int, example: DashboardExample)] = []
        examples.reserveCapacity(n)
        for i in 0..<n {
            guard feature[i] >= 0, feature[i] < nF, group[i] >= -1, group[i] < B,
                  offset[i] >= 0, offset[i] <= offset[i + 1], offset[i + 1] <= width else {
                throw SchemaError(file: f.path, object: "\(g)/\(S.exampleFeature)", detail: "example \(i) names feature \(feature[i]), group \(group[i]), window \(offset[i])..<\(offset[i + 1]) outside [\(nF) features, \(B) bins, \(width) window tokens]")
            }
            let r = Int(offset[i])..<Int(offset[i + 1])
            examples.append((Int(feature[i]), Int(group[i]),
                             DashboardExample(activation: activation[i], prompt: prompt[i], position: position[i], key: UInt64(bitPattern: key[i]),
                                              windowStart: start[i], tokens: Array(token[r]), activations: Array(act[r]))))
        }
        let ids = try f.read(Int64.self, at: "\(g)/\(S.vocabularyIDs)").values
        let strings = try f.readStrings(at: "\(g)/\(S.vocabularyStrings)")
        guard strings.count == ids.count else { throw SchemaError(file: f.path, object: "\(g)/\(S.vocabularyStrings)", detail: "\(strings.count) strings, expected \(ids.count)") }
        var vocabulary: [Int32: String] = [:]
        for (id, s) in zip(ids, strings) { vocabulary[Int32(truncatingIfNeeded: id)] = s }

        var logits: FeatureLogitTable?
        if f.exists("\(g)/\(S.logitTopIDs)") {
            let top = try f.read(Int32.self, at: "\(g)/\(S.logitTopIDs)")
            guard top.shape.count == 3, top.shape[0] == nLayers, top.shape[1] == dT else {
                throw SchemaError(file: f.path, object: "\(g)/\(S.logitTopIDs)", detail: "shape \(top.shape), expected [\(nLayers), \(dT), k]")
            }
            let count = top.values.count
            logits = FeatureLogitTable(nLayers: nLayers, dTranscoder: dT, k: top.shape[2], topIDs: top.values,
                                       topValues: try column(S.logitTopValues, Float.self, count: count),
                                       bottomIDs: try column(S.logitBottomIDs, Int32.self, count: count),
                                       bottomValues: try column(S.logitBottomValues, Float.self, count: count),
                                       tokenStrings: vocabulary)
        }
        return FeatureDashboards(nLayers: nLayers, dTranscoder: dT, parameters: parameters, maxActivation: maxA.values,
                                 histogram: hist.values, examples: examples, tokenStrings: vocabulary, logits: logits)
    }
}
