/// A row of the adjacency: what a backward pass reads.
public enum AttributionTarget: Sendable, Equatable {
    /// The pre-activation of an active feature, `W_enc[f] · x_in[layer, pos]`.
    case feature(ActiveFeature)
    /// The demeaned logit of the `rank`-th logit target at the last position.
    case logit(rank: Int)
}
