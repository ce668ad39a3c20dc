import Foundation

/// The unpatched run of one prompt that interventions start from and compare against: what
/// circuit-tracer's `setup_intervention_with_freeze` caches (patterns, norm scales, MLP outputs,
/// transcoder inputs and activations).
public struct CleanRun: Sendable {
    /// The prompt, BOS included. `[nPos]`
    public let tokens: [Int]
    /// Every intermediate of the forward pass, logits of every position included.
    let record: ForwardRecord
    /// Logits of every position, final softcap applied. `[nPos, nVocab]`
    public let logits: [Float]
    /// Per layer, the transcoder activations (activation function applied, BOS row zero). `[nPos, dTranscoder]`
    public let activations: [[Float]]
    /// Per layer, the transcoder input. `[nPos, dModel]`
    let transcoderInputs: [[Float]]

    public var nPos: Int { tokens.count }
}

extension ReplacementModel {
    /// Runs the model on `tokens` (BOS included) and encodes every layer's transcoder input.
    public func cleanRun(tokens: [Int]) throws -> CleanRun {
        try cleanRun(tokens: tokens, record: try model.forward(tokens: tokens, allLogits: true))
    }

    /// The clean run of `tokens` from their forward pass `record` (`model.forward(tokens:)`,
    /// every intermediate kept), every layer's transcoder input encoded, the logits of every
    /// position computed when `record` has only the last.
    public func cleanRun(tokens: [Int], record: ForwardRecord) throws -> CleanRun {
        guard record.nPos == tokens.count, record.residFinal.count == tokens.count * model.config.dModel, !record.mlpOut.isEmpty else {
            throw TracerError.invalidArgument("a clean run needs the whole forward pass of its \(tokens.count) tokens")
        }
        var record = record
        if record.allLogits.isEmpty {
            record.allLogits = model.unembed(record.residFinal, nPos: tokens.count, rows: 0..<tokens.count).logits
        }
        let T = tokens.count, dT = transcoders.dTranscoder
        let inputs = (0..<transcoders.nLayers).map { MLPInputs(record, layer: $0)[transcoders.inputHook] }
        let activations = inputs.enumerated().map { l, x in
            var a = transcoders.encode(layer: l, x, rows: T)
            for f in 0..<dT { a[f] = 0 }   // BOS
            return a
        }
        return CleanRun(tokens: tokens, record: record, logits: softcapped(record.allLogits, model.config.finalLogitSoftcap),
                        activations: activations, transcoderInputs: inputs)
    }
}

extension MLPInputs {
    /// Layer `l`'s MLP inputs as `record` holds them.
    init(_ record: ForwardRecord, layer l: Int) {
        self.init(residMid: record.residMid[l], ln2Normalized: record.ln2Normalized[l], mlpIn: record.mlpIn[l])
    }
}

/// `cap · tanh(logit / cap)` when the model caps its logits (Gemma-2), else the logits.
func softcapped(_ logits: [Float], _ cap: Float?) -> [Float] {
    guard let cap else { return logits }
    return logits.map { cap * tanh($0 / cap) }
}
