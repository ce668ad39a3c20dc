/// Influence in one pass over the adjacency, exploiting its structure: every edge goes from a
/// lower layer to a higher one (features of layer l only read sources written before
/// `resid_mid[l]`; logits read everything; error and token rows are empty). Processing rows in
/// that order — logits, then features by descending layer — each node's influence is final
/// before its own row is read, so `w·(B + B² + …)` needs one pass instead of one per path length.
///
/// Equal to `influence(normalized:n:weights:)` in exact arithmetic; the summation order differs,
/// so results agree to float32 round-off. Returns nil when an edge breaks the order (a graph not
/// made by this engine), so the caller can fall back to power iteration.
struct LayeredInfluence {
    /// Influence per node, `Σ_{k≥1} w·Bᵏ`. `[N]`
    var influence: [Float]
    /// `Σ_{j ∈ errors} B[i, j]` per row (for the completeness score). `[N]`
    var errorShare: [Float]

    /// - Parameters:
    ///   - adjacency: the graph's adjacency.
    ///   - rowOrder: stored rows with possible non-zeros, targets before their sources.
    ///   - kept: when given, rows and columns of dropped nodes count as zero (the pruned matrix).
    ///   - columns: when given, the only columns that can be non-zero (the kept nodes), ascending.
    init?(adjacency: Adjacency, weights w: [Float], rowOrder: [Int], kept: [Bool]? = nil,
          columns: [Int]? = nil, errorRange: Range<Int>) {
        let n = adjacency.layout.count
        var influence = [Float](repeating: 0, count: n)
        var errorShare = [Float](repeating: 0, count: n)
        var done = [Bool](repeating: false, count: n)
        let layered = adjacency.storage.withUnsafeBufferPointer { A -> Bool in
            for i in rowOrder {
                done[i] = true
                if let kept, !kept[i] { continue }
                guard let slot = adjacency.slot(ofRow: i) else { continue }   // an empty row
                let row = A.baseAddress! + slot * n
                // Row sum of |A| over the (kept) columns, clamped like normalize_matrix.
                var sum: Float = 0
                if let columns {
                    for j in columns { sum += abs(row[j]) }
                } else if let kept {
                    for j in 0..<n where kept[j] { sum += abs(row[j]) }
                } else {
                    for j in 0..<n { sum += abs(row[j]) }
                }
                let inv = 1 / max(sum, GraphConstants.rowSumFloor)
                var e: Float = 0
                for j in errorRange where kept?[j] ?? true { e += abs(row[j]) }
                errorShare[i] = e * inv
                let y = (influence[i] + w[i]) * inv
                guard y != 0 else { continue }
                if let columns {
                    for j in columns where row[j] != 0 {
                        if done[j] { return false }
                        influence[j] += y * abs(row[j])
                    }
                } else {
                    for j in 0..<n where row[j] != 0 && (kept?[j] ?? true) {
                        if done[j] { return false }
                        influence[j] += y * abs(row[j])
                    }
                }
            }
            return true
        }
        guard layered else { return nil }
        self.influence = influence
        self.errorShare = errorShare
    }

    /// Logit rows, then feature rows by descending layer: the order edges never go against.
    static func rowOrder(_ graph: AttributionGraph) -> [Int] {
        let layout = graph.layout
        let features = layout.featureRange.sorted {
            let a = graph.feature(selected: $0).layer, b = graph.feature(selected: $1).layer
            return a != b ? a > b : $0 < $1
        }
        return Array(layout.logitRange) + features
    }
}

/// circuit-tracer's `find_threshold` over a multiset given by its non-zero values plus a count
/// of zeros, without sorting all of it: a histogram over the top bits of the (non-negative)
/// float bit patterns finds the bucket where the descending cumulative share crosses
/// `threshold`, and only that bucket is sorted.
///
/// - Parameters:
///   - forEach: calls its argument once per non-zero value (values must be ≥ 0); called twice.
///   - zeros: how many zero values the multiset also holds.
func cumulativeThreshold(forEach: ((Float) -> Void) -> Void, zeros: Int, threshold: Double) -> Float {
    let bits = 12, shift = 32 - 1 - bits      // sign bit is 0 for non-negative floats
    var counts = [Int](repeating: 0, count: 1 << bits)
    var sums = [Double](repeating: 0, count: 1 << bits)
    var total = 0.0, nonzero = 0
    forEach { v in
        let b = Int(v.bitPattern >> UInt32(shift))
        counts[b] += 1
        sums[b] += Double(v)
        total += Double(v)
        nonzero += 1
    }
    guard nonzero > 0 else { return 0 }
    var running = 0.0
    var bucket = -1
    for b in stride(from: (1 << bits) - 1, through: 0, by: -1) where counts[b] > 0 {
        if Float((running + sums[b]) / total) >= Float(threshold) { bucket = b; break }
        running += sums[b]
    }
    if bucket < 0 {
        // The cumulative share never reaches the threshold (rounding at 1.0): the index clamps to
        // the last element, a zero when there are zeros, else the smallest value.
        if zeros > 0 { return 0 }
        var smallest = Float.infinity
        forEach { smallest = min(smallest, $0) }
        return smallest
    }
    var members: [Float] = []
    members.reserveCapacity(counts[bucket])
    forEach { v in if Int(v.bitPattern >> UInt32(shift)) == bucket { members.append(v) } }
    members.sort(by: >)
    for v in members {
        running += Double(v)
        if Float(running / total) >= Float(threshold) { return v }
    }
    return members[members.count - 1]
}
