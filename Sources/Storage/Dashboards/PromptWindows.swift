/// One prompt's active entries indexed for the dashboards' context windows: the activation of
/// feature g at position q, by binary search inside the (layer, q) slot of entries sorted by
/// (layer, position, index). Built only for prompts that admitted an example.
struct PromptWindows {
    let dTranscoder: Int, nPos: Int
    /// Entries sorted by (layer, position, index): feature and value. `[nActive]`
    let features: [Int32], values: [Float]
    /// `slotStart[l · nPos + q] ..< slotStart[l · nPos + q + 1]`: the entries of (l, q). `[nLayers · nPos + 1]`
    let slotStart: [Int]

    init(nLayers: Int, dTranscoder: Int, nPos: Int, features: [Int32], positions: [Int32], values: [Float]) {
        self.dTranscoder = dTranscoder; self.nPos = nPos
        func slot(_ i: Int) -> Int { Int(features[i]) / dTranscoder * nPos + Int(positions[i]) }
        var sorted = true
        for i in features.indices.dropFirst() where (slot(i - 1), features[i - 1]) >= (slot(i), features[i]) { sorted = false; break }
        if sorted {
            self.features = features; self.values = values
        } else {
            let order = features.indices.sorted { (slot($0), features[$0]) < (slot($1), features[$1]) }
            self.features = order.map { features[$0] }; self.values = order.map { values[$0] }
        }
        var counts = [Int](repeating: 0, count: nLayers * nPos + 1)
        for i in features.indices { counts[slot(i) + 1] += 1 }
        for j in 1..<counts.count { counts[j] += counts[j - 1] }
        slotStart = counts
    }

    /// Feature g's activation at position q (0 when inactive there).
    func activation(feature g: Int, position q: Int) -> Float {
        let base = g / dTranscoder * nPos + q
        var lo = slotStart[base], hi = slotStart[base + 1]
        let target = Int32(g)
        while lo < hi {
            let mid = (lo + hi) / 2
            if features[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo < slotStart[base + 1] && features[lo] == target ? values[lo] : 0
    }
}
