import Foundation
import Storage

/// Graph-math constants, defined once (circuit-tracer 0.5.0 values).
public enum GraphConstants {
    /// Row sums of |A| are clamped at this before normalising (`normalize_matrix`).
    public static let rowSumFloor: Float = 1e-10
    /// `compute_influence` gives up after this many matrix powers (A is nilpotent, so it never should).
    public static let maxInfluenceIterations = 1000
    /// Default cumulative-influence share of nodes kept by pruning (`PruningParameters`).
    public static let defaultNodeThreshold = PruningParameters().nodeThreshold
    /// Default cumulative-influence share of edges kept by pruning (`PruningParameters`).
    public static let defaultEdgeThreshold = PruningParameters().edgeThreshold
}

/// `B = |A|` with each row divided by its sum (clamped at `GraphConstants.rowSumFloor`). `[N, N]`
public func normalizedAdjacency(_ a: [Float], n: Int) -> [Float] {
    var b = [Float](repeating: 0, count: n * n)
    b.withUnsafeMutableBufferPointer { B in
        a.withUnsafeBufferPointer { A in
            for r in 0..<n {
                var s: Float = 0
                for j in 0..<n { let v = abs(A[r * n + j]); B[r * n + j] = v; s += v }
                let inv = 1 / max(s, GraphConstants.rowSumFloor)
                for j in 0..<n { B[r * n + j] *= inv }
            }
        }
    }
    return b
}

/// Total influence on the logits, `w·B + w·B² + …` (iterated until the product is exactly 0).
///
/// - Parameters:
///   - b: the normalised adjacency `[N, N]`.
///   - weights: logit probabilities on logit nodes, 0 elsewhere. `[N]`
/// - Complexity: O(N² · longest path).
public func influence(normalized b: [Float], n: Int, weights: [Float]) throws -> [Float] {
    var current = [Float](repeating: 0, count: n)
    var next = current
    // current[N] = wᵀ · B
    gemv(&current, b, lda: n, trans: true, weights, m: n, n: n)
    var total = current
    var iterations = 0
    while current.contains(where: { $0 != 0 }) {
        guard iterations < GraphConstants.maxInfluenceIterations else {
            throw TracerError.nonFinite("influence did not converge after \(iterations) iterations (the graph has a cycle)")
        }
        gemv(&next, b, lda: n, trans: true, current, m: n, n: n)
        swap(&current, &next)
        for i in 0..<n { total[i] += current[i] }
        iterations += 1
    }
    return total
}

/// Logit probabilities placed on the logit nodes, 0 elsewhere. `[N]`
public func logitWeights(_ graph: AttributionGraph) -> [Float] {
    var w = [Float](repeating: 0, count: graph.layout.count)
    for (k, p) in graph.logitProbabilities.enumerated() { w[graph.layout.index(of: .logit(rank: k))] = p }
    return w
}

/// circuit-tracer's `find_threshold`: the score at which the descending cumulative share first
/// reaches `threshold` (index clamped to the last element). Keep `score >= returned value`.
public func cumulativeThreshold(_ scores: [Float], _ threshold: Double) -> Float {
    guard !scores.isEmpty else { return 0 }
    let sorted = scores.sorted(by: >)
    let total = sorted.reduce(0.0) { $0 + Double($1) }
    var running = 0.0
    // searchsorted(cumsum/sum, threshold, side='left'): the first index with cumulative ≥ threshold.
    for (i, s) in sorted.enumerated() {
        running += Double(s)
        if Float(running / total) >= Float(threshold) { return sorted[i] }
    }
    return sorted[sorted.count - 1]
}
