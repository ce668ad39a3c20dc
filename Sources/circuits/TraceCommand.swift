import ArgumentParser
import Foundation
import Logging
import Shared
import Storage
import Tracer
import Worker

extension Circuits {
    struct Trace: LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute, prune and save the attribution graph of one prompt.",
            discussion: """
            Reads a Hugging Face model folder (config.json, model.safetensors, tokenizer.json) and a \
            transcoder folder in circuit-tracer's format (config.yaml plus layer_{l}.safetensors for \
            per-layer transcoders, or W_enc_{l}/W_dec_{l}.safetensors for a cross-layer transcoder). \
            The prompt is tokenized without special tokens and BOS is prepended, as circuit-tracer does.

            Writes the graph to an HDF5 file whose datasets are named like circuit-tracer's arrays \
            (adjacency_matrix, active_features, selected_features, prune/node_mask, ...) and, with \
            --json, the graph JSON that circuit-tracer's viewer and Neuronpedia open.

            Example:
              circuits trace --model models/demo/model --transcoders models/demo/plt \\
                  --prompt "fact : the capital of the state containing dallas is" --out graph.h5 --json graph.json
            """
        )

        @OptionGroup var input: PromptOptions

        @OptionGroup var options: AttributionOptionGroup

        @Option(help: "Where to write the graph (HDF5).")
        var out: String

        @Option(help: "Also write circuit-tracer/Neuronpedia graph JSON here.")
        var json: String?

        @Option(help: "Graph slug for the JSON export (default: the JSON file's name).")
        var slug: String?

        @Option(help: "A prefilter.json from `circuits global-weights`: its features are selected first under --max-feature-nodes.")
        var prefilter: String?

        @Option(help: "Evaluate the graph with N ablations per check (path length, perturbation fidelity, causal agreement): printed, and stored as attributes of --out.")
        var evaluate: Int?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard input.hasOnePrompt else {
                throw ValidationError("give exactly one of --prompt or --prompt-file")
            }
            let range = JobSpec.Evaluation.featureRange
            if let evaluate, !range.contains(evaluate) {
                throw ValidationError("--evaluate: \(evaluate) is outside \(range.lowerBound)...\(range.upperBound)")
            }
        }

        func run() throws {
            try reportingErrors {
                // Wrong output paths fail before the work; outputs replace files only, never folders.
                try OutputLocation.checkFile(URL(fileURLWithPath: out), what: "graph (--out)")
                if let json { try OutputLocation.checkFile(URL(fileURLWithPath: json), what: "graph JSON (--json)") }
                let text = try input.text()
                let load = ContinuousClock.now
                let session = try input.session()
                let loadSeconds = (ContinuousClock.now - load).seconds
                let tokens = try session.tokens(for: text)
                var attribution = options.attribution
                if let prefilter {
                    let p = try Prefilter.load(prefilter)
                    attribution.forcedFeatures = Set(p.features)
                    if URL(fileURLWithPath: p.transcoders).standardizedFileURL != URL(fileURLWithPath: input.transcoders).standardizedFileURL {
                        Logger(label: "circuits.trace").notice("note: \(prefilter) was made with the transcoders in \(p.transcoders)")
                    }
                    if attribution.maxFeatureNodes == nil {
                        Logger(label: "circuits.trace").notice("note: --prefilter only changes the graph under --max-feature-nodes (every active feature is in it now)")
                    }
                }
                let result = try session.trace(tokens: tokens, options: attribution,
                                               nodeThreshold: options.nodeThreshold, edgeThreshold: options.edgeThreshold,
                                               keepingForward: evaluate != nil)
                let outURL = URL(fileURLWithPath: out)
                try GraphFile.write(result, prompt: text, to: outURL)
                let evaluation = try evaluate.map { try session.replacement.evaluate(result, features: $0) }
                if let evaluation, let evaluate {
                    let f = try HDF5File.open(outURL, writable: true)
                    defer { f.close() }
                    try EvaluationTable.writeAttributes(EvaluationTable.Row(evaluation), features: evaluate, into: f)
                }
                if let json {
                    let jsonURL = URL(fileURLWithPath: json)
                    let slug = slug ?? jsonURL.deletingPathExtension().lastPathComponent
                    let metadata = GraphJSONMetadata(slug: slug, scan: session.replacement.transcoders.config.scan ?? slug,
                                                     prompt: session.tokenizer.decode(result.graph.inputTokens), nodeThreshold: result.nodeThreshold)
                    try AtomicFile.write(GraphJSON.encode(result.graph, pruning: result.pruning, metadata: metadata), to: jsonURL)
                }
                print(TraceSummary(result: result, loadSeconds: loadSeconds, out: out, json: json, evaluation: evaluation).text)
            }
        }
    }
}

/// The model, its transcoders and one prompt: the inputs of `trace` and `intervene`.
struct PromptOptions: ParsableArguments {
    @Option(help: "Hugging Face model folder.")
    var model: String

    @Option(help: "Transcoder folder (with config.yaml).")
    var transcoders: String

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "A file holding the prompt text (used verbatim, one trailing newline removed).")
    var promptFile: String?

    /// Exactly one of `--prompt` and `--prompt-file` is given.
    var hasOnePrompt: Bool { (prompt == nil) != (promptFile == nil) }

    /// `--prompt`, or the text of `--prompt-file` with one trailing newline dropped.
    func text() throws -> String {
        try promptFile.map { try PromptFile.readDroppingNewline(URL(fileURLWithPath: $0)) } ?? prompt ?? ""
    }

    /// Loads the model, the transcoders and the tokenizer.
    func session() throws -> TraceSession {
        try TraceSession(modelDirectory: URL(fileURLWithPath: model), transcoderDirectory: URL(fileURLWithPath: transcoders))
    }
}

/// Reads `--prompt-file`: missing, unreadable and not-UTF-8 are three different errors.
enum PromptFile {
    static func read(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            if FileManager.default.fileExists(atPath: url.path) { throw TracerError.malformedFile(url.path, "cannot read the prompt file (a folder, or no permission)") }
            throw TracerError.fileNotFound(url.path, what: "prompt file")
        }
        switch UTF8Text.decode(data) {
        case let .success(text): return text
        case let .failure(bad): throw TracerError.malformedFile(url.path, "the prompt file is \(bad)")
        }
    }

    /// The prompt of `--prompt-file`: the file's text, one trailing newline dropped.
    static func readDroppingNewline(_ url: URL) throws -> String {
        let s = try read(url)
        return s.hasSuffix("\n") ? String(s.dropLast()) : s
    }
}

/// Reads `prefilter.json`.
enum Prefilter {
    static func load(_ path: String) throws -> GlobalWeightsTable.Prefilter {
        guard let data = FileManager.default.contents(atPath: path) else { throw TracerError.fileNotFound(path, what: "prefilter") }
        do { return try JSONDecoder().decode(GlobalWeightsTable.Prefilter.self, from: data) } catch {
            throw TracerError.malformedFile(path, "not a prefilter.json of `circuits global-weights`: \(error)")
        }
    }
}
