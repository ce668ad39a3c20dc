/// Builds one task's dashboards (`DashboardColumns`) from its prompts' active entries. Three
/// passes over preallocated buffers, with no per-entry allocation and no sort:
/// 1. bucket every entry by feature (counting sort, stable: within a feature by prompt, then
///    position), each entry reduced to its token slot (its index among the task's tokens) and
///    its activation;
/// 2. per feature, one pass over its entries: maximum, histogram (bins from the float's bits,
///    touched bins in a bit mask), the top-k in a sorted buffer of k packed keys that an entry
///    enters only when it beats the current k-th (`DashboardExample.ranksAbove`), and per bin the
///    `samplesPerBin` smallest (sample key, entry); the kept examples recorded as (entry, group,
///    key), top-k first, then the samples by bin;
/// 3. the kept examples' columns, each allocated at its final size and written once (no scratch
///    copy), windows included: token ids from the task's tokens, activations from the feature's
///    own neighbouring entries in its bucket (contexts are built only for kept examples, never
///    per entry).
/// The columns equal those of ranking each feature's entries by sorting them whole (the orders
/// and ties of `ranksAbove` and `samplesBefore`; `TaskDashboardsTests` checks this against a
/// naive builder). Cost: linear in the entries and the kept examples' windows, plus
/// `O(nFeatures)` per task; scratch memory `O(nFeatures + entries)`.
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

    /// The top-k key of an activation and its entry's rank in its feature's bucket: larger keys
    /// rank above (`DashboardExample.ranksAbove`: higher activation, then earlier prompt and
    /// position, which is the bucket's order). The float's bits are mapped to an unsigned integer
    /// of the same order (−0 taken as +0, as `>` does); the low 32 bits hold `~rank`.
    static func topKey(_ v: Float, rank: Int) -> UInt64 {
        let bits = (v == 0 ? 0 : v).bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(UInt32.max - UInt32(truncatingIfNeeded: rank))
    }

    /// A column of `count` values, `value(e)` for e = 0, 1, …, in order, written straight into the array's storage.
    @inline(__always)
    static func column<T>(_ count: Int, _ value: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { b, written in
            guard let p = b.baseAddress else { return }
            for e in 0..<count { (p + e).initialize(to: value(e)) }
            written = count
        }
    }

    /// One task's dashboard columns.
    /// - Precondition: every entry's feature is below `nLayers · dTranscoder` and its position
    ///   inside its prompt's tokens (checked: the buffers below are raw memory).
    public static func build(_ prompts: [Prompt], nLayers: Int, dTranscoder: Int, parameters: DashboardParameters) -> DashboardColumns {
        let F = nLayers * dTranscoder, B = ActivationHistogram.binCount
        let k = parameters.topK, s = parameters.samplesPerBin, before = parameters.windowBefore, after = parameters.windowAfter
        precondition(F <= Int(Int32.max) && k >= 0 && s >= 0 && before >= 0 && after >= 0, "dashboards of \(nLayers) × \(dTranscoder) with \(parameters)")
        var out = DashboardColumns(nLayers: nLayers, dTranscoder: dTranscoder, parameters: parameters)
        func buffer<T>(_ count: Int) -> UnsafeMutablePointer<T> { .allocate(capacity: max(count, 1)) }

        // The task's tokens, prompt after prompt: slot t is position t − promptStart[p] of prompt p.
        let P = prompts.count
        let promptStart: UnsafeMutablePointer<Int> = buffer(P + 1), ordinal: UnsafeMutablePointer<Int64> = buffer(P)   // [P + 1], [P]
        defer { promptStart.deallocate(); ordinal.deallocate() }
        promptStart[0] = 0
        for (p, prompt) in prompts.enumerated() { promptStart[p + 1] = promptStart[p] + prompt.tokens.count; ordinal[p] = prompt.ordinal }
        let nTokens = promptStart[P]
        let token: UnsafeMutablePointer<Int32> = buffer(nTokens), promptOf: UnsafeMutablePointer<Int32> = buffer(nTokens)   // [nTokens]
        let shown: UnsafeMutablePointer<Int32> = buffer(nTokens + 1)   // [nTokens + 1]: windows opening minus closing at each slot
        defer { token.deallocate(); promptOf.deallocate(); shown.deallocate() }
        shown.initialize(repeating: 0, count: nTokens + 1)
        for (p, prompt) in prompts.enumerated() {
            for (q, id) in prompt.tokens.enumerated() { token[promptStart[p] + q] = id; promptOf[promptStart[p] + q] = Int32(p) }
        }

        // 1. Bucket every entry by feature: start[g] ..< start[g + 1] of slot and value.
        let start: UnsafeMutablePointer<Int> = buffer(F + 1)   // [F + 1]
        defer { start.deallocate() }
        start.initialize(repeating: 0, count: F + 1)
        for prompt in prompts {
            precondition(prompt.positions.count == prompt.features.count && prompt.values.count == prompt.features.count,
                         "prompt \(prompt.ordinal): \(prompt.features.count) features, \(prompt.positions.count) positions, \(prompt.values.count) values")
            for g in prompt.features {
                precondition(g >= 0 && Int(g) < F, "prompt \(prompt.ordinal): feature \(g) outside \(nLayers) × \(dTranscoder)")
                start[Int(g) + 1] += 1
            }
        }
        var exampleBound = 0, cellBound = 0   // kept examples and histogram cells, at most
        for g in 0..<F {
            let count = start[g + 1]
            exampleBound += min(count, k) + min(count, s * B); cellBound += min(count, B)
            start[g + 1] += start[g]
        }
        let n = start[F]
        let slot: UnsafeMutablePointer<Int32> = buffer(n), value: UnsafeMutablePointer<Float> = buffer(n), cursor: UnsafeMutablePointer<Int> = buffer(F)   // [n], [n], [F]
        defer { slot.deallocate(); value.deallocate(); cursor.deallocate() }
        cursor.initialize(from: start, count: F)
        for (p, prompt) in prompts.enumerated() {
            let first = promptStart[p], count = prompt.tokens.count
            prompt.features.withUnsafeBufferPointer { fs in
            prompt.positions.withUnsafeBufferPointer { ps in
            prompt.values.withUnsafeBufferPointer { vs in
                for i in fs.indices {
                    let g = Int(fs[i]), at = cursor[g], position = Int(ps[i])
                    precondition(position >= 0 && position < count, "prompt \(prompt.ordinal): position \(position) outside its \(count) tokens")
                    slot[at] = Int32(first + position); value[at] = vs[i]
                    cursor[g] = at + 1
                }
            } } }
        }

        // 2. Per feature: maximum, histogram, top-k and samples; each kept example recorded as its
        // entry, group and sample key (its columns are written in 3, once, at their final size).
        var seenFeature: [Int64] = [], maxActivation: [Float] = [], histogramIndex: [Int64] = [], histogramCount: [Int64] = []
        seenFeature.reserveCapacity(min(F, n)); maxActivation.reserveCapacity(min(F, n))
        histogramIndex.reserveCapacity(cellBound); histogramCount.reserveCapacity(cellBound)
        let M = exampleBound
        let exEntry: UnsafeMutablePointer<Int32> = buffer(M), exFeature: UnsafeMutablePointer<Int32> = buffer(M)   // [M]
        let exGroup: UnsafeMutablePointer<Int32> = buffer(M), exKey: UnsafeMutablePointer<UInt64> = buffer(M)       // [M]
        defer { exEntry.deallocate(); exFeature.deallocate(); exGroup.deallocate(); exKey.deallocate() }
        let top: UnsafeMutablePointer<UInt64> = buffer(k)                                                               // [k], best first
        let sampleKey: UnsafeMutablePointer<UInt64> = buffer(B * s), sampleEntry: UnsafeMutablePointer<Int32> = buffer(B * s)   // [B, s], smallest first
        let sampleCount: UnsafeMutablePointer<Int> = buffer(B), binCount: UnsafeMutablePointer<Int64> = buffer(B)      // [B]
        defer { top.deallocate(); sampleKey.deallocate(); sampleEntry.deallocate(); sampleCount.deallocate(); binCount.deallocate() }
        sampleCount.initialize(repeating: 0, count: B); binCount.initialize(repeating: 0, count: B)
        var m = 0   // examples kept
        func keep(_ g: Int, group: Int32, key: UInt64, entry i: Int) {
            exEntry[m] = Int32(i); exFeature[m] = Int32(g); exGroup[m] = group; exKey[m] = key
            m += 1
        }
        for g in 0..<F where start[g + 1] > start[g] {
            let a = start[g], b = start[g + 1]
            var peak = -Float.infinity, touched: UInt64 = 0, kept = 0
            for i in a..<b {
                let v = value[i], bin = ActivationHistogram.bin(v)
                if v > peak { peak = v }
                binCount[bin] += 1
                touched |= 1 << UInt64(bin)
                if k > 0 {
                    // Enters the top-k only when it beats the k-th (keys are distinct).
                    let key = topKey(v, rank: i - a)
                    if kept < k || key > top[k - 1] {
                        var j = kept < k ? kept : k - 1
                        while j > 0, top[j - 1] < key { top[j] = top[j - 1]; j -= 1 }
                        top[j] = key
                        if kept < k { kept += 1 }
                    }
                }
                if s > 0 {
                    // The bin's s smallest (key, entry); a later entry with an equal key stays behind.
                    let t = Int(slot[i]), p = Int(promptOf[t])
                    let key = DashboardExample.sampleKey(prompt: ordinal[p], position: t - promptStart[p], feature: g)
                    let row = sampleKey + bin * s, rowEntry = sampleEntry + bin * s, c = sampleCount[bin]
                    if c < s || key < row[s - 1] {
                        var j = c < s ? c : s - 1
                        while j > 0, row[j - 1] > key { row[j] = row[j - 1]; rowEntry[j] = rowEntry[j - 1]; j -= 1 }
                        row[j] = key; rowEntry[j] = Int32(i)
                        if c < s { sampleCount[bin] = c + 1 }
                    }
                }
            }
            seenFeature.append(Int64(g)); maxActivation.append(max(peak, 0))
            for r in 0..<kept { keep(g, group: -1, key: 0, entry: a + Int(UInt32.max - UInt32(truncatingIfNeeded: top[r]))) }
            var bins = touched
            while bins != 0 {
                let bin = bins.trailingZeroBitCount
                bins &= bins - 1
                histogramIndex.append(Int64(g * B + bin)); histogramCount.append(binCount[bin]); binCount[bin] = 0
                for r in 0..<sampleCount[bin] { keep(g, group: Int32(bin), key: sampleKey[bin * s + r], entry: Int(sampleEntry[bin * s + r])) }
                sampleCount[bin] = 0
            }
        }
        out.seenFeature = seenFeature; out.maxActivation = maxActivation
        out.histogramIndex = histogramIndex; out.histogramCount = histogramCount

        // 3. The kept examples' columns, each allocated at its final size and written once (no
        // scratch copy). Example e's window is slots first ... last of its prompt.
        @inline(__always) func window(_ e: Int) -> (slot: Int, prompt: Int, first: Int, last: Int) {
            let t = Int(slot[Int(exEntry[e])]), p = Int(promptOf[t])
            return (t, p, max(promptStart[p], t - before), min(promptStart[p + 1] - 1, t + after))
        }
        out.exampleFeature = column(m) { Int64(exFeature[$0]) }
        out.exampleGroup = column(m) { exGroup[$0] }
        out.exampleActivation = column(m) { value[Int(exEntry[$0])] }
        out.examplePrompt = column(m) { ordinal[window($0).prompt] }
        out.examplePosition = column(m) { let w = window($0); return Int32(w.slot - promptStart[w.prompt]) }
        out.exampleKey = column(m) { Int64(bitPattern: exKey[$0]) }
        out.windowStart = column(m) { let w = window($0); return Int32(w.first - promptStart[w.prompt]) }
        var width = 0   // window tokens so far
        out.windowOffset = column(m + 1) { e in
            guard e > 0 else { return 0 }
            let w = window(e - 1)
            shown[w.first] += 1; shown[w.last + 1] -= 1
            width += w.last - w.first + 1
            return Int64(width)
        }
        // The windows: token ids copied from the task's tokens, activations from the feature's
        // neighbouring entries (by slot in its bucket: walk both ways from the example's entry).
        var windowActivation: [Float] = []
        out.windowToken = [Int32](unsafeUninitializedCapacity: width) { tokens, tokensWritten in
            windowActivation = [Float](unsafeUninitializedCapacity: width) { activations, written in
                guard let wt = tokens.baseAddress, let wa = activations.baseAddress else { return }
                var at = 0
                for e in 0..<m {
                    let i = Int(exEntry[e]), g = Int(exFeature[e]), (_, _, first, last) = window(e), count = last - first + 1
                    let w = wa + at   // w[t − first]: the activation at slot t
                    for q in 0..<count { wt[at + q] = token[first + q]; w[q] = 0 }   // (a few tokens: no memcpy call)
                    var j = i
                    while j >= start[g], Int(slot[j]) >= first { w[Int(slot[j]) - first] = value[j]; j -= 1 }
                    j = i + 1
                    while j < start[g + 1], Int(slot[j]) <= last { w[Int(slot[j]) - first] = value[j]; j += 1 }
                    at += count
                }
                written = width
            }
            tokensWritten = width
        }
        out.windowActivation = windowActivation

        // Token strings of every slot inside a window (the first string of an id wins).
        var covered: Int32 = 0
        for (p, prompt) in prompts.enumerated() {
            for q in prompt.tokens.indices {
                covered += shown[promptStart[p] + q]
                if covered > 0, out.vocabulary[prompt.tokens[q]] == nil { out.vocabulary[prompt.tokens[q]] = prompt.strings[q] }
            }
        }
        return out
    }
}
