import Foundation
import Storage

/// `result.h5` of `circuits intervene`: one prompt, its clean run and one intervened pass,
/// named as circuit-tracer's intervention goldens name them (docs/intervene.md).
///
/// Layout (L layers, T positions with BOS at 0, V vocabulary, D transcoder features):
/// - `logits` f32 [T, V] and `base_logits` f32 [T, V]: every position, final softcap applied
///   (once), intervened and clean;
/// - `activations` f32 [L, T, D] and `base_activations` f32 [L, T, D]: transcoder activations
///   (BOS row zero); the intervened ones as the pass recorded them, each layer's transcoder on
///   its input in that pass before the layer's own interventions replace values;
/// - `input_tokens` i64 [T]; `interventions` f64 [n, 4]: the resolved (layer, position,
///   feature, value) list, positions non-negative; `interventions_given` strings [m]: the
///   `--set` and file entries as written;
/// - with `--generate`: `generated_tokens` and `base_generated_tokens` i64 [N];
/// - root attributes `mode` (iterative, frozen-attention, constrained, replacement),
///   `constrained_layers` i64 [2] (`A, B` of layers A..<B; constrained only), `prompt`,
///   `n_layers`, `format_version`.
public enum InterventionFile {
    public static let formatVersion = 1

    public struct Contents {
        public var prompt: String
        public var tokens: [Int]
        public var mode: InterventionMode
        public var given: [String]
        public var interventions: [FeatureIntervention]
        public var clean: CleanRun
        public var outcome: InterventionOutcome
        public var generated: (patched: [Int], unpatched: [Int])?

        public init(prompt: String, tokens: [Int], mode: InterventionMode, given: [String], interventions: [FeatureIntervention],
                    clean: CleanRun, outcome: InterventionOutcome, generated: (patched: [Int], unpatched: [Int])? = nil) {
            self.prompt = prompt
            self.tokens = tokens
            self.mode = mode
            self.given = given
            self.interventions = interventions
            self.clean = clean
            self.outcome = outcome
            self.generated = generated
        }
    }

    /// Writes `c` to `url` through a temporary file renamed over it (`AtomicFile`).
    public static func write(_ c: Contents, to url: URL) throws {
        let T = c.clean.nPos, L = c.clean.activations.count
        let D = c.clean.activations.first.map { $0.count / max(T, 1) } ?? 0
        let V = c.clean.logits.count / max(T, 1)
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try f.write(c.outcome.logits, shape: [T, V], at: "logits")
            try f.write(c.outcome.activations.flatMap { $0 }, shape: [L, T, D], at: "activations")
            try f.write(c.clean.logits, shape: [T, V], at: "base_logits")
            try f.write(c.clean.activations.flatMap { $0 }, shape: [L, T, D], at: "base_activations")
            try f.write(c.tokens.map(Int64.init), shape: [T], at: "input_tokens")
            try f.write(c.interventions.flatMap { [Double($0.layer), Double($0.position), Double($0.feature), Double($0.value)] },
                        shape: [c.interventions.count, 4], at: "interventions")
            try f.writeStrings(c.given, at: "interventions_given")
            if let g = c.generated {
                try f.write(g.patched.map(Int64.init), shape: [g.patched.count], at: "generated_tokens")
                try f.write(g.unpatched.map(Int64.init), shape: [g.unpatched.count], at: "base_generated_tokens")
            }
            switch c.mode {
            case let .constrained(r):
                try f.setAttribute("mode", "constrained")
                try f.setAttribute("constrained_layers", [Int64(r.lowerBound), Int64(r.upperBound)])
            default:
                try f.setAttribute("mode", c.mode.description)
            }
            try f.setAttribute("prompt", c.prompt)
            try f.setAttribute("n_layers", Int64(L))
            try f.setAttribute("format_version", Int64(formatVersion))
        }
    }
}
