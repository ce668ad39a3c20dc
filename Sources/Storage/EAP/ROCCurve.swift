/// The ROC curve of a ranking of edges against a ground-truth edge set, its standard AUC and the
/// pessimistic AUC of ACDC's code. Pure math on plain arrays: `circuits eap` and the corpus
/// report use the same function.
///
/// Ranking: edges by |score|, largest first. A threshold t keeps every edge with |score| ≥ t;
/// one point per distinct |score| (edges of equal |score| enter together, so ties make one
/// diagonal step, never an order-dependent staircase), plus (0, 0) before the first.
/// FPR = kept negatives / negatives, TPR = kept positives / positives.
public struct ROCCurve: Sendable, Equatable {
    /// `[nPoints]` each, from (0, 0) to (1, 1), both non-decreasing.
    public var fpr: [Double]
    public var tpr: [Double]
    /// Edges in the ground truth, and not.
    public var positives: Int
    public var negatives: Int
    /// Standard ROC AUC: the trapezoid rule over the points. Equals the Mann–Whitney U statistic
    /// P(|s⁺| > |s⁻|) + ½ P(|s⁺| = |s⁻|) over positive/negative edge pairs.
    public var auc: Double
    /// ACDC's `pessimistic_auc` (acdc/acdc_graphics.py in ArthurConmy/Automatic-Circuit-Discovery,
    /// commit bc99ace): points sorted by (x, y), area `Σ_{i≥1} (1 − x_i)(y_i − y_{i−1})`, the
    /// staircase that takes every rise at the right end of its step. A tie group holding both
    /// positives and negatives gets no credit for its diagonal, so this is ≤ `auc`, with equality
    /// when no tie group mixes the two.
    public var pessimisticAUC: Double

    public init(fpr: [Double], tpr: [Double], positives: Int, negatives: Int, auc: Double, pessimisticAUC: Double) {
        self.fpr = fpr
        self.tpr = tpr
        self.positives = positives
        self.negatives = negatives
        self.auc = auc
        self.pessimisticAUC = pessimisticAUC
    }

    /// The curve of `scores` (ranked by |·|) against `truth`, or nil when the truth has no
    /// positive or no negative edge (the curve is undefined).
    ///
    /// A NaN score ranks below every number (it is never kept before the last point).
    /// - Precondition: `scores.count == truth.count`.
    /// - Complexity: O(n log n).
    public init?(scores: [Double], truth: [Bool]) {
        precondition(scores.count == truth.count, "one truth value per score")
        let P = truth.lazy.filter { $0 }.count, N = truth.count - P
        guard P > 0, N > 0 else { return nil }
        let magnitude = scores.map { $0.isNaN ? -1 : abs($0) }
        let order = magnitude.indices.sorted { magnitude[$0] > magnitude[$1] }
        var fpr = [0.0], tpr = [0.0]
        var tp = 0, fp = 0, i = 0
        while i < order.count {
            let t = magnitude[order[i]]
            while i < order.count, magnitude[order[i]] == t {
                if truth[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            fpr.append(Double(fp) / Double(N))
            tpr.append(Double(tp) / Double(P))
        }
        self.fpr = fpr
        self.tpr = tpr
        positives = P
        negatives = N
        auc = Self.trapezoid(fpr, tpr)
        pessimisticAUC = Self.pessimistic(fpr, tpr)
    }

    /// `Σ (x_i − x_{i−1}) (y_i + y_{i−1}) / 2`.
    public static func trapezoid(_ x: [Double], _ y: [Double]) -> Double {
        var a = 0.0
        for i in x.indices.dropFirst() { a += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return a
    }

    /// ACDC's `pessimistic_auc(xs, ys)`: sort the points by x, then y; `Σ_{i≥1} (1 − x_i)(y_i − y_{i−1})`.
    public static func pessimistic(_ xs: [Double], _ ys: [Double]) -> Double {
        let order = xs.indices.sorted { (xs[$0], ys[$0]) < (xs[$1], ys[$1]) }
        var a = 0.0
        for k in order.indices.dropFirst() {
            a += (1 - xs[order[k]]) * (ys[order[k]] - ys[order[k - 1]])
        }
        return a
    }
}
