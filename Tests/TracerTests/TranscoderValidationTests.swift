import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Transcoder folders with bad values: a TopK `k` that is not a whole number in
/// `1...d_transcoder`, non-finite parameters, and `config.yaml` that is not acceptable YAML.
/// Each is one error naming the file and the field or tensor.
@Suite struct TranscoderValidationTests {
    /// A scratch copy of the interim transcoders (4 layers, d_transcoder 256, d_model 64).
    static func copy(_ label: String) throws -> (ScratchFolder, URL) {
        let folder = try ScratchFolder(label)
        return (folder, try CorruptFixtures.copyInterim(into: folder.url).transcoders)
    }

    static func loadError(_ plt: URL) -> TracerError? {
        do {
            _ = try TranscoderSet(directory: plt, nLayers: 4, dModel: 64)
            return nil
        } catch let error as TracerError {
            return error
        } catch {
            Issue.record("not a TracerError: \(error)")
            return nil
        }
    }

    /// Findings 4 and 7: the `k` tensor stored with native PLT weights (used to trap converting
    /// NaN, ±Inf or 1e30 to `Int`; negative or fractional `k` were accepted).
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteKIsRefused(k: Float) throws {
        let (folder, plt) = try Self.copy("plt-k-nonfinite")
        defer { folder.remove() }
        let layer = plt.appendingPathComponent("layer_1.safetensors")
        try CorruptFixtures.rewriteSafeTensors(layer) { $0.append(FixtureTensor("k", [1], [k])) }
        guard case let .nonFiniteWeight(tensor, file, _, _)? = Self.loadError(plt) else { Issue.record("k = \(k) accepted"); return }
        #expect(tensor == "k" && file == layer.path)
    }

    @Test(arguments: [Float(1e30), -3, 0, 0.5, 257])
    func kOutsideOneToDTranscoderIsRefused(k: Float) throws {
        let (folder, plt) = try Self.copy("plt-k-range")
        defer { folder.remove() }
        let layer = plt.appendingPathComponent("layer_0.safetensors")
        try CorruptFixtures.rewriteSafeTensors(layer) { $0.append(FixtureTensor("k", [1], [k])) }
        guard case let .invalidConfig(why, file)? = Self.loadError(plt) else { Issue.record("k = \(k) accepted"); return }
        #expect(file == layer.path)
        #expect(why.contains("tensor 'k'") && why.contains("1 to d_transcoder (256)"), "\(why)")
    }

    @Test func validKIsTopK() throws {
        let (folder, plt) = try Self.copy("plt-k-valid")
        defer { folder.remove() }
        try CorruptFixtures.rewriteSafeTensors(plt.appendingPathComponent("layer_0.safetensors")) { $0.append(FixtureTensor("k", [1], [16])) }
        #expect(try TranscoderSet(directory: plt).activation == .topK(16))
    }

    /// Finding 7: a negative (or too large, or fractional) `k:` in config.yaml.
    @Test(arguments: [("k: -2", "k is -2"), ("k: 0", "k is 0"), ("k: 100000", "k is 100000"), ("k: 2.5", "k must be an integer")])
    func configKIsChecked(line: String, expected: String) throws {
        let (folder, plt) = try Self.copy("plt-config-k")
        defer { folder.remove() }
        let config = plt.appendingPathComponent("config.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "activation: topk\n\(line)\n").write(to: config, atomically: true, encoding: .utf8)
        guard case let .invalidConfig(why, file)? = Self.loadError(plt) else { Issue.record("\(line) accepted"); return }
        #expect(file == config.path)
        #expect(why.contains(expected), "\(why)")
    }

    /// Finding 6: NaN or ±Inf in any parameter (encoder, biases, decoder read lazily,
    /// threshold, skip) is refused at load, naming the tensor and its file.
    @Test(arguments: ["W_enc", "b_enc", "W_dec", "b_dec", "activation_function.threshold", "W_skip"])
    func nonFiniteParametersAreRefused(tensor: String) throws {
        let (folder, plt) = try Self.copy("plt-nan")
        defer { folder.remove() }
        let layer = plt.appendingPathComponent("layer_2.safetensors")
        try CorruptFixtures.rewriteSafeTensors(layer) { tensors in
            tensors.append(FixtureTensor("activation_function.threshold", [256], [Float](repeating: 0, count: 256)))
            tensors.append(FixtureTensor("W_skip", [64, 64], [Float](repeating: 0, count: 64 * 64)))
            let t = tensors.firstIndex { $0.name == tensor }!
            tensors[t].values[tensors[t].values.count - 1] = tensor.hasPrefix("b") ? .infinity : .nan
        }
        guard case let .nonFiniteWeight(name, file, _, _)? = Self.loadError(plt) else { Issue.record("\(tensor) accepted"); return }
        #expect(name == tensor && file == layer.path)
    }

    /// Findings 8 and 10: config.yaml that repeats a key, uses an alias bomb, is not UTF-8 or
    /// is not YAML: a `malformedFile` error naming config.yaml, never raw Foundation text.
    @Test(arguments: [
        ("model_kind: transcoder_set\nfeature_input_hook: hook_resid_mid\nfeature_input_hook: mlp.hook_in\n", "key 'feature_input_hook': duplicate key"),
        ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", "alias"),
        ("{{{{ ]]]: :\n\t- x", "not valid YAML"),
        ("- just\n- a list\n", "not a YAML mapping"),
    ])
    func badConfigYAMLIsNamed(text: String, expected: String) throws {
        let (folder, plt) = try Self.copy("plt-yaml")
        defer { folder.remove() }
        let config = plt.appendingPathComponent("config.yaml")
        try text.write(to: config, atomically: true, encoding: .utf8)
        guard case let .malformedFile(file, why)? = Self.loadError(plt) else { Issue.record("accepted: \(text)"); return }
        #expect(file == config.path)
        #expect(why.contains(expected), "\(why)")
    }

    @Test func nonUTF8ConfigYAMLIsNamed() throws {
        let (folder, plt) = try Self.copy("plt-yaml-bytes")
        defer { folder.remove() }
        let config = plt.appendingPathComponent("config.yaml")
        try Data([0x6D, 0x6F, 0xFF, 0xFE, 0x00, 0x93, 0x0A]).write(to: config)
        #expect(throws: TracerError.malformedFile(config.path, "not UTF-8 text (invalid byte at offset 2)")) {
            _ = try TranscoderSet(directory: plt)
        }
    }
}
