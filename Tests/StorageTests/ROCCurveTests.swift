// Tests of Sources/Storage/EAP/ROCCurve.swift: the standard AUC against the Mann–Whitney U
// statistic, hand examples with ties, ACDC's own checks of pessimistic_auc, ranking by |score|.
import Foundation
import Storage
import Testing

@Suite struct ROCCurveTests {
    /// P(|s⁺| > |s⁻|) + ½ P(|s⁺| = |s⁻|) over every positive/negative pair: the Mann–Whitney U
    /// statistic divided by P·N, computed pair by pair.
    static func mannWhitney(_ scores: [Double], _ truth: [Bool]) -> Double {
        var u = 0.0, n = 0
        for i in scores.indices where truth[i] {
            for j in scores.indices where !truth[j] {
                let a = abs(scores[i]), b = abs(scores[j])
                u += a > b ? 1 : a == b ? 0.5 : 0
                n += 1
            }
        }
        return u / Double(n)
    }

    /// Seeded random scores of both signs, rounded to few values so that ties are common.
    @Test(arguments: [(1, 40, 0.3), (2, 200, 0.1), (3, 500, 0.5), (4, 7, 0.5)])
    func aucEqualsMannWhitneyU(seed: UInt64, count: Int, positiveShare: Double) throws {
        var rng = LCG(seed)
        var scores: [Double] = [], truth: [Bool] = []
        for _ in 0..<count {
            let positive = rng.unit() < positiveShare
            // Positives score higher on average; rounding to 0.1 makes ties.
            let v = ((rng.unit() + (positive ? 0.4 : 0)) * 10).rounded() / 10
            scores.append(rng.unit() < 0.5 ? -v : v)
            truth.append(positive)
        }
        if !truth.contains(true) { truth[0] = true }
        if !truth.contains(false) { truth[1] = false }
        let c = try #require(ROCCurve(scores: scores, truth: truth))
        let u = Self.mannWhitney(scores, truth)
        #expect(abs(c.auc - u) < 1e-12, "seed \(seed): trapezoid \(c.auc) vs Mann–Whitney \(u)")
        #expect(c.pessimisticAUC <= c.auc + 1e-12)
        #expect(c.fpr.first == 0 && c.tpr.first == 0 && c.fpr.last == 1 && c.tpr.last == 1)
        #expect(zip(c.fpr, c.fpr.dropFirst()).allSatisfy { $0 <= $1 } && zip(c.tpr, c.tpr.dropFirst()).allSatisfy { $0 <= $1 })
        // One point per distinct |score|, plus the origin.
        #expect(c.fpr.count == Set(scores.map(abs)).count + 1)
    }

    /// |scores| 3 2 2 1, truth T T F F: points (0,0) (0,½) (½,1) (1,1).
    /// Trapezoid: ½·(½+1)/2 + ½·1 = 0.875 (the tie at 2 counts ½); pessimistic: 1·½ + ½·½ = 0.75.
    @Test func handExampleWithATie() throws {
        let c = try #require(ROCCurve(scores: [3, -2, 2, 1], truth: [true, true, false, false]))
        #expect(c.fpr == [0, 0, 0.5, 1] && c.tpr == [0, 0.5, 1, 1])
        #expect(c.auc == 0.875)
        #expect(c.pessimisticAUC == 0.75)
        #expect(c.positives == 2 && c.negatives == 2)
    }

    /// Every edge tied: one diagonal step; AUC ½, pessimistic 0 (ACDC's `[0, 1], [0, 1]` case).
    @Test func allTied() throws {
        let c = try #require(ROCCurve(scores: [1, -1, 1, 1, 1], truth: [true, false, false, true, false]))
        #expect(c.fpr == [0, 1] && c.tpr == [0, 1])
        #expect(c.auc == 0.5 && c.pessimisticAUC == 0)
    }

    /// Ranked by magnitude: a large negative score is kept first. A perfect ranking without ties
    /// has AUC 1 by both definitions; the reverse has 0.
    @Test func rankingIsByMagnitude() throws {
        let perfect = try #require(ROCCurve(scores: [-5, 0.1, 4, -0.2], truth: [true, false, true, false]))
        #expect(perfect.auc == 1 && perfect.pessimisticAUC == 1)
        let reversed = try #require(ROCCurve(scores: [-5, 0.1, 4, -0.2], truth: [false, true, false, true]))
        #expect(reversed.auc == 0 && reversed.pessimisticAUC == 0)
    }

    /// NaN ranks below every number.
    @Test func nanRanksLast() throws {
        let c = try #require(ROCCurve(scores: [.nan, 0, 1], truth: [false, false, true]))
        #expect(c.auc == 1)
    }

    @Test func undefinedWithoutPositivesOrNegatives() {
        #expect(ROCCurve(scores: [1, 2], truth: [false, false]) == nil)
        #expect(ROCCurve(scores: [1, 2], truth: [true, true]) == nil)
    }

    /// The asserts under `pessimistic_auc` in ACDC's acdc/acdc_graphics.py (commit bc99ace), and
    /// its sort of unsorted input.
    @Test(arguments: [
        ([0, 1], [0, 1], 0.0),
        ([0, 0.5, 1], [0, 0.5, 1], 0.25),
        ([0, 0.25, 1], [0, 0.25, 1], 0.25 * 0.75),
        ([0, 0.25, 0.5, 1], [0, 0.25, 0.5, 1], 5.0 / 16),
        ([0, 0.25, 0.75, 1], [0, 0.25, 0.5, 1], 4.0 / 16),
        ([1, 0, 0.25, 0.75], [1, 0, 0.25, 0.5], 4.0 / 16),
    ] as [([Double], [Double], Double)])
    func pessimisticMatchesACDC(xs: [Double], ys: [Double], expected: Double) {
        #expect(ROCCurve.pessimistic(xs, ys) == expected, "\(xs) \(ys)")
    }
}

/// A tiny seeded generator (numerical recipes LCG), independent of the code under test.
struct LCG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func unit() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}
