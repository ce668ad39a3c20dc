/// The `/dashboards` group as columns, the layout of the file (`DashboardSchema`): what a worker
/// builds for a task (`TaskDashboards`), what `FeatureDashboardsFile` writes and reads, and what
/// `FeatureDashboards` (the merge's form) converts from and to. Maxima and histograms are sparse:
/// only features seen and bins with a count.
public struct DashboardColumns: Sendable, Equatable {
    public var nLayers: Int, dTranscoder: Int
    public var parameters: DashboardParameters
    /// Features seen (g = layer · dTranscoder + index, ascending) and their largest activation. `[nSeen]`
    public var seenFeature: [Int64] = [], maxActivation: [Float] = []
    /// Non-zero histogram cells, `g · nBins + bin` ascending, and their counts. `[nCells]`
    public var histogramIndex: [Int64] = [], histogramCount: [Int64] = []
    /// Examples by feature, the top-k first (group −1, best first), then samples by bin (group = bin). `[n]`
    public var exampleFeature: [Int64] = [], exampleGroup: [Int32] = [], exampleActivation: [Float] = []
    public var examplePrompt: [Int64] = [], examplePosition: [Int32] = [], exampleKey: [Int64] = []
    public var windowStart: [Int32] = [], windowOffset: [Int64] = [0]
    /// The windows' token ids and the feature's activation at each. `[Σ width]`
    public var windowToken: [Int32] = [], windowActivation: [Float] = []
    /// The text of every token id the windows (and logits) name.
    public var vocabulary: [Int32: String] = [:]
    public var logits: FeatureLogitTable?

    public init(nLayers: Int, dTranscoder: Int, parameters: DashboardParameters) {
        self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.parameters = parameters
    }

    public var exampleCount: Int { exampleFeature.count }

    /// Appends one example with its window.
    mutating func append(feature g: Int, group: Int, activation: Float, prompt: Int64, position: Int32, key: UInt64,
                         windowStart start: Int32, tokens: some Collection<Int32>, activations: some Collection<Float>) {
        exampleFeature.append(Int64(g)); exampleGroup.append(Int32(group)); exampleActivation.append(activation)
        examplePrompt.append(prompt); examplePosition.append(position); exampleKey.append(Int64(bitPattern: key))
        windowStart.append(start)
        windowToken.append(contentsOf: tokens); windowActivation.append(contentsOf: activations)
        windowOffset.append(Int64(windowToken.count))
    }
}
