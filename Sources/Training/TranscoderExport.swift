import Foundation
import Tracer

/// Writes trained parameters in circuit-tracer's native layout (see TRANSCODER_FORMATS.md),
/// in model units (the normalisation folded in), which `TranscoderSet(directory:)` and
/// circuit-tracer's `load_transcoder_set` both read:
///
/// - PLT: `layer_{l}.safetensors` with `W_enc` `[dT, d]`, `b_enc` `[dT]`, `W_dec` `[dT, d]`,
///   `b_dec` `[d]`, JumpReLU `activation_function.threshold` `[dT]`, skip `W_skip` `[d, d]`
///   (`skip = x · W_skipᵀ`);
/// - CLT: `W_enc_{l}.safetensors` with `W_enc_{l}`, `b_enc_{l}`, `b_dec_{l}`, JumpReLU
///   `threshold_{l}`, and `W_dec_{l}.safetensors` with `W_dec_{l}` `[dT, nLayers − l, d]`;
/// - `config.yaml`: `model_kind`, `feature_input_hook`, `feature_output_hook: hook_mlp_out`,
///   `scan`, `activation` (and `k` for TopK).
///
/// Folding: `W_enc = W̃_enc / r_l` (pre-activations, biases and thresholds unchanged),
/// `W_dec[·, m] = s_m · W̃_dec[·, m]`, `b_dec_m = s_m · b̃_dec_m`, `W_skip = (s_l / r_l) · W̃_skip`.
public enum TranscoderExport {
    /// Writes the files into `directory` (created if needed).
    public static func write(parameters p: [Float], layout: ParameterLayout, normalization: Normalization,
                             inputHook: TranscoderConfig.InputHook, modelName: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let s = layout.shape, d = s.dModel, dT = s.dTranscoder, L = s.nLayers
        for l in 0..<L {
            let r = normalization.inputScale[l]
            let enc = p[layout.encoder[l]..<(layout.encoder[l] + dT * d)].map { $0 / r }
            let bEnc = Array(p[layout.encoderBias[l]..<(layout.encoderBias[l] + dT)])
            let bDec = p[layout.decoderBias[l]..<(layout.decoderBias[l] + d)].map { $0 * normalization.outputScale[l] }
            let width = layout.decoderRowLength(l)
            var dec = Array(p[layout.decoder[l]..<(layout.decoder[l] + dT * width)])
            for i in 0..<dT {
                for (j, m) in s.outputs(of: l).enumerated() {
                    let sm = normalization.outputScale[m]
                    for e in 0..<d { dec[i * width + j * d + e] *= sm }
                }
            }
            let threshold = layout.logThreshold.isEmpty ? nil
                : p[layout.logThreshold[l]..<(layout.logThreshold[l] + dT)].map { Foundation.exp($0) }
            switch s.kind {
            case .plt:
                var tensors = [SafeTensorsWriter.Tensor("W_enc", [dT, d], enc), .init("b_enc", [dT], bEnc),
                               .init("W_dec", [dT, d], dec), .init("b_dec", [d], bDec)]
                if let threshold { tensors.append(.init("activation_function.threshold", [dT], threshold)) }
                if s.skip {
                    let f = normalization.outputScale[l] / r
                    tensors.append(.init("W_skip", [d, d], p[layout.skip[l]..<(layout.skip[l] + d * d)].map { $0 * f }))
                }
                try SafeTensorsWriter.write(tensors, to: directory.appendingPathComponent("layer_\(l).safetensors"))
            case .clt:
                var tensors = [SafeTensorsWriter.Tensor("W_enc_\(l)", [dT, d], enc), .init("b_enc_\(l)", [dT], bEnc),
                               .init("b_dec_\(l)", [d], bDec)]
                if let threshold { tensors.append(.init("threshold_\(l)", [dT], threshold)) }
                try SafeTensorsWriter.write(tensors, to: directory.appendingPathComponent("W_enc_\(l).safetensors"))
                try SafeTensorsWriter.write([.init("W_dec_\(l)", [dT, L - l, d], dec)],
                                            to: directory.appendingPathComponent("W_dec_\(l).safetensors"))
            }
        }
        try config(shape: s, inputHook: inputHook, modelName: modelName)
            .write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
    }

    /// The folder's `config.yaml`.
    static func config(shape s: TranscoderShape, inputHook: TranscoderConfig.InputHook, modelName: String) -> String {
        let kind: TranscoderConfig.Kind = s.kind == .plt ? .perLayer : .crossLayer
        var lines = [
            "# Trained by circuits train-transcoders.",
            "model_name: \(yamlQuoted(modelName))",
            "model_kind: \(kind.rawValue)",
            "feature_input_hook: \(inputHook.rawValue)",
            "feature_output_hook: \(TranscoderConfig.OutputHook.mlpOut.rawValue)",
            "scan: \(yamlQuoted("circuits-train/\(s.kind.rawValue)-\(s.activation.rawValue)-\(s.dTranscoder)"))",
            "activation: \(s.activation.rawValue)",
        ]
        if s.activation == .topk { lines.append("k: \(s.k)") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func yamlQuoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
