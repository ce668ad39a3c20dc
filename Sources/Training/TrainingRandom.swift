import Foundation

/// SplitMix64 with its state exposed, so that a checkpoint can store and restore it exactly
/// (the engine's `SeededRandom` keeps its state private).
public struct TrainingRandom: RandomNumberGenerator, Sendable {
    /// The whole generator state.
    public var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box–Muller, one output per call).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1.0p-53 + 0x1.0p-54
        let u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
    }

    /// A uniform integer in `0..<n` (Lemire's multiply-shift; bias < n/2⁶⁴, irrelevant here).
    public mutating func below(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }
}
