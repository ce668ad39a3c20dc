import Foundation

/// A replacement for every MLP of a model: per-layer transcoders (PLT) or a cross-layer
/// transcoder (CLT), in circuit-tracer's native file formats.
///
/// Encoders, biases, thresholds and skips live in memory; decoder rows stay in the
/// memory-mapped files and are read only for active features (`decoderRows`).
public final class TranscoderSet: Sendable {
    public enum Activation: Equatable, Sendable {
        case relu
        /// `pre · (pre > threshold)` (strict), per-feature thresholds.
        case jumpReLU
        /// Keep the `k` largest pre-activations of each position unchanged (no ReLU, as circuit-tracer).
        case topK(Int)
    }

    public let config: TranscoderConfig
    public let directory: URL
    public let nLayers: Int
    public let dModel: Int
    public let dTranscoder: Int
    public let activation: Activation
    /// `[dTranscoder, dModel]` per layer: `pre = x_in · W_encᵀ + b_enc`.
    public let encoders: [[Float]]
    /// `[dTranscoder]` per layer.
    public let encoderBiases: [[Float]]
    /// `[dTranscoder]` per layer (JumpReLU only).
    public let thresholds: [[Float]?]
    /// `[dModel]` per output layer.
    public let decoderBiases: [[Float]]
    /// `[dModel, dModel]` per layer, stored so that `skip = x_in · S` (PLT: `S = W_skipᵀ`).
    public let skips: [[Float]?]
    /// Where each layer's decoder lives.
    let decoders: [DecoderSource]

    /// Where one source layer's decoder lives: a mapped file, or memory (generated weights).
    enum DecoderSource: Sendable {
        /// `tensor` in `file`, `[dTranscoder, nOutputs·dModel]` when viewed by rows.
        case file(SafeTensorsFile, tensor: String)
        /// `[dTranscoder, nOutputs, dModel]` in memory.
        case memory([Float])
    }

    public var kind: TranscoderConfig.Kind { config.kind }
    public var inputHook: TranscoderConfig.InputHook { config.inputHook }
    public var hasSkip: Bool { skips.contains { $0 != nil } }

    /// Loads the folder `directory` (`config.yaml` plus weights), checking every shape
    /// against the model's `nLayers` and `dModel` when given.
    public init(directory: URL, nLayers expectedLayers: Int? = nil, dModel expectedDModel: Int? = nil) throws {
        let config = try TranscoderConfig(directory: directory)
        self.config = config
        self.directory = directory
        let fm = FileManager.default
        var encoders: [[Float]] = [], encoderBiases: [[Float]] = [], thresholds: [[Float]?] = []
        var decoderBiases: [[Float]] = [], skips: [[Float]?] = [], decoders: [DecoderSource] = []
        var dModel = expectedDModel ?? 0, dT = 0
        var topK: Int? = config.k

        func layerCount(prefix: String, suffix: String) -> Int {
            var n = 0
            while fm.fileExists(atPath: directory.appendingPathComponent("\(prefix)\(n)\(suffix)").path) { n += 1 }
            return n
        }
        func checkShapes(_ file: SafeTensorsFile, _ name: String, _ shape: [Int]) throws {
            _ = try file.info(name, shape: shape)
        }

        switch config.kind {
        case .perLayer:
            if config.files != nil {
                throw TracerError.invalidConfig("per-layer files listed under 'transcoders:' (GemmaScope layouts) are not supported yet; use layer_{l}.safetensors", file: directory.appendingPathComponent("config.yaml").path)
            }
            let n = layerCount(prefix: "layer_", suffix: ".safetensors")
            guard n > 0 else { throw TracerError.fileNotFound(directory.appendingPathComponent("layer_0.safetensors").path, what: "per-layer transcoder") }
            for l in 0..<n {
                let f = try SafeTensorsFile(directory.appendingPathComponent("layer_\(l).safetensors"))
                let enc = try f.info("W_enc")
                guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "W_enc", file: f.url.path, expected: [dT, dModel], actual: enc.shape) }
                if l == 0 { dT = enc.shape[0]; if dModel == 0 { dModel = enc.shape[1] } }
                encoders.append(try f.floats("W_enc", shape: [dT, dModel]))
                encoderBiases.append(try f.floats("b_enc", shape: [dT]))
                try checkShapes(f, "W_dec", [dT, dModel])
                decoderBiases.append(try f.floats("b_dec", shape: [dModel]))
                thresholds.append(f.has("activation_function.threshold") ? try f.floats("activation_function.threshold", shape: [dT]) : nil)
                // skip = x · W_skipᵀ
                skips.append(f.has("W_skip") ? transpose(try f.floats("W_skip", shape: [dModel, dModel]), rows: dModel, cols: dModel) : nil)
                if f.has("k"), topK == nil { topK = Int(try f.floats("k").first ?? 0) }
                decoders.append(.file(f, tensor: "W_dec"))
            }
        case .crossLayer:
            let n = layerCount(prefix: "W_enc_", suffix: ".safetensors")
            guard n > 0 else { throw TracerError.fileNotFound(directory.appendingPathComponent("W_enc_0.safetensors").path, what: "cross-layer transcoder encoder") }
            for l in 0..<n {
                let e = try SafeTensorsFile(directory.appendingPathComponent("W_enc_\(l).safetensors"))
                let enc = try e.info("W_enc_\(l)")
                guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "W_enc_\(l)", file: e.url.path, expected: [dT, dModel], actual: enc.shape) }
                if l == 0 { dT = enc.shape[0]; if dModel == 0 { dModel = enc.shape[1] } }
                encoders.append(try e.floats("W_enc_\(l)", shape: [dT, dModel]))
                encoderBiases.append(try e.floats("b_enc_\(l)", shape: [dT]))
                decoderBiases.append(try e.floats("b_dec_\(l)", shape: [dModel]))
                thresholds.append(e.has("threshold_\(l)") ? try e.floats("threshold_\(l)", shape: [dT]) : nil)
                // CLT skip: x · W_skip (no transpose), when a file carries one.
                skips.append(e.has("W_skip_\(l)") ? try e.floats("W_skip_\(l)", shape: [dModel, dModel]) : nil)
                let d = try SafeTensorsFile(directory.appendingPathComponent("W_dec_\(l).safetensors"))
                try checkShapes(d, "W_dec_\(l)", [dT, n - l, dModel])
                decoders.append(.file(d, tensor: "W_dec_\(l)"))
            }
        }
        let nLayers = encoders.count
        if let expectedLayers, expectedLayers != nLayers {
            throw TracerError.invalidConfig("transcoders cover \(nLayers) layers but the model has \(expectedLayers)", file: directory.path)
        }
        if let expectedDModel, expectedDModel != dModel {
            throw TracerError.invalidConfig("transcoders have d_model \(dModel) but the model has \(expectedDModel)", file: directory.path)
        }
        let hasThreshold = thresholds.contains { $0 != nil }
        switch config.activation {
        case "topk"?:
            guard let k = topK, k > 0 else { throw TracerError.invalidConfig("activation topk needs k", file: directory.appendingPathComponent("config.yaml").path) }
            activation = .topK(k)
        case "relu"?: activation = .relu
        case "jumprelu"?:
            guard hasThreshold else { throw TracerError.invalidConfig("activation jumprelu but no thresholds in the weights", file: directory.path) }
            activation = .jumpReLU
        case nil: activation = hasThreshold ? .jumpReLU : (topK.map { .topK($0) } ?? .relu)
        case let other?: throw TracerError.invalidConfig("activation '\(other)' (expected relu, jumprelu or topk)", file: directory.appendingPathComponent("config.yaml").path)
        }
        if activation == .jumpReLU, thresholds.contains(where: { $0 == nil }) {
            throw TracerError.invalidConfig("JumpReLU thresholds are missing for some layers", file: directory.path)
        }
        self.nLayers = nLayers
        self.dModel = dModel
        self.dTranscoder = dT
        self.encoders = encoders
        self.encoderBiases = encoderBiases
        self.thresholds = thresholds
        self.decoderBiases = decoderBiases
        self.skips = skips
        self.decoders = decoders
    }

    /// The output layers a feature of `layer` writes to.
    public func outputLayers(of layer: Int) -> Range<Int> {
        kind == .perLayer ? layer..<(layer + 1) : layer..<nLayers
    }

    /// Decoder rows of `features` of source `layer` into every output layer it writes to,
    /// read from the mapped file. `[features.count, nOutputs, dModel]`
    public func decoderRows(layer: Int, features: [Int]) throws -> [Float] {
        switch decoders[layer] {
        case let .file(file, tensor):
            return try file.rows(tensor, features)
        case let .memory(w):
            let width = outputLayers(of: layer).count * dModel
            var out = [Float](repeating: 0, count: features.count * width)
            for (i, f) in features.enumerated() {
                out.replaceSubrange((i * width)..<((i + 1) * width), with: w[(f * width)..<((f + 1) * width)])
            }
            return out
        }
    }

    /// The decoder vectors of `features` of source `layer` into output layer `output` (no
    /// allocation; read from the mapped file or memory). `out`: `[features.count, dModel]`
    func decoderRows(layer: Int, features: some Sequence<Int>, output: Int, into out: UnsafeMutablePointer<Float>) {
        let nOut = outputLayers(of: layer).count, part = output - layer
        precondition(part >= 0 && part < nOut, "layer \(layer) does not write to layer \(output)")
        switch decoders[layer] {
        case let .file(file, tensor):
            file.rowParts(file.tensors[tensor]!, rows: features, elementOffset: part * dModel, count: dModel, into: out)
        case let .memory(w):
            w.withUnsafeBufferPointer { W in
                for (i, f) in features.enumerated() {
                    (out + i * dModel).update(from: W.baseAddress! + (f * nOut + part) * dModel, count: dModel)
                }
            }
        }
    }

    /// Transcoders held in memory (generated or trained weights), with the same semantics as
    /// the files: `encoders[l]` `[dT, d]`, `decoders[l]` `[dT, nOutputs(l), d]`, skips as `x · S`.
    public init(config: TranscoderConfig, nLayers: Int, dModel: Int, dTranscoder: Int, activation: Activation,
                encoders: [[Float]], encoderBiases: [[Float]], thresholds: [[Float]?], decoders: [[Float]],
                decoderBiases: [[Float]], skips: [[Float]?]) {
        self.config = config
        self.directory = URL(fileURLWithPath: "/dev/null")
        self.nLayers = nLayers
        self.dModel = dModel
        self.dTranscoder = dTranscoder
        self.activation = activation
        self.encoders = encoders
        self.encoderBiases = encoderBiases
        self.thresholds = thresholds
        self.decoderBiases = decoderBiases
        self.skips = skips
        self.decoders = decoders.map { .memory($0) }
    }
}
