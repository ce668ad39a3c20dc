import Foundation
import Testing
import TestSupport
@testable import Tracer

/// bf16 and f16 checkpoints are computed in float32: a half-precision copy of each reference
/// model, written at test time, must load to exactly the rounded weights and give the logits of
/// the float32 model up to the effect of that rounding.
@Suite struct HalfPrecisionModelTests {
    struct Variant: CustomStringConvertible, Sendable {
        var run: ReferenceRun
        var dtype: FixtureTensor.DType
        var description: String { "\(run) \(dtype.rawValue)" }
    }
    static let variants = referenceCases().flatMap { [Variant(run: $0, dtype: .bf16), Variant(run: $0, dtype: .f16)] }

    /// Rounds like the writer: `Float → dtype → Float`.
    static func rounded(_ x: Float, _ dtype: FixtureTensor.DType) -> Float {
        switch dtype {
        case .bf16: return Float(bitPattern: UInt32(bfloat16Bits(x)) << 16)
        case .f16: return Float(Float16(x))
        case .f32: return x
        }
    }

    /// Copies `model/` with every tensor stored as `dtype` (`asFloat32Rounded`: stored as F32 but
    /// with the rounded values, the same numbers through the F32 path).
    static func copy(_ run: ReferenceRun, dtype: FixtureTensor.DType, asFloat32Rounded: Bool) throws -> URL {
        let dir = try ScratchFolder("half").url
        let src = try SafeTensorsFile(run.modelDir.appendingPathComponent("model.safetensors"))
        let tensors = try src.tensors.keys.sorted().map { name -> FixtureTensor in
            let info = try src.info(name)
            let values = try src.floats(name)
            return asFloat32Rounded ? FixtureTensor(name, info.shape, values.map { rounded($0, dtype) })
                                    : FixtureTensor(name, info.shape, values, dtype: dtype)
        }
        try writeSafeTensors(dir.appendingPathComponent("model.safetensors"), tensors)
        try FileManager.default.copyItem(at: run.modelDir.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        return dir
    }

    @Test(arguments: variants)
    func halfPrecisionWeightsComputeInFloat32(v: Variant) throws {
        let half = try Self.copy(v.run, dtype: v.dtype, asFloat32Rounded: false)
        let rounded = try Self.copy(v.run, dtype: v.dtype, asFloat32Rounded: true)
        defer { try? FileManager.default.removeItem(at: half); try? FileManager.default.removeItem(at: rounded) }
        // The file really is half precision.
        let file = try SafeTensorsFile(half.appendingPathComponent("model.safetensors"))
        #expect(file.tensors.values.allSatisfy { $0.dtype.rawValue == v.dtype.rawValue })

        let tokens = try v.run.array("input_tokens").ints
        let full = try Transformer(directory: v.run.modelDir)
        let h = try Transformer(directory: half)
        let r = try Transformer(directory: rounded)
        // Exact conversion: the half-precision load equals the float32 load of the rounded values.
        #expect(h.weights.embedding == r.weights.embedding && h.weights.unembedding == r.weights.unembedding)
        #expect(h.weights.layers.map(\.wQ) == r.weights.layers.map(\.wQ))
        #expect(h.weights.layers.map(\.wOut) == r.weights.layers.map(\.wOut))
        let hl = try h.forward(tokens: tokens, allLogits: true).allLogits
        let rl = try r.forward(tokens: tokens, allLogits: true).allLogits
        #expect(hl == rl, "\(v): half-precision logits differ from the float32 run on rounded weights")

        // Close to the float32 model: a relative rounding of at most u (unit roundoff: 2⁻⁸ bf16,
        // 2⁻¹¹ f16) of every weight moves the logits by a few u times their size (measured:
        // 2.4–2.8 u); the bound allows 8·u·max|logit|.
        let fl = try full.forward(tokens: tokens, allLogits: true).allLogits
        let u: Double = v.dtype == .bf16 ? 0x1p-8 : 0x1p-11
        let c = closeness(hl, fl, absScale: 8 * u, rel: 0)
        #expect(c.ok, "\(v): \(c)")
        #expect(c.maxAbsDiff > 0, "\(v): rounding had no effect; the copy is not half precision")
    }
}
