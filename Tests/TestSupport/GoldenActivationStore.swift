import Foundation
import Storage

/// A reference case's golden transcoder activations (circuit-tracer's `active_features`
/// (layer, pos, feature) rows and `activation_values`) as an activation store: the prompt's
/// non-BOS positions `copies` times, each copy's values mapped by `transform` (default: as is).
public func goldenActivationStore(_ run: ReferenceRun, nLayers: Int, dTranscoder: Int, copies: Int = 2,
                                  transform: (Int, Float) -> Float = { _, v in v }) throws -> ActivationStore {
    let active = try run.array("active_features").ints, values = try run.array("activation_values").floats
    let nPos = try run.array("input_tokens").ints.count
    let features = stride(from: 0, to: active.count, by: 3).map { (layer: active[$0], pos: active[$0 + 1], index: active[$0 + 2]) }
    var store = ActivationStore(nLayers: nLayers, dTranscoder: dTranscoder)
    for copy in 0..<copies { store.appendPrompt(features: features, values: values.map { transform(copy, $0) }, nTokens: nPos) }
    return store
}
