/// The terms `v·B, v·B², …` of the Neumann series the pruning sums (`influence`), one at a time:
/// `B` is the graph's normalised adjacency (`|A|`, rows divided by their sums). Term `k` is
/// the weight that reaches each node through paths of exactly `k` edges from the nodes `v`
/// weighs. The graph is a DAG, so the terms reach zero after at most the longest path.
///
/// - Parameters:
///   - start: `v`, a weight per node. `[N]`
///   - body: called with `k` (from 1) and term `k` `[N]`, until a term is all zero.
/// - Complexity: O(longest path · stored rows · N).
func forEachNeumannTerm(_ adjacency: Adjacency, start: [Float], _ body: (_ k: Int, _ term: [Float]) -> Void) {
    let layout = adjacency.layout, n = layout.count
    let rows = Adjacency.storedNodes(layout)
    // 1 / Σ_j |A[i, j]| per stored row, clamped like `normalizedAdjacency`.
    let inverseSums: [Float] = rows.map { i in
        let s = adjacency.withRow(i) { r in r.reduce(0) { $0 + abs($1) } } ?? 0
        return 1 / max(s, GraphConstants.rowSumFloor)
    }
    var current = start
    var k = 0
    while k < GraphConstants.maxInfluenceIterations {
        var next = [Float](repeating: 0, count: n)
        for (slot, i) in rows.enumerated() where current[i] != 0 {
            let scale = current[i] * inverseSums[slot]
            adjacency.withRow(i) { r in for j in 0..<n where r[j] != 0 { next[j] += scale * abs(r[j]) } }
        }
        guard next.contains(where: { $0 != 0 }) else { return }
        k += 1
        body(k, next)
        current = next
    }
}
