import Foundation

/// The fixed, log-spaced bins of the feature activation histograms: half-octaves from 2⁻¹⁰ to
/// 2¹⁰ (edges `e_j = 2^((j − 20)/2)`, j = 0…40), plus an underflow bin `(−∞, 2⁻¹⁰)` (bin 0, which
/// also holds the negative values a TopK transcoder can keep) and an overflow bin `[2¹⁰, ∞)`
/// (bin 41). Bin j (1…40) is `[e_{j−1}, e_j)`, i.e. `floor(2·log2 v) + 21`, computed exactly from
/// the float's bits. The bins do not depend on the data, so histograms of tasks add up exactly.
public enum ActivationHistogram {
    public static let binCount = 42
    /// Half-octaves below 1 covered by bins 1…20 (2⁻¹⁰ is the lower edge of bin 1).
    static let offset = 21

    /// The bin of activation `v`.
    @inlinable
    public static func bin(_ v: Float) -> Int {
        guard v > 0 else { return 0 }
        let bits = v.bitPattern
        let exponent = Int((bits >> 23) & 0xff) - 127
        // √2 = 1.0110101000001001111001100…₂: the mantissas ≥ 0x3504F4 are ≥ √2 (the float nearest √2 is below it).
        let half = (bits & 0x7f_ffff) >= 0x35_04F4 ? 1 : 0
        return min(max(2 * exponent + half + 21, 0), binCount - 1)
    }

    /// The bins' edges: `[binCount − 1]` values, from 2⁻¹⁰ to 2¹⁰.
    public static var edges: [Double] { (0..<(binCount - 1)).map { pow(2, Double($0 - 20) / 2) } }

    /// The lower and upper edge of bin `b` (open bins: the nearest finite edge doubled or halved).
    public static func range(of b: Int) -> (lower: Double, upper: Double) {
        let e = edges
        switch b {
        case 0: return (0, e[0])
        case binCount - 1: return (e[e.count - 1], 2 * e[e.count - 1])
        default: return (e[b - 1], e[b])
        }
    }
}
