/// Builds one task's dashboards (`DashboardColumns`) from its prompts' active entries, in one
/// pass that buckets the entries by feature (counting sort, stable: within a feature, by prompt
/// then position), then per feature: maximum, histogram, top-k (`DashboardExample.ranksAbove`),
/// the `samplesPerBin` smallest sample keys of each bin, and the windows of the kept examples
/// read from the feature's own neighbouring entries. No per-entry allocation; the cost is
/// linear in the entries plus a sort of each feature's entries.
public enum TaskDashboards {
    public struct Prompt: Sendable {
        /// Its index among the corpus's valid prompts.
        public var ordinal: Int64
        /// Token ids and their text, BOS included. `[nPos]`
        public var tokens: [Int32], strings: [String]
        /// Active entries sorted by (layer, position, index): feature (`layer · dTranscoder + index`),
        /// position and activation. `[nActive]`
        public var features: [Int32], positions: [Int32], values: [Float]
        public init(ordinal: Int64, tokens: [Int32], strings: [String], features: [Int32], positions: [Int32], values: [Float]) {
            self.ordinal = ordinal; self.tokens = tokens; self.strings = strings
            self.features = features; self.positions = positions; self.values = values
        }
    }

    public static func build(_ prompts: [Prompt], nLayers: Int, dTranscoder: Int, parameters: DashboardParameters) -> DashboardColumns {
        let F = nLayers * dTranscoder, B = ActivationHistogram.binCount
        var out = DashboardColumns(nLayers: nLayers, dTranscoder: dTranscoder, parameters: parameters)
        // Bucket every entry by feature: start[g] ..< start[g + 1].
        var start = [Int](repeating: 0, count: F + 1)
        for p in prompts { for g in p.features { start[Int(g) + 1] += 1 } }
        for g in 0..<F { start[g + 1] += start[g] }
        let n = start[F]
        var cursor = start
        var prompt = [Int32](repeating: 0, count: n), position = [Int32](repeating: 0, count: n), value = [Float](repeating: 0, count: n)
        for (k, p) in prompts.enumerated() {
            for i in p.features.indices {
                let g = Int(p.features[i]), at = cursor[g]
                prompt[at] = Int32(k); position[at] = p.positions[i]; value[at] = p.values[i]
                cursor[g] = at + 1
            }
        }
        var shown = prompts.map { [Bool](repeating: false, count: $0.tokens.count) }   // token positions inside a window
        let ordinals = prompts.map(\.ordinal), tokenLists = prompts.map(\.tokens)   // (no copy of a whole Prompt per example)
        let k = parameters.topK, s = parameters.samplesPerBin, before = parameters.windowBefore, after = parameters.windowAfter
        var order: [Int] = [], touched: [Int] = [], keyed: [(bin: Int, key: UInt64, entry: Int)] = [], binCount = [Int64](repeating: 0, count: B)
        var window = [Float](repeating: 0, count: before + 1 + after)

        func emit(_ g: Int, group: Int, entry i: Int, key: UInt64, range: Range<Int>) {
            let pk = Int(prompt[i]), pos = Int(position[i])
            let first = max(0, pos - before), last = min(tokenLists[pk].count - 1, pos + after), width = last - first + 1
            for q in 0..<width { window[q] = 0 }
            // The feature's entries of the same prompt are contiguous and by position: walk both ways.
            var j = i
            while j >= range.lowerBound, prompt[j] == prompt[i], Int(position[j]) >= first { window[Int(position[j]) - first] = value[j]; j -= 1 }
            j = i + 1
            while j < range.upperBound, prompt[j] == prompt[i], Int(position[j]) <= last { window[Int(position[j]) - first] = value[j]; j += 1 }
            for q in first...last { shown[pk][q] = true }
            out.append(feature: g, group: group, activation: value[i], prompt: ordinals[pk], position: position[i], key: key,
                       windowStart: Int32(first), tokens: tokenLists[pk][first...last], activations: window[0..<width])
        }

        for g in 0..<F where start[g + 1] > start[g] {
            let range = start[g]..<start[g + 1]
            var peak = -Float.infinity
            keyed.removeAll(keepingCapacity: true)
            touched.removeAll(keepingCapacity: true)
            for i in range {
                let v = value[i], b = ActivationHistogram.bin(v)
                if v > peak { peak = v }
                if binCount[b] == 0 { touched.append(b) }
                binCount[b] += 1
                if s > 0 { keyed.append((b, DashboardExample.sampleKey(prompt: ordinals[Int(prompt[i])], position: Int(position[i]), feature: g), i)) }
            }
            out.seenFeature.append(Int64(g)); out.maxActivation.append(max(peak, 0))
            touched.sort()
            for b in touched { out.histogramIndex.append(Int64(g * B + b)); out.histogramCount.append(binCount[b]); binCount[b] = 0 }
            if k > 0 {
                // Highest first; ties by prompt then position, which is the bucket's own order.
                order.removeAll(keepingCapacity: true)
                order.append(contentsOf: range)
                if order.count > 1 { order.sort { value[$0] != value[$1] ? value[$0] > value[$1] : $0 < $1 } }
                for i in order.prefix(k) { emit(g, group: -1, entry: i, key: 0, range: range) }
            }
            if s > 0 {
                keyed.sort { ($0.bin, $0.key, $0.entry) < ($1.bin, $1.key, $1.entry) }
                var taken = 0, bin = -1
                for e in keyed {
                    if e.bin != bin { bin = e.bin; taken = 0 }
                    guard taken < s else { continue }
                    taken += 1
                    emit(g, group: e.bin, entry: e.entry, key: e.key, range: range)
                }
            }
        }
        for (pk, p) in prompts.enumerated() {
            for q in p.tokens.indices where shown[pk][q] && out.vocabulary[p.tokens[q]] == nil { out.vocabulary[p.tokens[q]] = p.strings[q] }
        }
        return out
    }
}
