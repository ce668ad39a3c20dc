/// How much of each feature's activity a dashboard keeps: the `topK` highest-activating
/// contexts, `samplesPerBin` sampled contexts per histogram bin (from which the quantile groups
/// are drawn), and windows of `windowBefore` tokens before and `windowAfter` after the position.
/// Storage per feature is bounded by `(topK + samplesPerBin · ActivationHistogram.binCount) ·
/// (windowBefore + 1 + windowAfter)` tokens, whatever the corpus size.
public struct DashboardParameters: Sendable, Equatable, Codable {
    public var topK: Int
    public var samplesPerBin: Int
    public var windowBefore: Int
    public var windowAfter: Int
    /// Tokens kept per side of the logit table (`FeatureLogitTable`).
    public static let logitCount = 10

    public init(topK: Int = 20, samplesPerBin: Int = 2, windowBefore: Int = 7, windowAfter: Int = 2) {
        self.topK = topK; self.samplesPerBin = samplesPerBin; self.windowBefore = windowBefore; self.windowAfter = windowAfter
    }
}
