import Foundation

/// circuit-tracer's feature file (`frontend/feature_models.py` `Model`, read by its local viewer
/// from `<scan>/<feature>.json`; `circuits export` writes `features/<scan>/<feature>.json` and
/// names the graph's scan `./data/features/<scan>`): `examples_quantiles` (the top-k first, then the quantile
/// samples), `top_logits`, `bottom_logits`, `act_min`, `act_max`, `quantile_values` (activation at
/// percentiles 1…100), `histogram` (50 linear bins on `[act_min, act_max]`) and
/// `activation_frequency`. Every example also carries the `prompt_id` and `position` it came from.
public struct FeatureJSON: Codable, Sendable {
    public struct Example: Codable, Sendable {
        public var tokens_acts_list: [Double]
        public var train_token_ind: Int
        public var is_repeated_datapoint: Bool
        public var tokens: [String]
        public var prompt_id: String
        public var position: Int
    }
    public struct Quantile: Codable, Sendable {
        public var quantile_name: String
        public var examples: [Example]
    }
    public var transcoder_id: String
    public var index: Int
    public var layer: Int
    public var examples_quantiles: [Quantile]
    public var top_logits: [String]
    public var bottom_logits: [String]
    public var act_min: Double
    public var act_max: Double
    public var quantile_values: [Double]
    public var histogram: [Double]
    public var activation_frequency: Double
}

extension FeatureDashboard {
    /// The circuit-tracer feature JSON of this dashboard; `transcoderID` names the transcoder set
    /// and layer (e.g. `demo-clt/0`).
    public func json(transcoderID: String) -> FeatureJSON {
        FeatureJSON(transcoder_id: transcoderID, index: feature.feature, layer: feature.layer,
                    examples_quantiles: groups.map { g in
                        FeatureJSON.Quantile(quantile_name: g.name, examples: g.contexts.map {
                            FeatureJSON.Example(tokens_acts_list: $0.example.activations.map(Double.init), train_token_ind: $0.index,
                                                is_repeated_datapoint: $0.repeated, tokens: $0.tokens,
                                                prompt_id: $0.promptID, position: Int($0.example.position))
                        })
                    },
                    top_logits: topLogits.map(\.token), bottom_logits: bottomLogits.map(\.token),
                    act_min: 0, act_max: Double(maxActivation), quantile_values: quantileValues,
                    histogram: linearHistogram(), activation_frequency: frequency)
    }

    /// `json` encoded (sorted keys, slashes unescaped).
    public func encodedJSON(transcoderID: String, pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(json(transcoderID: transcoderID))
    }
}
