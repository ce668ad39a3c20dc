import Foundation

/// Co-activation statistics of (source, target) feature pairs at the same token position,
/// for a fixed set of targets; the corpus half of ERA and TWERA.
///
/// For each target t and source s with `l_s < l_t`, over positions where the target is active
/// (`a_t > 0`) and the source is non-zero: `count` (co-activations), `sumProduct` (Σ a_s·a_t)
/// and `sumSource` (Σ a_s·1(a_t > 0)). Positions where either is inactive add 0 to both sums,
/// so the sums equal those over every token position. BOS positions are never seen (the
/// transcoder activations exclude position 0).
public struct CoactivationStatistics: Sendable {
    public struct Pair: Hashable, Comparable, Sendable {
        public init(target: Int, source: Int) { self.target = target; self.source = source }
        /// Index into `targets`.
        public var target: Int
        /// `layer · dTranscoder + feature`.
        public var source: Int
        public static func < (a: Pair, b: Pair) -> Bool { (a.target, a.source) < (b.target, b.source) }
    }
    public struct Sums: Sendable, Equatable {
        public var count: Int64 = 0
        public var sumProduct: Double = 0
        public var sumSource: Double = 0
        public init(count: Int64 = 0, sumProduct: Double = 0, sumSource: Double = 0) {
            self.count = count; self.sumProduct = sumProduct; self.sumSource = sumSource
        }
    }

    public let targets: [FeatureID]
    public let dTranscoder: Int
    public private(set) var pairs: [Pair: Sums] = [:]
    /// `layer · dTranscoder + feature` → index into `targets`.
    let targetIndex: [Int: Int]

    public init(targets: [FeatureID], dTranscoder: Int) {
        self.targets = targets
        self.dTranscoder = dTranscoder
        var index: [Int: Int] = [:]
        for (i, t) in targets.enumerated() { index[t.layer * dTranscoder + t.feature] = i }
        targetIndex = index
    }

    /// Adds one prompt's activations: `features[k]` = (layer, position, index) has value `values[k]`.
    public mutating func add(features: [(layer: Int, pos: Int, index: Int)], values: [Float]) {
        guard !targets.isEmpty else { return }
        // Group by position: (feature key, layer, value) of every active feature there.
        var byPos: [Int: [(key: Int, layer: Int, value: Float)]] = [:]
        for (a, v) in zip(features, values) where v != 0 {
            byPos[a.pos, default: []].append((a.layer * dTranscoder + a.index, a.layer, v))
        }
        for (_, here) in byPos {
            for t in here where t.value > 0 {
                guard let ti = targetIndex[t.key] else { continue }
                for s in here where s.layer < t.layer {
                    let pair = Pair(target: ti, source: s.key)
                    var sums = pairs[pair] ?? Sums()
                    sums.count += 1
                    sums.sumProduct += Double(s.value) * Double(t.value)
                    sums.sumSource += Double(s.value)
                    pairs[pair] = sums
                }
            }
        }
    }

    /// Adds another accumulator's pairs (same targets).
    public mutating func add(_ other: CoactivationStatistics) {
        for (pair, s) in other.pairs {
            var sums = pairs[pair] ?? Sums()
            sums.count += s.count
            sums.sumProduct += s.sumProduct
            sums.sumSource += s.sumSource
            pairs[pair] = sums
        }
    }

    /// Sets the sums of a pair (reading stored statistics).
    public mutating func set(_ pair: Pair, _ sums: Sums) { pairs[pair] = sums }

    /// The pairs sorted by (target, source).
    public var sorted: [(pair: Pair, sums: Sums)] { pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}
