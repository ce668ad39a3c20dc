import Foundation

/// The shape of a transcoder being trained.
public struct TranscoderShape: Codable, Equatable, Sendable {
    public var kind: TrainingOptions.Kind
    public var activation: TrainingOptions.ActivationKind
    /// TopK's k (0 otherwise).
    public var k: Int
    public var skip: Bool
    public var nLayers: Int
    public var dModel: Int
    public var dTranscoder: Int

    public init(kind: TrainingOptions.Kind, activation: TrainingOptions.ActivationKind, k: Int = 0, skip: Bool = false,
                nLayers: Int, dModel: Int, dTranscoder: Int) {
        self.kind = kind; self.activation = activation; self.k = k; self.skip = skip
        self.nLayers = nLayers; self.dModel = dModel; self.dTranscoder = dTranscoder
    }

    /// Output layers written by features of source layer `l`: `l` (PLT) or `l ..< nLayers` (CLT).
    public func outputs(of l: Int) -> Range<Int> { kind == .plt ? l..<(l + 1) : l..<nLayers }
}

/// One named tensor of the parameter arena.
public struct ParameterTensor: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// First element in the arena.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Every trainable tensor of a transcoder in one contiguous arena (llm.c style): a size table
/// cuts `[Float]` storage into named views, so Adam, gradients and checkpoints treat the model
/// as one vector. All in the trainer's normalised units (see `TranscoderTrainer`).
///
/// Per source layer `l`:
/// - `W_enc_l` `[dT, d]`: `pre = x̃ · W_encᵀ + b_enc`
/// - `b_enc_l` `[dT]`
/// - `log_threshold_l` `[dT]` (JumpReLU): `θ = exp(log_threshold)`
/// - `W_dec_l` `[dT, nOutputs(l)·d]`: output layer `m` in columns `(m − l)·d ..< (m − l + 1)·d`
/// - `b_dec_l` `[d]`: the bias of output layer `l`
/// - `W_skip_l` `[d, d]` (PLT with skip): `ŷ += x̃ · W_skipᵀ`
public struct ParameterLayout: Codable, Equatable, Sendable {
    public let shape: TranscoderShape
    public private(set) var tensors: [ParameterTensor] = []
    public private(set) var count = 0
    public private(set) var encoder: [Int] = []
    public private(set) var encoderBias: [Int] = []
    /// Offsets of `log_threshold_l` (JumpReLU only; else empty).
    public private(set) var logThreshold: [Int] = []
    public private(set) var decoder: [Int] = []
    public private(set) var decoderBias: [Int] = []
    /// Offsets of `W_skip_l` (skip only; else empty).
    public private(set) var skip: [Int] = []

    public init(_ shape: TranscoderShape) {
        self.shape = shape
        let d = shape.dModel, dT = shape.dTranscoder
        for l in 0..<shape.nLayers {
            encoder.append(add("W_enc_\(l)", [dT, d]))
            encoderBias.append(add("b_enc_\(l)", [dT]))
            if shape.activation == .jumprelu { logThreshold.append(add("log_threshold_\(l)", [dT])) }
            decoder.append(add("W_dec_\(l)", [dT, shape.outputs(of: l).count * d]))
            decoderBias.append(add("b_dec_\(l)", [d]))
            if shape.skip { skip.append(add("W_skip_\(l)", [d, d])) }
        }
    }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let t = ParameterTensor(name: name, shape: shape, offset: count)
        tensors.append(t)
        count += t.count
        return t.offset
    }

    /// Floats per decoder row of layer `l` (`nOutputs(l)·dModel`).
    public func decoderRowLength(_ l: Int) -> Int { shape.outputs(of: l).count * shape.dModel }
}
