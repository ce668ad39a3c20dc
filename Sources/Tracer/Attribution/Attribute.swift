import Foundation
import Storage

/// A model and its transcoders: the replacement model whose local linearisation on a prompt
/// is the attribution graph.
public final class ReplacementModel: Sendable {
    public let model: Transformer
    public let transcoders: TranscoderSet

    public init(model: Transformer, transcoders: TranscoderSet) {
        self.model = model
        self.transcoders = transcoders
    }

    /// Loads a Hugging Face model folder and a transcoder folder, checking they fit together.
    public convenience init(modelDirectory: URL, transcoderDirectory: URL) throws {
        let model = try Transformer(directory: modelDirectory)
        let tc = try TranscoderSet(directory: transcoderDirectory, nLayers: model.config.nLayers, dModel: model.config.dModel)
        self.init(model: model, transcoders: tc)
    }

    /// The attribution graph of `tokens` (BOS included), as circuit-tracer's `attribute()`.
    ///
    /// - Parameters:
    ///   - tokenText: decodes one token id (for token and logit labels).
    ///   - timings: receives the seconds spent per phase.
    ///   - progress: called with (feature rows done, feature rows to do) after each batch.
    ///   - record: the forward pass of `tokens` when already run (`model.forward(tokens:)`).
    public func attribute(tokens: [Int], options: AttributionOptions = AttributionOptions(),
                          tokenText: (Int) -> String = { "\($0)" }, timings: inout PhaseTimings,
                          progress: ((Int, Int) -> Void)? = nil, record: ForwardRecord? = nil) throws -> AttributionGraph {
        try options.validate()
        var clock = ContinuousClock.now
        func lap() -> Double { let now = ContinuousClock.now; defer { clock = now }; return (now - clock).seconds }

        var record = try record ?? model.forward(tokens: tokens)
        guard record.nPos == tokens.count else { throw TracerError.invalidArgument("the forward record has \(record.nPos) positions, the prompt \(tokens.count)") }
        timings.forward += lap()
        let features = try FeatureActivations(record: record, transcoders: transcoders, decoderCacheBytes: options.decoderCacheBytes)
        record.dropTranscoderInputs()
        timings.transcoders = lap()

        let c = model.config
        let logits = LogitTargets(logits: record.lastLogits, unembedding: model.weights.unembedding, dModel: c.dModel,
                                  softcap: c.finalLogitSoftcap, maxLogits: options.maxLogits,
                                  desiredProbability: options.logitProb, tokenText: tokenText)
        let runner = BatchRunner(threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                 batchSize: options.batchSize, memoryBytes: options.workerMemoryBytes) {
            LinearisedBackward(model: model, transcoders: transcoders, record: record, features: features,
                               logitDirections: logits.directions)
        }
        let nActive = features.count, nLogits = logits.targets.count, nCols = runner.nColumns
        let maxFeatures = min(options.maxFeatureNodes ?? nActive, nActive)
        let layout = NodeLayout(nFeatures: maxFeatures, nLayers: c.nLayers, nPos: tokens.count, nLogits: nLogits)
        let N = layout.count
        var adjacency: Adjacency
        let selected: [Int]
        if maxFeatures == nActive {
            // Every feature is a node: rows go straight into the stored rows of A (feature i is node
            // and slot i; the first nCols columns of A are the edge columns in the same order).
            // Targets sorted by layer, then position, so each batch runs from its own layer down
            // over few positions. Uninitialised: every stored row is written whole (its first nCols
            // entries) by the workers, so first-touch page faults happen on both cores; the rest of
            // each row is zeroed here.
            let rows = nActive + nLogits
            let storage = [Float](unsafeUninitializedCapacity: rows * N) { A, count in
                for r in 0..<rows { (A.baseAddress! + r * N + nCols).initialize(repeating: 0, count: N - nCols) }
                let logitRows = (0..<nLogits).map { (AttributionTarget.logit(rank: $0), Adjacency.slot(ofRow: layout.index(of: .logit(rank: $0)), in: layout)!) }
                runner.run(runner.batches(logitRows), into: A.baseAddress!, stride: N)
                timings.logitRows = lap()
                let order = (0..<nActive).sorted {
                    let a = features.activeFeatures[$0], b = features.activeFeatures[$1]
                    return a.layer != b.layer ? a.layer > b.layer : $0 < $1
                }
                runner.run(runner.batches(order.map { (.feature(features.activeFeatures[$0]), $0) }), into: A.baseAddress!, stride: N) {
                    progress?($0, nActive)
                }
                count = rows * N
            }
            adjacency = Adjacency(layout: layout, fill: 0, storage: storage)
            selected = Array(0..<nActive)
        } else {
            let selection = FeatureSelection(runner: runner, features: features, nLayers: c.nLayers, nPos: tokens.count,
                                             logitProbabilities: logits.targets.map(\.probability), options: options)
            (selected, adjacency) = try selection.run(maxFeatures: maxFeatures, layout: layout, lap: lap, timings: &timings,
                                                      progress: progress)
        }
        timings.featureRows = lap()
        timings.backwardFlops = runner.flops
        timings.chunkSize = runner.chunkSize
        for v in adjacency.storage where !v.isFinite { throw TracerError.nonFinite("adjacency matrix") }
        return AttributionGraph(inputTokens: tokens, tokenStrings: tokens.map(tokenText), activeFeatures: features.activeFeatures,
                                activationValues: features.values, selectedFeatures: selected, logitTargets: logits.targets,
                                nLayers: c.nLayers, adjacency: adjacency)
    }
}

/// Indices sorting `values` descending, ties by ascending index.
func stableArgsortDescending(_ values: [Float]) -> [Int] {
    values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
}
