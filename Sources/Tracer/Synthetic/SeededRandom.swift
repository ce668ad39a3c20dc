/// SplitMix64: a small, fast, seedable generator; the same seed gives the same weights on
/// every machine. Its whole state is one public word, so checkpoints can store and restore it.
public struct SeededRandom: RandomNumberGenerator, Sendable {
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

    /// A standard normal sample (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1.0p-53 + 0x1.0p-54
        let u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2))
    }

    /// A uniform integer in `0..<n` (Lemire's multiply-shift; bias < n/2⁶⁴, irrelevant here).
    public mutating func below(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// `count` normal samples times `std`.
    public mutating func normals(_ count: Int, std: Float) -> [Float] {
        (0..<count).map { _ in normal() * std }
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
