import ArgumentParser
import Storage
import Tracer

/// The options every command that attributes prompts shares. Defaults and ranges are
/// `AttributionParameters` / `PruningParameters` (Storage), as for job specs and the engine.
struct AttributionOptionGroup: ParsableArguments {
    @Option(help: "At most this many logit targets (circuit-tracer's max_n_logits).")
    var maxLogits: Int = AttributionParameters().maxLogits

    @Option(help: "Keep logit targets until their cumulative probability reaches this (desired_logit_prob), in (0, 1].")
    var logitProb: Double = AttributionParameters().logitProb

    @Option(help: "At most this many feature nodes, chosen by influence (default: all active features).")
    var maxFeatureNodes: Int?

    @Option(help: "Targets per backward pass. Changes which features are chosen under --max-feature-nodes, as in circuit-tracer.")
    var batchSize: Int = AttributionParameters().batchSize

    @Option(help: "Batches between influence re-rankings under --max-feature-nodes (update_interval).")
    var updateInterval: Int = AttributionParameters().updateInterval

    @Option(help: "Keep nodes carrying this share of the total influence, in [0, 1].")
    var nodeThreshold: Double = PruningParameters().nodeThreshold

    @Option(help: "Keep edges carrying this share of the total edge influence, in [0, 1].")
    var edgeThreshold: Double = PruningParameters().edgeThreshold

    var parameters: AttributionParameters {
        var p = AttributionParameters()
        p.maxLogits = maxLogits
        p.logitProb = logitProb
        p.maxFeatureNodes = maxFeatureNodes
        p.batchSize = batchSize
        p.updateInterval = updateInterval
        return p
    }

    var pruning: PruningParameters {
        var p = PruningParameters()
        p.nodeThreshold = nodeThreshold
        p.edgeThreshold = edgeThreshold
        return p
    }

    var attribution: AttributionOptions { AttributionOptions(parameters) }

    func validate() throws {
        do {
            try parameters.validate()
            try pruning.validate()
        } catch {
            throw ValidationError("\(error.parameter.flag) \(error.requirement)")
        }
    }
}
