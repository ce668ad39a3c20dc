import Foundation

/// Spearman's rank correlation of two equally long samples: Pearson's correlation of their
/// ranks, tied values sharing their mean rank. nil for fewer than 2 values or a constant sample.
public func spearmanCorrelation(_ a: [Double], _ b: [Double]) -> Double? {
    precondition(a.count == b.count, "samples of different lengths")
    guard a.count >= 2 else { return nil }
    let ra = ranks(a), rb = ranks(b)
    let n = Double(a.count), ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in ra.indices {
        let x = ra[i] - ma, y = rb[i] - mb
        sab += x * y; saa += x * x; sbb += y * y
    }
    guard saa > 0, sbb > 0 else { return nil }
    return sab / (saa * sbb).squareRoot()
}

/// Ranks from 1, ties given the mean of the ranks they span.
func ranks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var r = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count, x[order[j + 1]] == x[order[i]] { j += 1 }
        let mean = Double(i + j) / 2 + 1
        for k in i...j { r[order[k]] = mean }
        i = j + 1
    }
    return r
}
