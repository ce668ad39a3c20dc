/// The parameters of one attribution graph, written once: circuit-tracer's `attribute`
/// arguments and the pruning thresholds, with their defaults (circuit-tracer 0.5.0's) and their
/// valid ranges. The CLI (`--max-logits`, ...), job specs (`attribution.max_logits`, ...) and the
/// engine (`AttributionOptions`) all read these defaults and call the same `validate()`.
public struct AttributionParameters: Codable, Sendable, Equatable {
    /// At most this many logit targets (`max_n_logits`).
    public var maxLogits: Int = 10
    /// Stop adding logit targets once their cumulative probability reaches this (`desired_logit_prob`).
    public var logitProb: Double = 0.95
    /// At most this many feature nodes, chosen by influence (`max_feature_nodes`; nil: all).
    public var maxFeatureNodes: Int? = nil
    /// Targets per backward pass (`batch_size`).
    public var batchSize: Int = 256
    /// Batches between re-rankings of the features by partial influence (`update_interval`).
    public var updateInterval: Int = 4

    public init() {}

    /// Checks every range; the error names the parameter.
    public func validate() throws(GraphParameterError) {
        try GraphParameter.maxLogits.check(maxLogits)
        try GraphParameter.logitProb.check(logitProb)
        if let maxFeatureNodes { try GraphParameter.maxFeatureNodes.check(maxFeatureNodes) }
        try GraphParameter.batchSize.check(batchSize)
        try GraphParameter.updateInterval.check(updateInterval)
    }
}

/// Which nodes and edges of a graph pruning keeps.
public struct PruningParameters: Codable, Sendable, Equatable {
    /// Keep the nodes carrying this share of the total influence.
    public var nodeThreshold: Double = 0.8
    /// Keep the edges carrying this share of the total edge influence.
    public var edgeThreshold: Double = 0.98

    public init() {}

    public func validate() throws(GraphParameterError) {
        try GraphParameter.nodeThreshold.check(nodeThreshold)
        try GraphParameter.edgeThreshold.check(edgeThreshold)
    }
}

/// One parameter of `AttributionParameters` or `PruningParameters`: its names where users
/// meet it and its valid range.
public enum GraphParameter: String, CaseIterable, Sendable {
    case maxLogits, logitProb, maxFeatureNodes, batchSize, updateInterval, nodeThreshold, edgeThreshold

    /// The field in a job spec (`attribution.max_logits`).
    public var jobField: String {
        switch self {
        case .maxLogits: return "attribution.max_logits"
        case .logitProb: return "attribution.logit_prob"
        case .maxFeatureNodes: return "attribution.max_feature_nodes"
        case .batchSize: return "attribution.batch_size"
        case .updateInterval: return "attribution.update_interval"
        case .nodeThreshold: return "pruning.node_threshold"
        case .edgeThreshold: return "pruning.edge_threshold"
        }
    }

    /// The command-line option (`--max-logits`).
    public var flag: String {
        "--" + rawValue.reduce(into: "") { s, c in s += c.isUppercase ? "-" + c.lowercased() : String(c) }
    }

    /// The valid range, in words (error messages and help).
    public var rangeText: String {
        switch self {
        case .maxLogits, .batchSize, .updateInterval: return "an integer from 1 to 100000"
        case .maxFeatureNodes: return "an integer from 0 to 100000000"
        case .logitProb: return "a number in (0, 1]"
        case .nodeThreshold, .edgeThreshold: return "a number in [0, 1]"
        }
    }

    func check(_ value: Int) throws(GraphParameterError) {
        let ok: Bool
        switch self {
        case .maxLogits, .batchSize, .updateInterval: ok = (1...100_000).contains(value)
        case .maxFeatureNodes: ok = (0...100_000_000).contains(value)
        default: ok = false
        }
        guard ok else { throw GraphParameterError(parameter: self, value: String(value)) }
    }

    func check(_ value: Double) throws(GraphParameterError) {
        let ok: Bool
        switch self {
        case .logitProb: ok = value > 0 && value <= 1
        case .nodeThreshold, .edgeThreshold: ok = (0...1).contains(value)
        default: ok = false
        }
        guard ok else { throw GraphParameterError(parameter: self, value: "\(value)") }
    }
}

/// A graph parameter is out of range. The description names the parameter as the engine knows
/// it; callers re-word it with `parameter.flag` or `parameter.jobField`.
public struct GraphParameterError: Error, CustomStringConvertible, Equatable, Sendable {
    public var parameter: GraphParameter
    public var value: String
    /// "must be a number in (0, 1] (got 0.0)".
    public var requirement: String { "must be \(parameter.rangeText) (got \(value))" }
    public var description: String { "\(parameter.rawValue) \(requirement)" }
    public init(parameter: GraphParameter, value: String) { self.parameter = parameter; self.value = value }
}
