/// The dashboard accumulators of every transcoder feature over a set of prompts: maximum
/// activation, a histogram over `ActivationHistogram`'s fixed bins, the top-k activating
/// contexts and, per histogram bin, the contexts with the smallest sample keys (a uniform sample
/// of the bin). Everything merges exactly (`add(_:)`): maxima, integer counts, and examples kept
/// under a total order, so the result of any split of a corpus into tasks, merged in any order,
/// equals one pass over the whole corpus. Memory: `[nLayers · dTranscoder]` maxima and floors,
/// `[nLayers · dTranscoder, nBins]` counts and sample ceilings, and at most
/// `topK + samplesPerBin · nBins` examples per feature, independent of the corpus size.
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

    /// `[nLayers · dTranscoder]`: the activation an example must reach to enter the top-k.
    private var topFloor: [Float]
    /// `[nLayers · dTranscoder, nBins]`: the largest kept sample key of a full bin (else `UInt64.max`).
    private var sampleCeiling: [UInt64]

    static let bins = ActivationHistogram.binCount

    public init(nLayers: Int, dTranscoder: Int, parameters: DashboardParameters = DashboardParameters()) {
        self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.parameters = parameters
        let n = nLayers * dTranscoder
        maxActivation = [Float](repeating: 0, count: n)
        histogram = [Int64](repeating: 0, count: n * Self.bins)
        top = [[DashboardExample]](repeating: [], count: n)
        samples = [:]
        tokenStrings = [:]
        topFloor = [Float](repeating: -.infinity, count: n)
        sampleCeiling = [UInt64](repeating: .max, count: n * Self.bins)
    }

    public var featureCount: Int { nLayers * dTranscoder }

    /// The sampled examples of feature `g`, all bins, by bin then sample order.
    public func samples(of g: Int) -> [(bin: Int, example: DashboardExample)] {
        (0..<Self.bins).flatMap { b in (samples[g * Self.bins + b] ?? []).map { (b, $0) } }
    }

    /// Adds one prompt.
    /// - Parameters:
    ///   - prompt: its ordinal (index among the corpus's valid prompts).
    ///   - tokens, tokenStrings: its token ids and their text, BOS included. `[nPos]`
    ///   - features: each active entry's feature, `layer · dTranscoder + index`. `[nActive]`
    ///   - positions, values: its position (≥ 1) and activation. `[nActive]`
    ///   Entries come sorted by (layer, position, index), as `FeatureActivations` gives them
    ///   (other orders are sorted first).
    public mutating func add(prompt: Int64, tokens: [Int32], tokenStrings strings: [String],
                             features: [Int32], positions: [Int32], values: [Float]) {
        let B = Self.bins, k = parameters.topK, s = parameters.samplesPerBin
        var pending: [(feature: Int, slot: Int)] = []   // examples admitted from this prompt (slot −1: top-k)
        for i in features.indices {
            let g = Int(features[i]), v = values[i], p = positions[i]
            if v > maxActivation[g] { maxActivation[g] = v }
            let slot = g &* B &+ ActivationHistogram.bin(v)
            histogram[slot] &+= 1
            if k > 0, v >= topFloor[g] {
                let e = DashboardExample(activation: v, prompt: prompt, position: p, key: 0)
                if Self.insert(e, into: &top[g], limit: k, by: DashboardExample.ranksAbove) {
                    pending.append((g, -1))
                    if top[g].count == k { topFloor[g] = top[g][k - 1].activation }
                }
            }
            let key = DashboardExample.sampleKey(prompt: prompt, position: Int(p), feature: g)
            if s > 0, key <= sampleCeiling[slot] {
                let e = DashboardExample(activation: v, prompt: prompt, position: p, key: key)
                if Self.insert(e, into: &samples[slot, default: []], limit: s, by: DashboardExample.samplesBefore) {
                    pending.append((g, slot))
                    if let kept = samples[slot], kept.count == s { sampleCeiling[slot] = kept[s - 1].key }
                }
            }
        }
        guard !pending.isEmpty else { return }
        let window = PromptWindows(nLayers: nLayers, dTranscoder: dTranscoder, nPos: tokens.count,
                                   features: features, positions: positions, values: values)
        var shown = [Bool](repeating: false, count: tokens.count)   // positions inside some new window
        // Captures locals only: capturing `self` here would copy `top` and `samples` on every prompt.
        let before = parameters.windowBefore, after = parameters.windowAfter
        func fill(_ e: inout DashboardExample, _ g: Int) {
            guard e.prompt == prompt, e.tokens.isEmpty else { return }
            let start = max(0, Int(e.position) - before), end = min(tokens.count - 1, Int(e.position) + after)
            e.windowStart = Int32(start)
            e.tokens = Array(tokens[start...end])
            e.activations = (start...end).map { window.activation(feature: g, position: $0) }
            for q in start...end { shown[q] = true }
        }
        for (g, slot) in pending {
            if slot < 0 {
                for j in top[g].indices { fill(&top[g][j], g) }
            } else if samples[slot] != nil {
                for j in samples[slot]!.indices { fill(&samples[slot]![j], g) }
            }
        }
        for q in shown.indices where shown[q] && tokenStrings[tokens[q]] == nil { tokenStrings[tokens[q]] = strings[q] }
    }

    /// Inserts `e` into the sorted `list` if it ranks among the first `limit`; whether it did.
    static func insert(_ e: DashboardExample, into list: inout [DashboardExample], limit: Int,
                       by before: (DashboardExample, DashboardExample) -> Bool) -> Bool {
        var lo = 0, hi = list.count
        while lo < hi { let mid = (lo + hi) / 2; if before(list[mid], e) { lo = mid + 1 } else { hi = mid } }
        guard lo < limit else { return false }
        list.insert(e, at: lo)
        if list.count > limit { list.removeLast() }
        return true
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
    public mutating func add(_ other: FeatureDashboards) throws {
        guard other.nLayers == nLayers, other.dTranscoder == dTranscoder else {
            throw MergeFailure.shape(found: [other.nLayers, other.dTranscoder], expected: [nLayers, dTranscoder])
        }
        guard other.parameters == parameters else { throw MergeFailure.parameters(found: other.parameters, expected: parameters) }
        let B = Self.bins, k = parameters.topK, s = parameters.samplesPerBin
        for g in 0..<featureCount {
            maxActivation[g] = max(maxActivation[g], other.maxActivation[g])
            for b in 0..<B { histogram[g * B + b] += other.histogram[g * B + b] }
            guard !other.top[g].isEmpty else { continue }
            top[g] = Array((top[g] + other.top[g]).sorted(by: DashboardExample.ranksAbove).prefix(k))
            if top[g].count == k { topFloor[g] = top[g][k - 1].activation }
        }
        for (slot, theirs) in other.samples {
            let kept = Array(((samples[slot] ?? []) + theirs).sorted(by: DashboardExample.samplesBefore).prefix(s))
            samples[slot] = kept
            if kept.count == s { sampleCeiling[slot] = kept[s - 1].key }
        }
        tokenStrings.merge(other.tokenStrings) { mine, _ in mine }
        if logits == nil { logits = other.logits }
    }

    /// Rebuilds dashboards read from a file (`FeatureDashboardsFile`).
    public init(nLayers: Int, dTranscoder: Int, parameters: DashboardParameters, maxActivation: [Float], histogram: [Int64],
                examples: [(feature: Int, group: Int, example: DashboardExample)], tokenStrings: [Int32: String], logits: FeatureLogitTable?) {
        self.init(nLayers: nLayers, dTranscoder: dTranscoder, parameters: parameters)
        self.maxActivation = maxActivation
        self.histogram = histogram
        for (g, group, e) in examples {
            if group < 0 { top[g].append(e) } else { samples[g * Self.bins + group, default: []].append(e) }
        }
        let k = parameters.topK, s = parameters.samplesPerBin
        for g in top.indices where !top[g].isEmpty {
            top[g].sort(by: DashboardExample.ranksAbove)
            if top[g].count >= k { topFloor[g] = top[g][k - 1].activation }
        }
        for slot in samples.keys {
            samples[slot]!.sort(by: DashboardExample.samplesBefore)
            if samples[slot]!.count >= s { sampleCeiling[slot] = samples[slot]![s - 1].key }
        }
        self.tokenStrings = tokenStrings
        self.logits = logits
    }
}
