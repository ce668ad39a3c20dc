import Foundation
import Storage
import Tokenizers

/// A model, its transcoders and its tokenizer, loaded once and used for many prompts.
public final class TraceSession: Sendable {
    public let replacement: ReplacementModel
    public let tokenizer: Tokenizer
    public let modelDirectory: URL
    public let transcoderDirectory: URL

    public init(modelDirectory: URL, transcoderDirectory: URL) throws {
        self.modelDirectory = modelDirectory
        self.transcoderDirectory = transcoderDirectory
        replacement = try ReplacementModel(modelDirectory: modelDirectory, transcoderDirectory: transcoderDirectory)
        tokenizer = try Tokenizer(modelDirectory: modelDirectory)
    }

    public var config: ModelConfig { replacement.model.config }

    /// The ids circuit-tracer attributes for `prompt`: tokenized without special tokens, BOS
    /// prepended unless already special; checked against the vocabulary and context.
    public func tokens(for prompt: String) throws -> [Int] {
        let ids = try tokenizer.attributedIds(for: prompt)
        guard ids.count > 1 || !prompt.isEmpty else { throw TracerError.emptyPrompt }
        guard ids.count <= config.nCtx else { throw TracerError.promptTooLong(tokens: ids.count, context: config.nCtx) }
        for id in ids where id >= config.nVocab { throw TracerError.tokenOutOfRange(id, vocabulary: config.nVocab) }
        return ids
    }

    /// Decoded text of one token, as circuit-tracer labels tokens.
    public func tokenText(_ id: Int) -> String { tokenizer.decode([id]) }

    /// Attributes, prunes and scores `tokens` (BOS included).
    ///
    /// - Parameter keepingForward: keep the forward pass in the result (`TraceResult.forward`)
    ///   for the graph's evaluation.
    public func trace(tokens: [Int], options: AttributionOptions = AttributionOptions(),
                      nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                      edgeThreshold: Double = GraphConstants.defaultEdgeThreshold,
                      keepingForward: Bool = false, progress: ((Int, Int) -> Void)? = nil) throws -> TraceResult {
        var timings = PhaseTimings()
        var forward: ForwardRecord?
        if keepingForward {
            let start = ContinuousClock.now
            forward = try replacement.model.forward(tokens: tokens)
            timings.forward = (ContinuousClock.now - start).seconds
        }
        let graph = try replacement.attribute(tokens: tokens, options: options, tokenText: tokenText, timings: &timings,
                                              progress: progress, record: forward)
        let start = ContinuousClock.now
        let (pruning, scores) = try analyze(graph, nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
        timings.pruning = (ContinuousClock.now - start).seconds
        return TraceResult(graph: graph, pruning: pruning, scores: scores, timings: timings,
                           nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold, forward: forward)
    }

    /// `trace(tokens:)` of `tokens(for: prompt)`.
    public func trace(prompt: String, options: AttributionOptions = AttributionOptions(),
                      nodeThreshold: Double = GraphConstants.defaultNodeThreshold,
                      edgeThreshold: Double = GraphConstants.defaultEdgeThreshold,
                      keepingForward: Bool = false, progress: ((Int, Int) -> Void)? = nil) throws -> TraceResult {
        try trace(tokens: try tokens(for: prompt), options: options, nodeThreshold: nodeThreshold,
                  edgeThreshold: edgeThreshold, keepingForward: keepingForward, progress: progress)
    }
}
