import ArgumentParser
import Foundation
import Storage
import Tracer

extension Circuits {
    struct Intervene: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set transcoder features on one prompt and show how the output changes.",
            discussion: """
            Runs the prompt once clean and once with the interventions, in circuit-tracer 0.5.0's \
            feature_intervention semantics, and prints the top logits of the last position before \
            and after (token, probability, change) and the largest changes of other features.

            Interventions: --set LAYER:POS:FEATURE=VALUE (repeatable) and --interventions FILE.json, \
            a JSON array of [layer, position, feature, value] (file entries first, then --set; of \
            several on one feature and position the last wins). Positions count the BOS at 0 as in \
            graph.h5; negative ones count from the end (-1 the last); POS `all` is every position \
            where the feature is active in the clean run. VALUE is a number, or *k: k times the \
            clean activation there (in the file: "all" and "*k" as strings).

            Modes (--mode, default iterative): iterative (the real model runs on, every knock-on \
            effect included), frozen-attention (attention patterns held at the clean run), \
            constrained (patterns frozen, MLP outputs of --constrained-layers A:B, layers A..<B, \
            default every layer, frozen at the clean run plus the decoder changes: direct effects), \
            replacement (the local replacement model of the attribution graph). Every mode needs \
            at least one intervention except replacement, which with none reproduces the clean \
            model exactly.

            --generate N continues greedily N tokens (at most to the model's context) with the \
            interventions held at their prompt positions (and, for `all`, at every new position \
            where the feature is active), beside the unpatched continuation.

            --out writes HDF5 (docs/intervene.md): logits [n_pos, vocab] of every position (final \
            softcap applied), activations [n_layers, n_pos, d_transcoder] (BOS row zero), \
            base_logits, base_activations (the clean run), input_tokens, interventions [n, 4] \
            (resolved), interventions_given, generated_tokens and base_generated_tokens (with \
            --generate); attributes mode, constrained_layers, prompt, n_layers, format_version.

            Example:
              circuits intervene --model models/demo/model --transcoders models/demo/clt \\
                  --prompt "fact : the capital of the state containing dallas is" \\
                  --set 1:-1:265=0 --set 1:-1:181=0 --set 0:all:21=*0.5 --generate 3 --out result.h5
            """
        )

        @OptionGroup var input: PromptOptions

        @Option(name: .customLong("set"), help: "LAYER:POS:FEATURE=VALUE; POS an integer (BOS 0, -1 last) or all; VALUE a number or *k.")
        var sets: [String] = []

        @Option(help: "A JSON array of [layer, position, feature, value].")
        var interventions: String?

        @Option(help: "iterative, frozen-attention, constrained or replacement.")
        var mode: String = "iterative"

        @Option(help: "A:B, the layers A..<B constrained mode freezes (default: every layer).")
        var constrainedLayers: String?

        @Option(help: "How many top logits to print.")
        var topLogits: Int = 10

        @Option(help: "How many feature changes to print.")
        var topFeatures: Int = 10

        @Option(help: "Greedy continuation of this many tokens, patched and unpatched.")
        var generate: Int = 0

        @Option(help: "Where to write the result (HDF5).")
        var out: String?

        @OptionGroup var logging: LoggingOptions

        /// One intervention as given, with the words that name it in an error.
        struct Given {
            var spec: InterventionSpec
            var source: String
        }

        func run() throws {
            try reportingErrors {
                guard input.hasOnePrompt else { throw RunError(reason: "give exactly one of --prompt or --prompt-file") }
                guard InterventionMode.names.contains(mode) else {
                    throw RunError(reason: "--mode '\(mode)' is not one of \(InterventionMode.names.joined(separator: ", "))")
                }
                let layers = try constrainedLayers.map(Self.parseRange)
                if constrainedLayers != nil, mode != "constrained" {
                    throw RunError(reason: "--constrained-layers applies to --mode constrained only (the mode is \(mode))")
                }
                guard topLogits >= 1 else { throw RunError(reason: "--top-logits must be at least 1 (got \(topLogits))") }
                guard topFeatures >= 0 else { throw RunError(reason: "--top-features must be at least 0 (got \(topFeatures))") }
                guard generate >= 0 else { throw RunError(reason: "--generate must be at least 0 (got \(generate))") }
                let given = try readInterventions()
                if given.isEmpty, mode != "replacement" {
                    throw RunError(reason: "no interventions: give --set or --interventions (every mode but replacement needs at least one)")
                }
                if let out { try OutputLocation.checkFile(URL(fileURLWithPath: out), what: "result (--out)") }
                let text = try input.text()

                let session = try input.session()
                let m = session.replacement, L = m.transcoders.nLayers, dT = m.transcoders.dTranscoder, V = m.model.config.nVocab
                let interventionMode: InterventionMode
                switch mode {
                case "frozen-attention": interventionMode = .frozenAttention
                case "constrained":
                    let range = layers ?? 0..<L
                    guard range.upperBound <= L else {
                        throw RunError(reason: "--constrained-layers \(constrainedLayers ?? ""): the model has layers 0..<\(L) (A:B with 0 ≤ A < B ≤ \(L))")
                    }
                    interventionMode = .constrained(range)
                case "replacement": interventionMode = .replacement
                default: interventionMode = .iterative
                }

                let tokens = try session.tokens(for: text)
                let clean = try m.cleanRun(tokens: tokens)
                let resolved = try given.flatMap { g in
                    do { return try g.spec.resolve(against: clean, nLayers: L, dTranscoder: dT) } catch let error as TracerError {
                        throw RunError(reason: "\(g.source): \(error)")
                    }
                }
                let outcome = try m.intervene(clean, [resolved], mode: interventionMode, recording: .activations)[0]

                var generated: (patched: [Int], unpatched: [Int])?
                if generate > 0 {
                    generated = (try m.greedyContinuation(prompt: tokens, steps: generate, interventions: given.map(\.spec), mode: interventionMode),
                                 try m.greedyContinuation(prompt: tokens, steps: generate))
                }
                print(report(session, tokens: tokens, mode: interventionMode, resolved: resolved, clean: clean, outcome: outcome,
                             nVocab: V, generated: generated))
                if let out {
                    try InterventionFile.write(InterventionFile.Contents(
                        prompt: text, tokens: tokens, mode: interventionMode, given: given.map(\.spec.description),
                        interventions: resolved, clean: clean, outcome: outcome, generated: generated), to: URL(fileURLWithPath: out))
                    print("wrote \(out)")
                }
            }
        }

        /// The file's entries, then every `--set`, each named for errors.
        func readInterventions() throws -> [Given] {
            var given: [Given] = []
            if let interventions {
                guard let data = FileManager.default.contents(atPath: interventions) else {
                    throw RunError(reason: "--interventions \(interventions): cannot read the file")
                }
                do {
                    given += try InterventionSpec.list(json: data).enumerated().map {
                        Given(spec: $1, source: "--interventions \(interventions) entry \($0)")
                    }
                } catch let error as TracerError {
                    throw RunError(reason: "--interventions \(interventions): \(error)")
                }
            }
            for s in sets {
                do { given.append(Given(spec: try InterventionSpec(parsing: s), source: "--set \(s)")) } catch let error as TracerError {
                    throw RunError(reason: "--set: \(error)")
                }
            }
            return given
        }

        /// `A:B` with 0 ≤ A < B (the upper bound is checked against the model once it is loaded).
        static func parseRange(_ s: String) throws -> Range<Int> {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, a < b else {
                throw RunError(reason: "--constrained-layers '\(s)' is not A:B with 0 ≤ A < B (layers A..<B)")
            }
            return a..<b
        }

        /// The printed summary: top logits of the last position before and after, the largest
        /// changes of other features, and the continuations.
        func report(_ session: TraceSession, tokens: [Int], mode: InterventionMode, resolved: [FeatureIntervention],
                    clean: CleanRun, outcome: InterventionOutcome, nVocab V: Int, generated: (patched: [Int], unpatched: [Int])?) -> String {
            func quoted(_ id: Int) -> String { String(reflecting: session.tokenText(id)) }
            func signed(_ x: Float) -> String { String(format: "%+.4f", x) }
            let last = tokens.count - 1
            var lines = ["prompt: \(tokens.count) tokens (BOS at 0); mode \(mode); \(resolved.count) interventions"
                + (resolved.isEmpty ? "" : ": " + resolved.prefix(8).map(\.description).joined(separator: ", ") + (resolved.count > 8 ? ", …" : ""))]
            let width = 24
            for (title, ranked) in [("before", clean.logits), ("after", outcome.logits)] {
                lines.append("top logits at position \(last) \(quoted(tokens[last])), \(title):")
                let top = InterventionComparison.topLogits(rankedBy: ranked, before: clean.logits, after: outcome.logits,
                                                           position: last, nVocab: V, k: topLogits)
                for (i, t) in top.enumerated() {
                    let p = title == "before" ? t.before : t.after
                    lines.append(String(format: "  %2d  ", i + 1) + quoted(t.token).padding(toLength: width, withPad: " ", startingAt: 0)
                                 + String(format: "p %.4f", p) + (title == "after" ? "  change " + signed(t.change) : ""))
                }
            }
            if topFeatures > 0 {
                let changes = InterventionComparison.featureChanges(before: clean.activations, after: outcome.activations,
                                                                    dTranscoder: session.replacement.transcoders.dTranscoder,
                                                                    excluding: resolved, k: topFeatures)
                lines.append("largest changes of other features:" + (changes.isEmpty ? " none" : ""))
                for c in changes {
                    lines.append("  L\(c.layer) F\(c.feature) @\(c.position) \(quoted(tokens[c.position])): "
                                 + String(format: "%.4f → %.4f  ", c.before, c.after) + signed(c.change))
                }
            }
            if let generated {
                func text(_ ids: [Int]) -> String { String(reflecting: session.tokenizer.decode(ids)) + "  " + ids.map(String.init).joined(separator: " ") }
                lines.append("greedy continuation (\(generated.patched.count) tokens):")
                lines.append("  unpatched  " + text(generated.unpatched))
                lines.append("  patched    " + text(generated.patched))
            }
            return lines.joined(separator: "\n")
        }
    }
}
