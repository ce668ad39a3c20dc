import Foundation

/// One source layer of a transcoder as a file layout gives it, already in the engine's
/// conventions: `pre = x_in · W_encᵀ + b_enc`, `skip = x_in · S`.
struct TranscoderLayer {
    /// `[dTranscoder, dModel]`
    var encoder: [Float]
    /// `[dTranscoder]`
    var encoderBias: [Float]
    /// `[dTranscoder]` (JumpReLU), nil otherwise.
    var threshold: [Float]?
    /// `[dModel]`: the bias of output layer `l`.
    var decoderBias: [Float]
    /// `[dModel, dModel]` with `skip = x_in · S`.
    var skip: [Float]?
    var decoder: TranscoderSet.DecoderSource
    /// A `k` stored with the weights (TopK).
    var k: Int?
}

/// The file layouts `config.yaml` can point at (see `TRANSCODER_FORMATS.md`).
///
/// Without `transcoders:`, the folder holds circuit-tracer's native files. With it, each listed
/// file is one layer, read in its published layout without conversion: GemmaScope v1
/// `params.npz`, GemmaScope-2 safetensors (PLT or CLT, by `model_kind`), or a native-PLT
/// safetensors file (`W_enc`, `W_dec`, ...).
enum TranscoderLayout {
    /// Native PLT: `layer_{l}.safetensors` (`W_enc` `[dT, d]`, `W_dec` `[dT, d]`, `b_enc`, `b_dec`,
    /// optional `activation_function.threshold`, `W_skip` `[d, d]` with skip = x·W_skipᵀ, `k`).
    static func nativePLT(_ url: URL) throws -> TranscoderLayer {
        let f = try SafeTensorsFile(url)
        let enc = try f.info("W_enc")
        guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "W_enc", file: f.url.path, expected: [-1, -1], actual: enc.shape) }
        let dT = enc.shape[0], d = enc.shape[1]
        _ = try f.info("W_dec", shape: [dT, d])
        try f.checkFinite("W_dec")
        return TranscoderLayer(
            encoder: try f.floats("W_enc", shape: [dT, d]),
            encoderBias: try f.floats("b_enc", shape: [dT]),
            threshold: f.has("activation_function.threshold") ? try f.floats("activation_function.threshold", shape: [dT]) : nil,
            decoderBias: try f.floats("b_dec", shape: [d]),
            skip: f.has("W_skip") ? transpose(try f.floats("W_skip", shape: [d, d]), rows: d, cols: d) : nil,
            decoder: .file(f, tensor: "W_dec", columns: nil),
            k: f.has("k") ? try topK(f, dTranscoder: dT) : nil)
    }

    /// Native CLT: `W_enc_{l}.safetensors` (`W_enc_l` `[dT, d]`, `b_enc_l`, `b_dec_l`, optional
    /// `threshold_l`, `W_skip_l` with skip = x·W_skip) and `W_dec_{l}.safetensors` (`W_dec_l`
    /// `[dT, nLayers − l, d]`).
    static func nativeCLT(encoder encURL: URL, decoder decURL: URL, layer l: Int, nLayers: Int) throws -> TranscoderLayer {
        let e = try SafeTensorsFile(encURL)
        let enc = try e.info("W_enc_\(l)")
        guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "W_enc_\(l)", file: e.url.path, expected: [-1, -1], actual: enc.shape) }
        let dT = enc.shape[0], d = enc.shape[1]
        let dec = try SafeTensorsFile(decURL)
        _ = try dec.info("W_dec_\(l)", shape: [dT, nLayers - l, d])
        try dec.checkFinite("W_dec_\(l)")
        return TranscoderLayer(
            encoder: try e.floats("W_enc_\(l)", shape: [dT, d]),
            encoderBias: try e.floats("b_enc_\(l)", shape: [dT]),
            threshold: e.has("threshold_\(l)") ? try e.floats("threshold_\(l)", shape: [dT]) : nil,
            decoderBias: try e.floats("b_dec_\(l)", shape: [d]),
            skip: e.has("W_skip_\(l)") ? try e.floats("W_skip_\(l)", shape: [d, d]) : nil,
            decoder: .file(dec, tensor: "W_dec_\(l)", columns: nil),
            k: nil)
    }

    /// GemmaScope v1 `params.npz`: `W_enc` `[d, dT]` (transposed on load), `W_dec` `[dT, d]`,
    /// `b_enc`, `b_dec`, `threshold` (JumpReLU). Held in memory (the archive is read whole).
    static func gemmaScopeNPZ(_ url: URL) throws -> TranscoderLayer {
        let z = try NumPyArchive(url)
        let enc = try z.array("W_enc")
        guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "W_enc", file: url.path, expected: [-1, -1], actual: enc.shape) }
        let d = enc.shape[0], dT = enc.shape[1]
        // W_enc[dT, d] = (W_enc as stored [d, dT])ᵀ
        return TranscoderLayer(
            encoder: transpose(try z.floats("W_enc", shape: [d, dT]), rows: d, cols: dT),
            encoderBias: try z.floats("b_enc", shape: [dT]),
            threshold: z.has("threshold") ? try z.floats("threshold", shape: [dT]) : nil,
            decoderBias: try z.floats("b_dec", shape: [d]),
            skip: nil,
            decoder: .memory(try z.floats("W_dec", shape: [dT, d])),
            k: nil)
    }

    /// GemmaScope-2 per-layer safetensors: `w_enc` `[d, dT]`, `b_enc`, `b_dec`, `threshold`, and
    /// either a PLT decoder `w_dec` `[dT, d]` (optional `affine_skip_connection` `[d, d]`,
    /// `W_skip = affineᵀ`, so skip = x·affine) or, for a CLT, `w_dec` `[dT, nLayers, d]` of which
    /// source layer `l` uses `w_dec[:, l:, :]` (read lazily, row by row).
    static func gemmaScope2(_ url: URL, layer l: Int, nLayers: Int, crossLayer: Bool) throws -> TranscoderLayer {
        let f = try SafeTensorsFile(url)
        let enc = try f.info("w_enc")
        guard enc.shape.count == 2 else { throw TracerError.shapeMismatch(tensor: "w_enc", file: f.url.path, expected: [-1, -1], actual: enc.shape) }
        let d = enc.shape[0], dT = enc.shape[1]
        let decoder: TranscoderSet.DecoderSource
        if crossLayer {
            _ = try f.info("w_dec", shape: [dT, nLayers, d])
            decoder = .file(f, tensor: "w_dec", columns: (l * d)..<(nLayers * d))
        } else {
            _ = try f.info("w_dec", shape: [dT, d])
            decoder = .file(f, tensor: "w_dec", columns: nil)
        }
        try f.checkFinite("w_dec")
        return TranscoderLayer(
            encoder: transpose(try f.floats("w_enc", shape: [d, dT]), rows: d, cols: dT),
            encoderBias: try f.floats("b_enc", shape: [dT]),
            threshold: f.has("threshold") ? try f.floats("threshold", shape: [dT]) : nil,
            decoderBias: try f.floats("b_dec", shape: [d]),
            skip: f.has("affine_skip_connection") ? try f.floats("affine_skip_connection", shape: [d, d]) : nil,
            decoder: decoder,
            k: nil)
    }

    /// The `k` stored with native PLT weights: one finite integer in `1...dTranscoder` (it is
    /// stored as a float tensor; NaN and ±Inf are already refused by `floats`).
    static func topK(_ f: SafeTensorsFile, dTranscoder: Int) throws -> Int {
        let values = try f.floats("k")
        guard values.count == 1, let k = Int(exactly: values[0]), k >= 1, k <= dTranscoder else {
            throw TracerError.invalidConfig("tensor 'k' is \(values.prefix(4)); TopK needs one whole number from 1 to d_transcoder (\(dTranscoder))", file: f.url.path)
        }
        return k
    }

    /// One file listed under `transcoders:`, in whichever published layout it has.
    static func listed(_ url: URL, layer l: Int, nLayers: Int, kind: TranscoderConfig.Kind) throws -> TranscoderLayer {
        if url.pathExtension.lowercased() == "npz" {
            guard kind == .perLayer else {
                throw TracerError.invalidConfig("\(url.lastPathComponent) is a GemmaScope v1 params.npz (per-layer) but model_kind is cross_layer_transcoder", file: url.path)
            }
            return try gemmaScopeNPZ(url)
        }
        let f = try SafeTensorsFile(url)
        if f.has("w_enc") { return try gemmaScope2(url, layer: l, nLayers: nLayers, crossLayer: kind == .crossLayer) }
        if f.has("W_enc"), kind == .perLayer { return try nativePLT(url) }
        throw TracerError.malformedFile(url.path, "neither a GemmaScope-2 transcoder (w_enc, w_dec, ...) nor a native per-layer one (W_enc, W_dec, ...); tensors: \(f.tensors.keys.sorted().prefix(8).joined(separator: ", "))")
    }
}
