import Foundation
import Storage

/// Feature dashboards computed the obvious way, in Float64, from every active entry of a corpus
/// at once (no streaming, no thresholds, no merging): the reference the accumulated and merged
/// `FeatureDashboards` must equal exactly.
public struct NaiveDashboards {
    public struct Prompt {
        public var ordinal: Int64
        public var tokens: [Int32]
        /// (feature = layer · dTranscoder + index, position, activation) of every active entry.
        public var entries: [(feature: Int, position: Int, value: Float)]
        public init(ordinal: Int64, tokens: [Int32], entries: [(feature: Int, position: Int, value: Float)]) {
            self.ordinal = ordinal; self.tokens = tokens; self.entries = entries
        }
    }
    public struct Example: Equatable, CustomStringConvertible {
        public var activation: Double, prompt: Int64, position: Int, windowStart: Int, tokens: [Int32], activations: [Double]
        public var description: String { "\(activation)@\(prompt):\(position)" }
    }

    public var maxActivation: [Double]
    public var histogram: [[Int64]]
    public var top: [[Example]]
    /// feature · nBins + bin → samples.
    public var samples: [Int: [Example]]

    /// The histogram bin by `log2` in Float64: `floor(2 · log2 v) + 21`, clamped to the 42 bins.
    public static func bin(_ v: Float) -> Int {
        v <= 0 ? 0 : min(max(Int((2 * Double(v).log2).rounded(.down)) + 21, 0), 41)
    }

    public init(_ prompts: [Prompt], features: Int, parameters p: DashboardParameters) {
        maxActivation = [Double](repeating: 0, count: features)
        histogram = [[Int64]](repeating: [Int64](repeating: 0, count: 42), count: features)
        var all = [[(example: Example, key: UInt64)]](repeating: [], count: features)
        for prompt in prompts {
            var dense: [Int: [Int: Double]] = [:]   // feature → position → activation
            for e in prompt.entries { dense[e.feature, default: [:]][e.position] = Double(e.value) }
            for e in prompt.entries {
                let v = Double(e.value)
                maxActivation[e.feature] = max(maxActivation[e.feature], v)
                histogram[e.feature][Self.bin(e.value)] += 1
                let start = max(0, e.position - p.windowBefore), end = min(prompt.tokens.count - 1, e.position + p.windowAfter)
                let x = Example(activation: v, prompt: prompt.ordinal, position: e.position, windowStart: start,
                                tokens: Array(prompt.tokens[start...end]), activations: (start...end).map { dense[e.feature]![$0] ?? 0 })
                all[e.feature].append((x, DashboardExample.sampleKey(prompt: prompt.ordinal, position: e.position, feature: e.feature)))
            }
        }
        top = all.map { list in
            Array(list.map(\.example).sorted { ($0.activation, -$0.prompt, -$0.position) > ($1.activation, -$1.prompt, -$1.position) }.prefix(p.topK))
        }
        samples = [:]
        for (g, list) in all.enumerated() {
            for b in 0..<42 {
                let inBin = list.filter { Self.bin(Float($0.example.activation)) == b }
                    .sorted { ($0.key, $0.example.prompt, $0.example.position) < ($1.key, $1.example.prompt, $1.example.position) }
                if !inBin.isEmpty { samples[g * 42 + b] = inBin.prefix(p.samplesPerBin).map(\.example) }
            }
        }
    }

    /// Every difference between `d` and this reference, described (empty: equal). With a
    /// `tolerance`, activations may differ by that much relatively (the same examples, in the
    /// same order, are still required); 0: bit for bit.
    public func differences(_ d: FeatureDashboards, tolerance: Double = 0) -> [String] {
        func convert(_ e: DashboardExample) -> Example {
            Example(activation: Double(e.activation), prompt: e.prompt, position: Int(e.position), windowStart: Int(e.windowStart),
                    tokens: e.tokens, activations: e.activations.map(Double.init))
        }
        func close(_ a: Double, _ b: Double) -> Bool { a == b || abs(a - b) <= tolerance * max(abs(a), abs(b)) }
        func same(_ a: [Example], _ b: [Example]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { x, y in
                x.prompt == y.prompt && x.position == y.position && x.windowStart == y.windowStart && x.tokens == y.tokens
                    && close(x.activation, y.activation) && x.activations.count == y.activations.count
                    && zip(x.activations, y.activations).allSatisfy { close($0, $1) }
            }
        }
        // With a tolerance, near-ties (equal in one process, a last bit apart in another) may come
        // in another order: activations must agree rank by rank, and the contexts above the last
        // one's activation (plus the tolerance) must be the same set.
        func nearlySame(_ a: [Example], _ b: [Example]) -> Bool {
            guard a.count == b.count, zip(a, b).allSatisfy({ close($0.activation, $1.activation) }) else { return false }
            let floor = (b.last?.activation ?? 0) * (1 + tolerance)
            func contexts(_ l: [Example]) -> Set<[Int64]> { Set(l.filter { $0.activation > floor }.map { [$0.prompt, Int64($0.position)] }) }
            return contexts(a) == contexts(b)
        }
        var out: [String] = []
        for g in 0..<d.featureCount {
            if !close(Double(d.maxActivation[g]), maxActivation[g]) { out.append("feature \(g): max \(d.maxActivation[g]) ≠ \(maxActivation[g])") }
            let h = Array(d.histogram[(g * 42)..<((g + 1) * 42)])
            if h != histogram[g] { out.append("feature \(g): histogram \(h) ≠ \(histogram[g])") }
            let t = d.top[g].map(convert)
            if !(tolerance == 0 ? same(t, top[g]) : nearlySame(t, top[g])) { out.append("feature \(g): top \(t) ≠ \(top[g])") }
        }
        for slot in Set(d.samples.keys).union(samples.keys) {
            let list = (d.samples[slot] ?? []).map(convert)
            if !same(list, samples[slot] ?? []) { out.append("feature \(slot / 42) bin \(slot % 42): samples \(list) ≠ \(samples[slot] ?? [])") }
        }
        return out
    }
}

extension Double {
    fileprivate var log2: Double { Foundation.log2(self) }
}
