import Foundation

/// One feature's dashboard, assembled from a merged run (`/dashboards`, `/stats/features` and the
/// prompt ids of `aggregate.h5`): frequency and moments, maximum, histogram, quantiles, the top-k
/// contexts, sampled contexts grouped by activation quantile, and the logits it promotes and
/// suppresses. `circuits features` prints it; `json` is circuit-tracer's feature file.
public struct FeatureDashboard: Sendable {
    public struct Context: Sendable {
        public var promptID: String
        public var example: DashboardExample
        /// Text of each window token. `[width]`
        public var tokens: [String]
        /// Whether an earlier group shows the same (prompt, position).
        public var repeated: Bool
        /// The example's index inside its window.
        public var index: Int { Int(example.position - example.windowStart) }
    }
    public struct Group: Sendable {
        public var name: String
        public var contexts: [Context]
    }

    public var feature: FeatureID
    /// Positions where active, of `tokensSeen` non-BOS positions.
    public var activeCount: Int64, tokensSeen: Int64
    public var meanActivation: Double, maxActivation: Float
    /// Counts per `ActivationHistogram` bin. `[nBins]`
    public var histogram: [Int64]
    /// Activation at percentiles 1…100 of the active positions (from the histogram, log-linear within a bin). `[100]`
    public var quantileValues: [Double]
    /// `Top activations` (the top-k, highest first), then the sampled contexts by quantile interval, highest first.
    public var groups: [Group]
    public var topLogits: [(token: String, value: Float)]
    public var bottomLogits: [(token: String, value: Float)]

    public var frequency: Double { tokensSeen > 0 ? Double(activeCount) / Double(tokensSeen) : 0 }
    /// Quantile intervals the sampled contexts are grouped in (`[lower, upper)` shares of the active positions).
    public static let quantileIntervals = 5

    /// - Parameter promptIDs: the id of each prompt ordinal (the aggregate's `/prompts/id`).
    public init(_ feature: FeatureID, dashboards d: FeatureDashboards, statistics: FeatureStatistics, promptIDs: [String]) {
        let g = feature.layer * d.dTranscoder + feature.feature, B = ActivationHistogram.binCount
        self.feature = feature
        activeCount = statistics.activeCount[g]
        tokensSeen = statistics.tokensSeen
        meanActivation = activeCount > 0 ? statistics.sumActivation[g] / Double(activeCount) : 0
        maxActivation = d.maxActivation[g]
        let histogram = Array(d.histogram[(g * B)..<((g + 1) * B)]), top = Double(d.maxActivation[g])
        self.histogram = histogram
        quantileValues = (1...100).map { Self.quantile(Double($0) / 100, histogram: histogram, max: top) }
        topLogits = d.logits?.top(g) ?? []
        bottomLogits = d.logits?.bottom(g) ?? []
        var seen = Set<[Int64]>()
        func context(_ e: DashboardExample) -> Context {
            let key = [e.prompt, Int64(e.position)]
            let repeated = !seen.insert(key).inserted
            let id = e.prompt >= 0 && e.prompt < promptIDs.count ? promptIDs[Int(e.prompt)] : "#\(e.prompt)"
            return Context(promptID: id, example: e, tokens: e.tokens.map { d.tokenStrings[$0] ?? "<\($0)>" }, repeated: repeated)
        }
        var groups = [Group(name: "Top activations", contexts: d.top[g].map(context))]
        // Sampled contexts into quantile intervals by their activation, highest interval first.
        let q = Self.quantileIntervals
        let bounds = (1..<q).map { Self.quantile(Double($0) / Double(q), histogram: histogram, max: top) }
        var byInterval = [[DashboardExample]](repeating: [], count: q)
        for (_, e) in d.samples(of: g) { byInterval[bounds.filter { Double(e.activation) >= $0 }.count].append(e) }
        for i in stride(from: q - 1, through: 0, by: -1) where !byInterval[i].isEmpty {
            let name = "Quantile \(100 * i / q)–\(100 * (i + 1) / q)%"
            groups.append(Group(name: name, contexts: byInterval[i].sorted(by: DashboardExample.ranksAbove).map(context)))
        }
        self.groups = groups
    }

    /// The activation at share `p` of the active positions, interpolated log-linearly inside its bin
    /// (linearly in the underflow bin); bins above `max` are clipped to it.
    static func quantile(_ p: Double, histogram: [Int64], max: Double) -> Double {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = p * Double(total)
        var below = 0.0
        for (b, c) in histogram.enumerated() where c > 0 {
            if below + Double(c) >= target {
                let (lo, hi0) = ActivationHistogram.range(of: b), hi = Swift.min(hi0, Swift.max(max, lo))
                let t = (target - below) / Double(c)
                return b == 0 ? lo + t * (hi - lo) : lo * Foundation.pow(hi / lo, t)
            }
            below += Double(c)
        }
        return max
    }

    /// The histogram spread over `count` equal-width bins on `[0, maxActivation]` (circuit-tracer's
    /// viewer draws linear bins), assuming a uniform density inside each log-spaced bin.
    public func linearHistogram(count: Int = 50) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        let top = Double(maxActivation)
        guard top > 0 else { return out }
        let w = top / Double(count)
        for (b, c) in histogram.enumerated() where c > 0 {
            let (lo, hi0) = ActivationHistogram.range(of: b)
            let hi = Swift.min(hi0, top), low = Swift.min(lo, hi)
            guard hi > low else { out[Swift.min(count - 1, Int(low / w))] += Double(c); continue }
            for k in Swift.max(0, Int(low / w))...Swift.min(count - 1, Int(hi / w)) {
                let overlap = Swift.min(hi, Double(k + 1) * w) - Swift.max(low, Double(k) * w)
                if overlap > 0 { out[k] += Double(c) * overlap / (hi - low) }
            }
        }
        return out
    }
}
