import ArgumentParser
import Tracer

/// The options every command that attributes prompts shares.
struct AttributionOptionGroup: ParsableArguments {
    @Option(help: "At most this many logit targets (circuit-tracer's max_n_logits).")
    var maxLogits: Int = 10

    @Option(help: "Keep logit targets until their cumulative probability reaches this (desired_logit_prob).")
    var logitProb: Double = 0.95

    @Option(help: "At most this many feature nodes, chosen by influence (default: all active features).")
    var maxFeatureNodes: Int?

    @Option(help: "Targets per backward pass. Changes which features are chosen under --max-feature-nodes, as in circuit-tracer.")
    var batchSize: Int = 256

    @Option(help: "Batches between influence re-rankings under --max-feature-nodes (update_interval).")
    var updateInterval: Int = 4

    @Option(help: "Keep nodes carrying this share of the total influence.")
    var nodeThreshold: Double = GraphConstants.defaultNodeThreshold

    @Option(help: "Keep edges carrying this share of the total edge influence.")
    var edgeThreshold: Double = GraphConstants.defaultEdgeThreshold

    var attribution: AttributionOptions {
        AttributionOptions(maxLogits: maxLogits, desiredLogitProbability: logitProb, batchSize: batchSize,
                           maxFeatureNodes: maxFeatureNodes, updateInterval: updateInterval)
    }

    func validate() throws {
        do { try attribution.validate() } catch { throw ValidationError("\(error)") }
        guard (0...1).contains(nodeThreshold) else { throw ValidationError("--node-threshold must be between 0 and 1") }
        guard (0...1).contains(edgeThreshold) else { throw ValidationError("--edge-threshold must be between 0 and 1") }
    }
}
