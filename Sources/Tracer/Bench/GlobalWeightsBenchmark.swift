import Foundation
import Logging
import Storage

/// Time and memory of global weights at GPT-2-small scale: virtual weights of a target set
/// against every earlier-layer source of a random CLT-like transcoder set, and the pair
/// statistics per 1,000 tokens.
public struct GlobalWeightsBenchmark: Sendable {
    public var layers = 12
    public var dModel = 768
    public var width = 8192
    public var targets = 1000
    /// Cross-layer (every source writes to all later layers) or per-layer decoders.
    public var crossLayer = true
    public var tokens = 1000
    /// Active features per layer and position in the synthetic statistics.
    public var activePerSlot = 66
    public var seed: UInt64 = 1
    public init() {}

    public struct Report: Codable, Sendable {
        public var layers: Int, d_model: Int, width: Int, kind: String
        public var targets: Int, sources: Int
        public var setup_s: Double
        public var virtual_weights_s: Double
        public var virtual_weights_gflops: Double
        public var sgemm_gflops: Double
        public var v_bytes: Int
        public var statistics_tokens: Int
        public var statistics_s_per_1000_tokens: Double
        public var pairs: Int
        public var peak_rss_bytes: Int
    }

    /// - Parameter logger: gets a line per phase (default: nowhere).
    public func run(logger: Logger = Logger(label: "circuits.bench", factory: { _ in SwiftLogNoOpLogHandler() })) throws -> Report {
        let d = dModel, dT = width, L = layers
        var clock = ContinuousClock.now
        let tc = transcoders(logger: logger)
        let setup = (ContinuousClock.now - clock).seconds

        var rng = SeededRandom(seed: seed)
        let targetSet = Array(Set((0..<targets).map { _ in FeatureID(layer: 1 + Int(rng.next() % UInt64(L - 1)), feature: Int(rng.next() % UInt64(dT))) })).sorted()
        let sources = VirtualWeights.allSources(below: targetSet, transcoders: tc)
        logger.info("virtual weights: \(targetSet.count) targets × \(sources.count) sources")
        clock = ContinuousClock.now
        let v = try VirtualWeights.compute(targets: targetSet, sources: sources, transcoders: tc,
                                           reading: ResidualReading(hook: .residMid, centred: false, ln2Weights: []))
        let vSeconds = (ContinuousClock.now - clock).seconds
        // Useful work: one d-long dot product per (target, source below it).
        var flop = 0.0
        for t in targetSet { flop += 2 * Double(t.layer * dT * d) }

        // Pair statistics over synthetic activations: `activePerSlot` random features per layer
        // and position, values |N(0, 1)| + 0.1.
        var stats = CoactivationStatistics(targets: targetSet, dTranscoder: dT)
        let targetsByLayer = Dictionary(grouping: targetSet, by: \.layer)
        var features: [(layer: Int, pos: Int, index: Int)] = [], values: [Float] = []
        for p in 1...tokens {
            for l in 0..<L {
                var chosen = Set<Int>()
                // Let the targets fire as often as an average feature of their layer.
                for t in targetsByLayer[l] ?? [] where rng.next() % UInt64(dT) < UInt64(activePerSlot) { chosen.insert(t.feature) }
                while chosen.count < activePerSlot { chosen.insert(Int(rng.next() % UInt64(dT))) }
                for f in chosen.sorted() { features.append((l, p, f)); values.append(abs(rng.normal()) + 0.1) }
            }
        }
        clock = ContinuousClock.now
        stats.add(features: features, values: values)
        let statsSeconds = (ContinuousClock.now - clock).seconds

        return Report(layers: L, d_model: d, width: dT, kind: crossLayer ? "clt" : "plt", targets: targetSet.count, sources: sources.count,
                      setup_s: setup, virtual_weights_s: vSeconds, virtual_weights_gflops: flop / vSeconds / 1e9,
                      sgemm_gflops: AttributionBenchmark.sgemmRate(), v_bytes: v.count * 4, statistics_tokens: tokens,
                      statistics_s_per_1000_tokens: statsSeconds * 1000 / Double(tokens), pairs: stats.pairs.count,
                      peak_rss_bytes: peakResidentBytes())
    }

    /// The seeded random transcoder set: encoders and decoders N(0, 1/d), no biases. `[dT, d]`
    /// encoders per layer; decoders `[dT, nOutputs, d]` (CLT) or `[dT, d]` (PLT).
    func transcoders(logger: Logger) -> TranscoderSet {
        let d = dModel, dT = width, L = layers
        logger.info("drawing a random \(crossLayer ? "CLT" : "PLT")-like set: \(L) layers × \(dT) features, d_model \(d)")
        let scale = 1 / Float(d).squareRoot()
        let encoders = (0..<L).map { NormalFill.normals(dT * d, std: scale, seed: seed &+ UInt64($0), storage: .f32) }
        let decoders = (0..<L).map { l in
            NormalFill.normals(dT * (crossLayer ? L - l : 1) * d, std: scale, seed: seed &+ 1000 &+ UInt64(l), storage: .f32)
        }
        let config = TranscoderConfig(kind: crossLayer ? .crossLayer : .perLayer, inputHook: .residMid)
        return TranscoderSet(config: config, nLayers: L, dModel: d, dTranscoder: dT, activation: .relu, encoders: encoders,
                             encoderBiases: Array(repeating: [Float](repeating: 0, count: dT), count: L),
                             thresholds: Array(repeating: nil, count: L), decoders: decoders,
                             decoderBiases: Array(repeating: [Float](repeating: 0, count: d), count: L),
                             skips: Array(repeating: nil, count: L))
    }
}
