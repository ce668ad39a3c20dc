import Foundation
import Storage
import Tracer
import Testing
@testable import Training

/// The hand-written backward pass against finite differences of an independent float64
/// implementation of the loss (the oracle below, written from the formula in
/// `TranscoderTrainer`'s documentation, sharing no code with it).
@Suite struct GradientCheckTests {
    struct Case: CustomStringConvertible, Sendable {
        var kind: TrainingOptions.Kind
        var activation: TrainingOptions.ActivationKind
        var skip = false
        var k = 0
        var description: String { "\(kind.rawValue) \(activation.rawValue)\(skip ? " skip" : "")\(k > 0 ? " k=\(k)" : "")" }
    }

    static let cases: [Case] = [
        Case(kind: .plt, activation: .relu, skip: true),
        Case(kind: .plt, activation: .relu),
        Case(kind: .clt, activation: .relu),
        Case(kind: .clt, activation: .jumprelu),
        Case(kind: .plt, activation: .topk, k: 3),
    ]

    @Test(arguments: cases)
    func analyticGradientsMatchFiniteDifferences(_ c: Case) throws {
        let L = 3, d = 4, dT = 6, B = 5
        let shape = TranscoderShape(kind: c.kind, activation: c.activation, k: c.k, skip: c.skip, nLayers: L, dModel: d, dTranscoder: dT)
        let layout = ParameterLayout(shape)
        var rng = SeededRandom(seed: 42)
        var p = [Float](repeating: 0, count: layout.count)
        for i in p.indices { p[i] = 0.5 * rng.normal() }
        if c.activation == .jumprelu { for l in 0..<L { for i in 0..<dT { p[layout.logThreshold[l] + i] = Foundation.log(0.3) } } }
        let x = (0..<(B * L * d)).map { _ in rng.normal() }
        let y = (0..<(B * L * d)).map { _ in rng.normal() }
        let lambda: Float = 0.05

        let trainer = TranscoderTrainer(layout: layout, parameters: p, sparsity: lambda)
        let stats = x.withUnsafeBufferPointer { X in y.withUnsafeBufferPointer { Y in
            trainer.lossAndGradients(x: X.baseAddress!, y: Y.baseAddress!, batch: B) } }
        let oracle = Oracle(layout: layout, x: x.map(Double.init), y: y.map(Double.init), batch: B, lambda: Double(lambda))
        let p64 = p.map(Double.init)
        let base = oracle.loss(p64)
        #expect(base.margin > 1e-4, "\(c): a pre-activation lies within \(base.margin) of a kink; pick another seed")
        #expect(abs(stats.loss - base.loss) <= 1e-5 * max(1, abs(base.loss)), "\(c): loss \(stats.loss) vs oracle \(base.loss)")

        let h = 1e-6
        var worst = 0.0, worstName = ""
        for t in layout.tensors where !t.name.hasPrefix("log_threshold") {  // θ has a pseudo-derivative by design
            for j in t.range {
                var plus = p64, minus = p64
                plus[j] += h; minus[j] -= h
                let fd = (oracle.loss(plus).loss - oracle.loss(minus).loss) / (2 * h)
                let err = abs(Double(trainer.gradients[j]) - fd) / (1e-3 + abs(fd))
                if err > worst { worst = err; worstName = "\(t.name)[\(j - t.offset)]: analytic \(trainer.gradients[j]), finite difference \(fd)" }
            }
        }
        #expect(worst < 2e-3, "\(c): worst relative gradient error \(worst) at \(worstName)")
    }

    @Test func jumpReLUThresholdGradientIsTheRectangleKernelEstimate() throws {
        // One layer, one feature, one token with pre = θ + 0.1 (inside the kernel): ∂L/∂log θ = θ·∂L/∂a·(−θ/ε).
        let shape = TranscoderShape(kind: .plt, activation: .jumprelu, nLayers: 1, dModel: 1, dTranscoder: 1)
        let layout = ParameterLayout(shape)
        var p = [Float](repeating: 0, count: layout.count)
        let theta: Float = 0.5
        p[layout.encoder[0]] = 1; p[layout.encoderBias[0]] = 0; p[layout.logThreshold[0]] = Foundation.log(theta)
        p[layout.decoder[0]] = 2; p[layout.decoderBias[0]] = 0
        let trainer = TranscoderTrainer(layout: layout, parameters: p, sparsity: 0)
        let x: [Float] = [theta + 0.1], y: [Float] = [0]
        trainer.lossAndGradients(x: x, y: y, batch: 1)
        // ŷ = 2·0.6 = 1.2, ∂L/∂ŷ = 2·1.2, ∂L/∂a = 2·2.4 = 4.8
        let eps = TrainingConstants.jumpReLUBandwidth
        let expected = theta * 4.8 * (-theta / eps)
        #expect(abs(trainer.gradients[layout.logThreshold[0]] - expected) < 1e-5 * abs(expected))
    }
}

/// float64 reference of the training loss (see `TranscoderTrainer`), element by element.
struct Oracle {
    let layout: ParameterLayout
    let x: [Double], y: [Double]
    let batch: Int
    let lambda: Double

    /// The loss, and the smallest distance of a pre-activation to a kink (ReLU 0, JumpReLU θ,
    /// TopK: the gap between the k-th and (k+1)-th largest), so callers can tell finite
    /// differences are meaningful.
    func loss(_ p: [Double]) -> (loss: Double, margin: Double) {
        let s = layout.shape, L = s.nLayers, d = s.dModel, dT = s.dTranscoder, B = batch
        var margin = Double.infinity
        var acts = [[Double]](repeating: [Double](repeating: 0, count: B * dT), count: L)
        for l in 0..<L {
            for b in 0..<B {
                var pre = [Double](repeating: 0, count: dT)
                for i in 0..<dT {
                    var v = p[layout.encoderBias[l] + i]
                    for j in 0..<d { v += x[(b * L + l) * d + j] * p[layout.encoder[l] + i * d + j] }
                    pre[i] = v
                }
                switch s.activation {
                case .relu:
                    for i in 0..<dT { acts[l][b * dT + i] = max(pre[i], 0); margin = min(margin, abs(pre[i])) }
                case .jumprelu:
                    for i in 0..<dT {
                        let th = exp(p[layout.logThreshold[l] + i])
                        acts[l][b * dT + i] = pre[i] > th ? pre[i] : 0
                        margin = min(margin, abs(pre[i] - th))
                    }
                case .topk:
                    let sorted = pre.enumerated().sorted { $0.element > $1.element }
                    for j in 0..<s.k { acts[l][b * dT + sorted[j].offset] = sorted[j].element }
                    margin = min(margin, sorted[s.k - 1].element - sorted[s.k].element)
                }
            }
        }
        var total = 0.0
        for m in 0..<L {
            for b in 0..<B {
                for j in 0..<d {
                    var v = p[layout.decoderBias[m] + j]
                    for l in 0...m where s.outputs(of: l).contains(m) {
                        let width = s.outputs(of: l).count * d
                        for i in 0..<dT { v += acts[l][b * dT + i] * p[layout.decoder[l] + i * width + (m - l) * d + j] }
                    }
                    if s.skip { for e in 0..<d { v += x[(b * L + m) * d + e] * p[layout.skip[m] + j * d + e] } }
                    let r = v - y[(b * L + m) * d + j]
                    total += r * r / Double(B * d)
                }
            }
        }
        if s.activation != .topk {
            for l in 0..<L {
                let width = s.outputs(of: l).count * d
                for i in 0..<dT {
                    var n2 = 0.0
                    for j in 0..<width { n2 += p[layout.decoder[l] + i * width + j] * p[layout.decoder[l] + i * width + j] }
                    let n = n2.squareRoot()
                    for b in 0..<B {
                        let u = acts[l][b * dT + i] * n
                        total += lambda / Double(B) * (s.activation == .relu ? u : tanh(Double(TrainingConstants.tanhScale) * u))
                    }
                }
            }
        }
        return (total, margin)
    }
}
