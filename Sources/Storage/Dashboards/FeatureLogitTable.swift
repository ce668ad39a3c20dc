/// Per feature, the tokens whose logits its decoder direction raises and lowers most (the
/// direct effect through the unembedding, `FeatureLogits` in the engine defines it for PLT and
/// CLT). `[nLayers, dTranscoder, k]` each, row-major; `bottom*` most negative first.
public struct FeatureLogitTable: Sendable, Equatable {
    public var nLayers: Int, dTranscoder: Int, k: Int
    public var topIDs: [Int32], topValues: [Float]
    public var bottomIDs: [Int32], bottomValues: [Float]
    /// The string of every token id named above.
    public var tokenStrings: [Int32: String]

    public init(nLayers: Int, dTranscoder: Int, k: Int, topIDs: [Int32], topValues: [Float],
                bottomIDs: [Int32], bottomValues: [Float], tokenStrings: [Int32: String]) {
        self.nLayers = nLayers; self.dTranscoder = dTranscoder; self.k = k
        self.topIDs = topIDs; self.topValues = topValues; self.bottomIDs = bottomIDs; self.bottomValues = bottomValues
        self.tokenStrings = tokenStrings
    }

    /// The (token, value) pairs of feature `g` (= layer · dTranscoder + feature).
    public func top(_ g: Int) -> [(token: String, value: Float)] { row(g, topIDs, topValues) }
    public func bottom(_ g: Int) -> [(token: String, value: Float)] { row(g, bottomIDs, bottomValues) }

    private func row(_ g: Int, _ ids: [Int32], _ values: [Float]) -> [(token: String, value: Float)] {
        (g * k..<(g + 1) * k).map { (tokenStrings[ids[$0]] ?? "<\(ids[$0])>", values[$0]) }
    }
}
