import Foundation

/// What `circuits intervene` reports of one intervened pass against its clean run.
public enum InterventionComparison {
    /// A token's probability at one position, before and after.
    public struct Logit: Sendable {
        public var token: Int
        public var before: Float
        public var after: Float
        public var change: Float { after - before }
    }

    /// One feature's activation at one position, before and after.
    public struct Feature: Sendable {
        public var layer: Int
        public var position: Int
        public var feature: Int
        public var before: Float
        public var after: Float
        public var change: Float { after - before }
    }

    /// The softmax of row `position` of `logits` `[nPos, nVocab]`.
    public static func probabilities(_ logits: [Float], position: Int, nVocab: Int) -> [Float] {
        softmax(Array(logits[(position * nVocab)..<((position + 1) * nVocab)]))
    }

    /// The `k` most probable tokens at `position` of `ranked`, each with its probability in
    /// `before` and `after` (`[nPos, nVocab]` logits both), most probable first.
    public static func topLogits(rankedBy ranked: [Float], before: [Float], after: [Float],
                                 position: Int, nVocab: Int, k: Int) -> [Logit] {
        let p = probabilities(ranked, position: position, nVocab: nVocab)
        let pb = probabilities(before, position: position, nVocab: nVocab), pa = probabilities(after, position: position, nVocab: nVocab)
        let top = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(k)
        return top.map { Logit(token: $0, before: pb[$0], after: pa[$0]) }
    }

    /// The `k` largest absolute activation changes between `before` and `after` (per layer
    /// `[nPos, dTranscoder]`), largest first, leaving out the (layer, position, feature) of `excluded`.
    public static func featureChanges(before: [[Float]], after: [[Float]], dTranscoder dT: Int,
                                      excluding excluded: [FeatureIntervention], k: Int) -> [Feature] {
        let skip = Set(excluded.map { [$0.layer, $0.position, $0.feature] })
        var changes: [Feature] = []
        for (l, (b, a)) in zip(before, after).enumerated() {
            for i in b.indices where a[i] != b[i] {
                let (pos, f) = i.quotientAndRemainder(dividingBy: dT)
                if skip.contains([l, pos, f]) { continue }
                changes.append(Feature(layer: l, position: pos, feature: f, before: b[i], after: a[i]))
            }
        }
        return Array(changes.sorted { abs($0.change) > abs($1.change) }.prefix(k))
    }
}
