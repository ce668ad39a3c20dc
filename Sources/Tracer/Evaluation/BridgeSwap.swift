import Foundation
import Storage

/// A two-hop prompt's bridge entity swapped for another by intervention (the circuit-tracer
/// notebook's "Dallas → Austin" story): the features that respond to the prompt's bridge X are
/// ablated, then those that respond to another entity Y are set where X's were active.
/// Success: the model now answers Y's answer.
public struct BridgeSwap: Sendable {
    /// Features that respond to X: set to 0 at every position where they are active.
    public var bridgeFeatures: [FeatureID]
    /// Features that respond to Y, each with its value (its mean activation over Y's prompts where
    /// active): set at the positions where X's features were active, or the last position when
    /// none was.
    public var targetFeatures: [(feature: FeatureID, value: Float)]
    /// The answer through X (the prompt's own), a token id.
    public var answerToken: Int
    /// The answer through Y, a token id.
    public var targetAnswerToken: Int

    public init(bridgeFeatures: [FeatureID], targetFeatures: [(feature: FeatureID, value: Float)], answerToken: Int, targetAnswerToken: Int) {
        self.bridgeFeatures = bridgeFeatures
        self.targetFeatures = targetFeatures
        self.answerToken = answerToken
        self.targetAnswerToken = targetAnswerToken
    }
}

/// What the ablation and the swap did to the last position's prediction.
public struct BridgeSwapOutcome: Sendable, Equatable {
    /// Probability of the prompt's answer, unpatched.
    public var answerProbability: Double
    /// Probability of the prompt's answer with X's features ablated.
    public var ablatedAnswerProbability: Double
    /// The top token after the swap, and its probability.
    public var swappedTopToken: Int
    public var swappedTopProbability: Double
    /// The swapped prediction is Y's answer.
    public var success: Bool
    /// Interventions made: ablations, then the swap's settings.
    public var ablations: Int
    public var settings: Int
}

extension ReplacementModel {
    /// Ablates `swap.bridgeFeatures` and, separately, swaps them for `swap.targetFeatures`
    /// (both `iterative`: the real model downstream), on `clean`'s prompt.
    public func bridgeSwap(_ clean: CleanRun, _ swap: BridgeSwap) throws -> BridgeSwapOutcome {
        let T = clean.nPos, dT = transcoders.dTranscoder, V = model.config.nVocab
        for id in swap.bridgeFeatures + swap.targetFeatures.map(\.feature) where !(0..<transcoders.nLayers).contains(id.layer) || !(0..<dT).contains(id.feature) {
            throw TracerError.invalidArgument("bridge swap feature \(id) is outside the transcoders (\(transcoders.nLayers) layers × \(dT) features)")
        }
        for t in [swap.answerToken, swap.targetAnswerToken] where !(0..<V).contains(t) {
            throw TracerError.tokenOutOfRange(t, vocabulary: V)
        }
        var ablations: [FeatureIntervention] = [], positions = Set<Int>()
        for id in swap.bridgeFeatures {
            for p in 1..<T where clean.activations[id.layer][p * dT + id.feature] != 0 {
                ablations.append(FeatureIntervention(layer: id.layer, position: p, feature: id.feature, value: 0))
                positions.insert(p)
            }
        }
        if positions.isEmpty { positions = [T - 1] }
        let settings = swap.targetFeatures.flatMap { t in
            positions.sorted().map { FeatureIntervention(layer: t.feature.layer, position: $0, feature: t.feature.feature, value: t.value) }
        }
        let outcomes = try intervene(clean, [ablations, ablations + settings], mode: .iterative)
        let before = lastPositionProbabilities(clean.logits, nPos: T, nVocab: V)
        let ablated = lastPositionProbabilities(outcomes[0].logits, nPos: T, nVocab: V)
        let swapped = lastPositionProbabilities(outcomes[1].logits, nPos: T, nVocab: V)
        let top = swapped.indices.max { swapped[$0] != swapped[$1] ? swapped[$0] < swapped[$1] : $0 > $1 }!
        return BridgeSwapOutcome(answerProbability: before[swap.answerToken], ablatedAnswerProbability: ablated[swap.answerToken],
                                 swappedTopToken: top, swappedTopProbability: swapped[top], success: top == swap.targetAnswerToken,
                                 ablations: ablations.count, settings: settings.count)
    }
}

/// Softmax of the last position's logits `[nVocab]`, in Double.
func lastPositionProbabilities(_ logits: [Float], nPos: Int, nVocab: Int) -> [Double] {
    let last = logits[((nPos - 1) * nVocab)..<(nPos * nVocab)].map(Double.init)
    let peak = last.max() ?? 0
    let e = last.map { exp($0 - peak) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}
