/// The dashboards of every transcoder feature over a set of prompts, in the form the merge
/// combines: maximum activation, a histogram over `ActivationHistogram`'s fixed bins, the top-k
/// activating contexts and, per histogram bin, the contexts with the smallest sample keys (a
/// uniform sample of the bin). Workers build a task's as `DashboardColumns` (`TaskDashboards`);
/// everything merges exactly (`add(_:)`): maxima, integer counts, and examples kept under a total
/// order, so any split of a corpus into tasks, merged in any order, equals one pass over the
/// whole corpus. Memory: `[nLayers · dTranscoder]` maxima, `[nLayers · dTranscoder, nBins]`
/// counts, and at most `topK + samplesPerBin · nBins` examples per feature, independent of the
/// corpus size.
///
/// Counts, sums and sums of squares are `FeatureStatistics` (not repeated here).
public struct FeatureDashboards: Sendable {
    public let nLayers: Int
    public let dTranscoder: Int
    public let parameters: DashboardParameters
    /// `[nLayers · dTranscoder]`: largest activation (0 when never active).
    public private(set) var maxActivation: [Float]
    /// `[nLayers · dTranscoder, nBins]`: active positions per bin.
    public private(set) var histogram: [Int64]
    /// `[nLayers · dTranscoder]`: the top-k examples of each feature, best first (`ranksAbove`).
    public private(set) var top: [[DashboardExample]]
    /// feature · nBins + bin → its sampled examples, by `samplesBefore` (at most `samplesPerBin`).
    public private(set) var samples: [Int: [DashboardExample]]
    /// The string of every token id in an example's window.
    public private(set) var tokenStrings: [Int32: String]
    /// The promoted and suppressed logits, when a worker computed them (the shard of task 0).
    public var logits: FeatureLogitTable?


    static let bins = ActivationHistogram.binCount

    public init(nLayers: Int, dTranscoder: Int, parameters: DashboardParameters = DashboardParameters()) {
        self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.parameters = parameters
        let n = nLayers * dTranscoder
        maxActivation = [Float](repeating: 0, count: n)
        histogram = [Int64](repeating: 0, count: n * Self.bins)
        top = [[DashboardExample]](repeating: [], count: n)
        samples = [:]
        tokenStrings = [:]
    }

    public var featureCount: Int { nLayers * dTranscoder }

    /// The sampled examples of feature `g`, all bins, by bin then sample order.
    public func samples(of g: Int) -> [(bin: Int, example: DashboardExample)] {
        (0..<Self.bins).flatMap { b in (samples[g * Self.bins + b] ?? []).map { (b, $0) } }
    }

    public enum MergeFailure: Error, CustomStringConvertible {
        case shape(found: [Int], expected: [Int])
        case parameters(found: DashboardParameters, expected: DashboardParameters)
        public var description: String {
            switch self {
            case let .shape(found, expected): "dashboards have shape \(found), expected \(expected)"
            case let .parameters(found, expected): "dashboards were accumulated with \(found), expected \(expected)"
            }
        }
    }

    /// Adds another set of prompts' dashboards (exact: maxima, counts, examples re-ranked).
    public mutating func add(_ other: FeatureDashboards) throws { try add(other.columns) }

    /// Adds the dashboards of `c` (a task's, or a shard's), touching only the features it holds.
    public mutating func add(_ c: DashboardColumns) throws {
        guard c.nLayers == nLayers, c.dTranscoder == dTranscoder else {
            throw MergeFailure.shape(found: [c.nLayers, c.dTranscoder], expected: [nLayers, dTranscoder])
        }
        guard c.parameters == parameters else { throw MergeFailure.parameters(found: c.parameters, expected: parameters) }
        let B = Self.bins, k = parameters.topK, s = parameters.samplesPerBin
        for (g, m) in zip(c.seenFeature, c.maxActivation) { maxActivation[Int(g)] = max(maxActivation[Int(g)], m) }
        for (i, n) in zip(c.histogramIndex, c.histogramCount) { histogram[Int(i)] += n }
        // Each example of `c` enters its list only when it ranks above the list's last while the
        // list is full: a list only improves, so what is skipped can never be among the final
        // first k (or s) of the union, in any order of the examples (exact, no sort, and no
        // example built for what is skipped).
        for i in 0..<c.exampleCount {
            let g = Int(c.exampleFeature[i]), group = Int(c.exampleGroup[i])
            let activation = c.exampleActivation[i], prompt = c.examplePrompt[i], position = c.examplePosition[i]
            let key = UInt64(bitPattern: c.exampleKey[i])
            func example() -> DashboardExample {
                let r = Int(c.windowOffset[i])..<Int(c.windowOffset[i + 1])
                return DashboardExample(activation: activation, prompt: prompt, position: position, key: key, windowStart: c.windowStart[i],
                                        tokens: Array(c.windowToken[r]), activations: Array(c.windowActivation[r]))
            }
            if group < 0 {
                guard k > 0 else { continue }
                if top[g].count == k, let last = top[g].last,
                   !((activation, -prompt, -Int64(position)) > (last.activation, -last.prompt, -Int64(last.position))) { continue }
                Self.insert(example(), into: &top[g], limit: k, by: DashboardExample.ranksAbove)
            } else {
                guard s > 0 else { continue }
                let slot = g * B + group
                if let list = samples[slot], list.count == s, let last = list.last,
                   !((key, prompt, position) < (last.key, last.prompt, last.position)) { continue }
                Self.insert(example(), into: &samples[slot, default: []], limit: s, by: DashboardExample.samplesBefore)
            }
        }
        tokenStrings.merge(c.vocabulary) { mine, _ in mine }
        if logits == nil { logits = c.logits }
    }

    /// Inserts `e` into `list` (ordered by `before`) at its place, keeping the first `limit`.
    static func insert(_ e: DashboardExample, into list: inout [DashboardExample], limit: Int,
                       by before: (DashboardExample, DashboardExample) -> Bool) {
        var j = list.count
        while j > 0, before(e, list[j - 1]) { j -= 1 }
        guard j < limit else { return }
        if list.count == limit { list.removeLast() }
        list.insert(e, at: j)
    }

    /// The dashboards of columns (a task's, or read from a file).
    public init(_ c: DashboardColumns) {
        self.init(nLayers: c.nLayers, dTranscoder: c.dTranscoder, parameters: c.parameters)
        try! add(c)   // same shape and parameters by construction
    }
    /// The columns of these dashboards (for `FeatureDashboardsFile`).
    public var columns: DashboardColumns {
        var c = DashboardColumns(nLayers: nLayers, dTranscoder: dTranscoder, parameters: parameters)
        let B = Self.bins
        for g in 0..<featureCount {
            let cells = (g * B)..<((g + 1) * B)
            guard histogram[cells].contains(where: { $0 > 0 }) else { continue }
            c.seenFeature.append(Int64(g)); c.maxActivation.append(maxActivation[g])
            for i in cells where histogram[i] > 0 { c.histogramIndex.append(Int64(i)); c.histogramCount.append(histogram[i]) }
            for e in top[g] { c.append(feature: g, group: -1, example: e) }
            for (b, e) in samples(of: g) { c.append(feature: g, group: b, example: e) }
        }
        c.vocabulary = tokenStrings
        if let logits { c.vocabulary.merge(logits.tokenStrings) { mine, _ in mine } }
        c.logits = logits
        return c
    }
}

extension DashboardColumns {
    mutating func append(feature g: Int, group: Int, example e: DashboardExample) {
        append(feature: g, group: group, activation: e.activation, prompt: e.prompt, position: e.position, key: e.key,
               windowStart: e.windowStart, tokens: e.tokens, activations: e.activations)
    }
}
