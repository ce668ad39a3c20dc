import Foundation

/// A replacement for every MLP of a model: per-layer transcoders (PLT) or a cross-layer
/// transcoder (CLT), in circuit-tracer's native file formats or the published GemmaScope
/// layouts listed under `transcoders:` (`TranscoderLayout`).
///
/// Encoders, biases, thresholds and skips live in memory; decoder rows stay in the
/// memory-mapped safetensors files and are read only for active features (`decoderRows`);
/// `.npz` decoders are held in memory.
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

    /// Where one source layer's decoder lives: a mapped file, or memory (generated or npz weights).
    enum DecoderSource: Sendable {
        /// `tensor` in `file`, viewed by rows (`[dTranscoder, rowLength]`), each row cut to
        /// `columns` (nil: whole rows) = `[nOutputs·dModel]`.
        case file(SafeTensorsFile, tensor: String, columns: Range<Int>?)
        /// `[dTranscoder, nOutputs, dModel]` in memory.
        case memory([Float])
    }

    public var kind: TranscoderConfig.Kind { config.kind }
    public var inputHook: TranscoderConfig.InputHook { config.inputHook }
    public var hasSkip: Bool { skips.contains { $0 != nil } }

    /// Loads the folder `directory` (`config.yaml` plus weights, in any layout of
    /// `TranscoderLayout`), checking every shape against the model's `nLayers` and `dModel`
    /// when given.
    public init(directory: URL, nLayers expectedLayers: Int? = nil, dModel expectedDModel: Int? = nil) throws {
        let config = try TranscoderConfig(directory: directory)
        self.config = config
        self.directory = directory
        let configPath = directory.appendingPathComponent("config.yaml").path
        let fm = FileManager.default
        func layerCount(prefix: String, suffix: String) -> Int {
            var n = 0
            while fm.fileExists(atPath: directory.appendingPathComponent("\(prefix)\(n)\(suffix)").path) { n += 1 }
            return n
        }

        var parts: [TranscoderLayer] = []
        if let files = config.files {
            guard !files.isEmpty else { throw TracerError.invalidConfig("'transcoders:' lists no files", file: configPath) }
            let urls = try files.map { entry -> URL in
                if entry.contains("://") {
                    throw TracerError.invalidConfig("'transcoders:' entry '\(entry)' is a remote reference; download it and list the local path (relative to the folder)", file: configPath)
                }
                return entry.hasPrefix("/") ? URL(fileURLWithPath: entry) : directory.appendingPathComponent(entry)
            }
            for (l, url) in urls.enumerated() {
                guard fm.fileExists(atPath: url.path) else {
                    throw TracerError.fileNotFound(url.path, what: "transcoder of layer \(l) (listed under 'transcoders:' in \(configPath))")
                }
                parts.append(try TranscoderLayout.listed(url, layer: l, nLayers: urls.count, kind: config.kind))
            }
        } else {
            switch config.kind {
            case .perLayer:
                let n = layerCount(prefix: "layer_", suffix: ".safetensors")
                guard n > 0 else { throw TracerError.fileNotFound(directory.appendingPathComponent("layer_0.safetensors").path, what: "per-layer transcoder") }
                parts = try (0..<n).map { try TranscoderLayout.nativePLT(directory.appendingPathComponent("layer_\($0).safetensors")) }
            case .crossLayer:
                let n = layerCount(prefix: "W_enc_", suffix: ".safetensors")
                guard n > 0 else { throw TracerError.fileNotFound(directory.appendingPathComponent("W_enc_0.safetensors").path, what: "cross-layer transcoder encoder") }
                parts = try (0..<n).map {
                    try TranscoderLayout.nativeCLT(encoder: directory.appendingPathComponent("W_enc_\($0).safetensors"),
                                                   decoder: directory.appendingPathComponent("W_dec_\($0).safetensors"), layer: $0, nLayers: n)
                }
            }
        }

        // One width and one d_model across layers; every parameter held in memory was checked
        // finite when read, and every lazily read decoder once, by `checkFinite`, at load.
        let dT = parts[0].encoderBias.count, dModel = parts[0].decoderBias.count
        guard dT > 0, dModel > 0 else {
            throw TracerError.invalidConfig("transcoders have d_transcoder \(dT) and d_model \(dModel); both must be at least 1", file: directory.path)
        }
        for (l, p) in parts.enumerated() where p.encoderBias.count != dT || p.decoderBias.count != dModel {
            throw TracerError.invalidConfig("layer \(l) has d_transcoder \(p.encoderBias.count) and d_model \(p.decoderBias.count), layer 0 has \(dT) and \(dModel)", file: directory.path)
        }
        let nLayers = parts.count
        if let expectedLayers, expectedLayers != nLayers {
            throw TracerError.invalidConfig("transcoders cover \(nLayers) layers but the model has \(expectedLayers)", file: directory.path)
        }
        if let expectedDModel, expectedDModel != dModel {
            throw TracerError.invalidConfig("transcoders have d_model \(dModel) but the model has \(expectedDModel)", file: directory.path)
        }
        if let k = config.k, !(1...dT).contains(k) {
            throw TracerError.invalidConfig("k is \(k); TopK needs a whole number from 1 to d_transcoder (\(dT))", file: configPath)
        }
        let topK = config.k ?? parts.compactMap(\.k).first
        let hasThreshold = parts.contains { $0.threshold != nil }
        switch config.activation {
        case "topk"?:
            guard let k = topK, k > 0 else { throw TracerError.invalidConfig("activation topk needs k", file: configPath) }
            activation = .topK(k)
        case "relu"?: activation = .relu
        case "jumprelu"?:
            guard hasThreshold else { throw TracerError.invalidConfig("activation jumprelu but no thresholds in the weights", file: directory.path) }
            activation = .jumpReLU
        case nil: activation = hasThreshold ? .jumpReLU : (topK.map { .topK($0) } ?? .relu)
        case let other?: throw TracerError.invalidConfig("activation '\(other)' (expected relu, jumprelu or topk)", file: configPath)
        }
        if activation == .jumpReLU, parts.contains(where: { $0.threshold == nil }) {
            throw TracerError.invalidConfig("JumpReLU thresholds are missing for some layers", file: directory.path)
        }
        self.nLayers = nLayers
        self.dModel = dModel
        self.dTranscoder = dT
        self.encoders = parts.map(\.encoder)
        self.encoderBiases = parts.map(\.encoderBias)
        self.thresholds = parts.map(\.threshold)
        self.decoderBiases = parts.map(\.decoderBias)
        self.skips = parts.map(\.skip)
        self.decoders = parts.map(\.decoder)
    }

    /// The output layers a feature of `layer` writes to.
    public func outputLayers(of layer: Int) -> Range<Int> {
        kind == .perLayer ? layer..<(layer + 1) : layer..<nLayers
    }

    /// Decoder rows of `features` of source `layer` into every output layer it writes to,
    /// read from the mapped file. `[features.count, nOutputs, dModel]`
    public func decoderRows(layer: Int, features: [Int]) throws -> [Float] {
        switch decoders[layer] {
        case let .file(file, tensor, columns):
            return try file.rows(tensor, features, columns: columns)
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
        case let .file(file, tensor, columns):
            // `columns` (GemmaScope-2 CLT) starts the source layer's window inside each row.
            file.rowParts(file.tensors[tensor]!, rows: features, elementOffset: (columns?.lowerBound ?? 0) + part * dModel,
                          count: dModel, into: out)
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
