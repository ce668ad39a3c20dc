import Foundation
import Storage

/// A transcoder folder's `config.yaml`, as circuit-tracer reads it.
public struct TranscoderConfig: Equatable, Sendable {
    public enum Kind: String, Sendable { case perLayer = "transcoder_set", crossLayer = "cross_layer_transcoder" }
    /// Where features read the residual stream, relative to `blocks.{l}`.
    public enum InputHook: String, Sendable, CaseIterable {
        /// The residual after attention (`x_in = resid_mid`).
        case residMid = "hook_resid_mid"
        /// The pre-MLP norm before its weight (`(x − mean)/s` or `x/s`).
        case ln2Normalized = "ln2.hook_normalized"
        /// The MLP's actual input, after the norm's weight and bias.
        case mlpIn = "mlp.hook_in"
    }
    /// Where features write; both hooks carry the same value.
    public enum OutputHook: String, Sendable, CaseIterable { case mlpOut = "hook_mlp_out", mlpHookOut = "mlp.hook_out" }

    public var kind: Kind
    public var inputHook: InputHook
    public var outputHook: OutputHook
    public var scan: String?
    /// Explicit per-layer files (`transcoders:`), relative to the folder; nil for the native layout.
    public var files: [String]?
    /// `activation:` override (`relu`, `topk`, `jumprelu`).
    public var activation: String?
    public var k: Int?

    public init(kind: Kind, inputHook: InputHook, outputHook: OutputHook = .mlpOut, scan: String? = nil) {
        self.kind = kind
        self.inputHook = inputHook
        self.outputHook = outputHook
        self.scan = scan
    }

    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("config.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TracerError.fileNotFound(url.path, what: "transcoder config")
        }
        // Strict YAML: not UTF-8, bad syntax, repeated keys and aliases of lists or mappings are
        // errors naming the file (and the key).
        let parsed: Any?
        do { parsed = try StrictYAML.load(contentsOf: url) } catch let error as StrictYAMLError {
            throw TracerError.malformedFile(url.path, (error.key.map { "key '\($0)': " } ?? "") + error.reason)
        }
        guard let yaml = parsed as? [String: Any] else {
            throw TracerError.malformedFile(url.path, "not a YAML mapping (expected model_kind, feature_input_hook, ...)")
        }
        func string(_ key: String) -> String? { yaml[key].map { "\($0)" } }
        let kindText = string("model_kind") ?? "transcoder_set"
        guard let kind = Kind(rawValue: kindText) else {
            throw TracerError.invalidConfig("model_kind '\(kindText)' (expected transcoder_set or cross_layer_transcoder)", file: url.path)
        }
        guard let inText = string("feature_input_hook") else {
            throw TracerError.invalidConfig("missing feature_input_hook", file: url.path)
        }
        guard let input = InputHook(rawValue: inText) else {
            throw TracerError.invalidConfig("feature_input_hook '\(inText)' (expected one of \(InputHook.allCases.map(\.rawValue).joined(separator: ", ")))", file: url.path)
        }
        let outText = string("feature_output_hook") ?? "hook_mlp_out"
        guard let output = OutputHook(rawValue: outText) else {
            throw TracerError.invalidConfig("feature_output_hook '\(outText)' (expected hook_mlp_out or mlp.hook_out)", file: url.path)
        }
        self.kind = kind
        self.inputHook = input
        self.outputHook = output
        self.scan = string("scan")
        self.files = (yaml["transcoders"] as? [Any])?.map { "\($0)" }
        self.activation = string("activation")?.lowercased()
        if let raw = yaml["k"], !(raw is NSNull) {
            // Range (1...d_transcoder) is checked against the weights by `TranscoderSet`.
            guard let k = raw as? Int else { throw TracerError.invalidConfig("k must be an integer, found '\(raw)'", file: url.path) }
            self.k = k
        }
    }
}
