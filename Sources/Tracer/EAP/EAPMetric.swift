import Foundation

/// The task metric L that EAP differentiates and exact patching measures, read from the model's
/// output logits at the last position (after Gemma-2's final softcap).
public enum EAPMetric: String, Sendable, CaseIterable {
    /// `logit[answer] − logit[wrong]`.
    case logitDiff = "logit-diff"
    /// `softmax(logits)[answer]`.
    case prob
    /// `KL(p_clean ‖ p)`, the divergence of the run's next-token distribution from the clean
    /// run's. Zero with zero gradient on the clean run itself, so plain EAP scores are all 0 with
    /// it; EAP-IG's gradients, taken between corrupt and clean, are not.
    case kl

    /// L of `logits` `[nVocab]`; `cleanLogits` `[nVocab]` is needed by `.kl` only.
    public func value(logits: [Float], pair: PromptPair, cleanLogits: [Float]) -> Double {
        switch self {
        case .logitDiff: return Double(logits[pair.answer]) - Double(logits[pair.wrong])
        case .prob: return Self.softmax(logits)[pair.answer]
        case .kl:
            let p = Self.softmax(cleanLogits), q = Self.softmax(logits)
            var kl = 0.0
            for v in p.indices where p[v] > 0 { kl += p[v] * (log(p[v]) - log(max(q[v], .leastNormalMagnitude))) }
            return kl
        }
    }

    /// ∂L/∂logits `[nVocab]` at `logits`.
    public func gradient(logits: [Float], pair: PromptPair, cleanLogits: [Float]) -> [Float] {
        var g = [Float](repeating: 0, count: logits.count)
        switch self {
        case .logitDiff:
            g[pair.answer] += 1
            g[pair.wrong] -= 1
        case .prob:
            // ∂p_a/∂z_v = p_a (δ_av − p_v)
            let p = Self.softmax(logits), pa = p[pair.answer]
            for v in g.indices { g[v] = Float(-pa * p[v]) }
            g[pair.answer] += Float(pa)
        case .kl:
            // ∂KL(p‖q)/∂z_v = q_v − p_v   (q = softmax(z))
            let p = Self.softmax(cleanLogits), q = Self.softmax(logits)
            for v in g.indices { g[v] = Float(q[v] - p[v]) }
        }
        return g
    }

    /// Softmax in float64.
    static func softmax(_ z: [Float]) -> [Double] {
        let m = Double(z.max() ?? 0)
        var e = z.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        for i in e.indices { e[i] /= s }
        return e
    }
}
