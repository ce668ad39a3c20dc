/// One feature set to a value at one position: circuit-tracer's intervention tuple
/// `(layer, position, feature, value)`. Positions count the BOS at 0 and are resolved
/// (non-negative) here; the CLI and job specs resolve `-1` and `all` against the prompt.
public struct FeatureIntervention: Equatable, Sendable, CustomStringConvertible {
    public var layer: Int
    public var position: Int
    public var feature: Int
    /// The post-activation value the feature is given.
    public var value: Float

    public init(layer: Int, position: Int, feature: Int, value: Float) {
        self.layer = layer
        self.position = position
        self.feature = feature
        self.value = value
    }

    public var description: String { "L\(layer)/F\(feature)@\(position)=\(value)" }
}

/// What an intervened forward pass recomputes downstream of the changed features.
public enum InterventionMode: Equatable, Sendable, CustomStringConvertible {
    /// circuit-tracer `constrained_layers=None, freeze_attention=False`: the real model runs on,
    /// every knock-on effect included; the deltas are re-based at each layer on the current
    /// activations and ride on the real MLP outputs.
    case iterative
    /// `constrained_layers=None, freeze_attention=True`: as `iterative` with the attention
    /// patterns held at the clean run.
    case frozenAttention
    /// `constrained_layers=range(a, b), freeze_attention=True`: patterns frozen in every layer;
    /// norm scales frozen only when the range covers every layer; MLP outputs frozen at the
    /// clean run inside the range (plus a skip transcoder's change), the real MLP outside it;
    /// deltas from the clean activations, added only inside the range (a CLT's decoder parts
    /// into other layers dropped). Direct effects only when the range is every layer.
    case constrained(Range<Int>)
    /// The local replacement model the attribution graph describes: patterns and norm scales
    /// frozen at the clean run, every MLP replaced by its transcoder (activation function
    /// applied) plus the clean run's error, frozen. Set features hold their value; every other
    /// feature follows its input through the transcoder.
    case replacement

    /// The names the CLI and files use: `iterative`, `frozen-attention`, `constrained`,
    /// `replacement` (the constrained range given separately).
    public static let names = ["iterative", "frozen-attention", "constrained", "replacement"]

    public var description: String {
        switch self {
        case .iterative: return "iterative"
        case .frozenAttention: return "frozen-attention"
        case let .constrained(r): return "constrained \(r.lowerBound):\(r.upperBound)"
        case .replacement: return "replacement"
        }
    }
}

/// What an intervened pass records besides the logits.
public struct InterventionRecording: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Every layer's transcoder activations `[nPos, dTranscoder]` as the pass computes them.
    public static let activations = InterventionRecording(rawValue: 1)
    /// The residual stream after every layer `[nPos, dModel]`.
    public static let residuals = InterventionRecording(rawValue: 2)
}

/// The result of one intervened forward pass.
public struct InterventionOutcome: Sendable {
    /// Logits of every position, final softcap applied. `[nPos, nVocab]`
    public var logits: [Float]
    /// Per layer, the transcoder activations `[nPos, dTranscoder]` recorded during the pass:
    /// each layer's transcoder on its input as it is in this pass, before this layer's own
    /// intervention replaces values; BOS row zero. Empty unless recorded.
    public var activations: [[Float]]
    /// Per layer, the residual stream after the block `[nPos, dModel]`. Empty unless recorded.
    public var residuals: [[Float]]
}
