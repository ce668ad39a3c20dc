/// The salient logits a graph explains, and the directions their rows read.
public struct LogitTargets: Sendable {
    public var targets: [LogitTarget]
    /// Demeaned unembedding columns `W_U[:, v] − mean_v' W_U[:, v']`, one per target. `[nLogits, dModel]`
    public var directions: [Float]

    /// circuit-tracer's selection: the top `maxLogits` tokens of the last position's softmax
    /// (softcapped logits where the model caps them), truncated after the first whose
    /// cumulative probability reaches `desiredProbability`.
    ///
    /// - Parameters:
    ///   - logits: last-position logits before any final softcap. `[nVocab]`
    ///   - unembedding: `[dModel, nVocab]`.
    public init(logits: [Float], unembedding: [Float], dModel: Int, softcap: Float?, maxLogits: Int,
                desiredProbability: Double, tokenText: (Int) -> String) {
        let nVocab = logits.count
        let capped = softcap.map { cap in logits.map { cap * tanh($0 / cap) } } ?? logits
        let probabilities = softmax(capped)
        // torch.topk: descending, ties → lower index first.
        let order = (0..<nVocab).sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
        let top = Array(order.prefix(max(0, min(maxLogits, nVocab))))
        // cutoff = searchsorted(cumsum(top_p), desired, left) + 1
        var cumulative: Float = 0
        var cutoff = top.count
        for (i, v) in top.enumerated() {
            cumulative += probabilities[v]
            if Double(cumulative) >= desiredProbability { cutoff = i + 1; break }
        }
        let chosen = Array(top.prefix(cutoff))
        targets = chosen.map { LogitTarget(tokenId: $0, token: tokenText($0), probability: probabilities[$0]) }
        // mean over the vocabulary of W_U[i, :]
        var mean = [Double](repeating: 0, count: dModel)
        for i in 0..<dModel {
            var s = 0.0
            for v in 0..<nVocab { s += Double(unembedding[i * nVocab + v]) }
            mean[i] = s / Double(nVocab)
        }
        var directions = [Float](repeating: 0, count: chosen.count * dModel)
        for (k, v) in chosen.enumerated() {
            for i in 0..<dModel { directions[k * dModel + i] = Float(Double(unembedding[i * nVocab + v]) - mean[i]) }
        }
        self.directions = directions
    }
}

/// Numerically stable softmax in float32 (max subtracted, sum accumulated in Double).
func softmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    let e = x.map { exp($0 - m) }
    let s = e.reduce(0.0) { $0 + Double($1) }
    return e.map { Float(Double($0) / s) }
}

import Foundation
