import Foundation

/// What `circuits bench intervention` measures: one plain forward pass with every layer's
/// transcoder encoded (`cleanRun`), one intervened pass on it, and their ratio (the issue's
/// target: one intervention in at most 3× the forward pass).
public struct InterventionBenchmarkResult: Codable, Sendable {
    /// Median seconds of `cleanRun` (forward, logits of every position, every layer encoded).
    public var forward_s: Double
    /// Median seconds of one `intervene` on that clean run (one set, one intervention).
    public var intervene_s: Double
    /// `(forward_s + intervene_s) / forward_s`: one intervention from the prompt, its clean run included.
    public var ratio: Double
    /// `intervene_s / forward_s`: the intervened pass alone.
    public var intervene_ratio: Double
    public var mode: String
    public var intervention: String
    public var n_pos: Int
    public var repeats: Int
    public var threads: Int
    /// CPU model and logical cores.
    public var machine: String
    public var model: String?
}

public enum InterventionBenchmark {
    /// Times `repeats` clean runs and intervened passes of `tokens` (after one warm-up of each):
    /// the intervention sets the strongest feature of the last position (largest clean
    /// activation, over every layer) to zero.
    public static func run(_ m: ReplacementModel, tokens: [Int], mode: InterventionMode, repeats: Int) throws -> InterventionBenchmarkResult {
        let clean = try m.cleanRun(tokens: tokens)
        let dT = m.transcoders.dTranscoder, last = tokens.count - 1
        var strongest = FeatureIntervention(layer: 0, position: last, feature: 0, value: 0)
        var best: Float = -.infinity
        for (l, acts) in clean.activations.enumerated() {
            for f in 0..<dT where acts[last * dT + f] > best {
                best = acts[last * dT + f]
                strongest = FeatureIntervention(layer: l, position: last, feature: f, value: 0)
            }
        }
        func median(_ body: () throws -> Void) rethrows -> Double {
            try body()   // warm-up
            var times: [Double] = []
            for _ in 0..<max(repeats, 1) {
                let start = ContinuousClock.now
                try body()
                times.append((ContinuousClock.now - start).seconds)
            }
            return times.sorted()[times.count / 2]
        }
        let forward = try median { _ = try m.cleanRun(tokens: tokens) }
        let intervene = try median { _ = try m.intervene(clean, [[strongest]], mode: mode) }
        return InterventionBenchmarkResult(forward_s: forward, intervene_s: intervene, ratio: (forward + intervene) / forward,
                                           intervene_ratio: intervene / forward, mode: mode.description,
                                           intervention: strongest.description, n_pos: tokens.count, repeats: max(repeats, 1),
                                           threads: blasThreads, machine: machineDescription())
    }

    /// The CPU's model name (from /proc/cpuinfo) and the logical cores.
    public static func machineDescription() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let name = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(name), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}
