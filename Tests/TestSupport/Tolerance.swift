/// Largest violation of `|a − b| ≤ absScale·max|b| + rel·|b|` over two arrays, with its index.
///
/// The reference README's tolerance for float32 round-off: small entries carry the same absolute
/// error as large ones, so the absolute part scales with the largest entry of the golden array.
public struct Closeness: CustomStringConvertible, Sendable {
    public let maxAbsDiff: Double
    public let maxRef: Double
    public let worstIndex: Int
    public let worstExcess: Double
    public let countMismatch: Bool
    public var ok: Bool { !countMismatch && worstExcess <= 0 }
    public var description: String {
        countMismatch ? "length mismatch"
            : "max|Δ| = \(maxAbsDiff) (max|ref| = \(maxRef)), worst at index \(worstIndex) exceeds the bound by \(max(worstExcess, 0))"
    }
}

public func closeness(_ actual: [Float], _ expected: [Float], absScale: Double, rel: Double) -> Closeness {
    guard actual.count == expected.count else {
        return Closeness(maxAbsDiff: .infinity, maxRef: 0, worstIndex: -1, worstExcess: .infinity, countMismatch: true)
    }
    let maxRef = expected.reduce(0.0) { max($0, abs(Double($1))) }
    var maxDiff = 0.0, worst = -Double.infinity, worstIndex = -1
    for i in actual.indices {
        let a = Double(actual[i]), b = Double(expected[i])
        let diff = a.isNaN || b.isNaN ? Double.infinity : abs(a - b)
        maxDiff = max(maxDiff, diff)
        let excess = diff - (absScale * maxRef + rel * abs(b))
        if excess > worst { worst = excess; worstIndex = i }
    }
    return Closeness(maxAbsDiff: maxDiff, maxRef: maxRef, worstIndex: worstIndex, worstExcess: worst, countMismatch: false)
}
