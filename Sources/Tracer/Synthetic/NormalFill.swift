import Foundation

/// Large seeded normal draws for synthetic models of real sizes (billions of weights), on every
/// core: the tensor is cut into fixed 1 Mi-element chunks, chunk `c` drawn from its own
/// `SeededRandom(seed ⊕ c)` with both Box–Muller outputs used, so the values depend on the seed
/// and the count only, never on the thread count.
public enum NormalFill {
    /// Rounding applied to every sample.
    public enum Storage: String, Sendable, CaseIterable {
        case f32
        /// Round to the nearest bfloat16 (ties to even): the values a bf16 checkpoint holds.
        case bf16
    }

    static let chunk = 1 << 20

    /// `count` normal samples × `std`, rounded to `storage`.
    public static func normals(_ count: Int, std: Float, seed: UInt64, storage: Storage) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buf, n in
            let base = OutputPointer(pointer: buf.baseAddress!)
            let nChunks = (count + chunk - 1) / chunk
            DispatchQueue.concurrentPerform(iterations: nChunks) { c in
                var rng = SeededRandom(seed: seed ^ (UInt64(c) &* 0xD1B5_4A32_D192_ED03))
                let start = c * chunk, end = min(start + chunk, count)
                var i = start
                while i < end {
                    // Box–Muller: two independent samples per pair of uniforms.
                    let u1 = Double(rng.next() >> 11) * 0x1.0p-53 + 0x1.0p-54
                    let u2 = Double(rng.next() >> 11) * 0x1.0p-53
                    let r = (-2 * Foundation.log(u1)).squareRoot(), a = 2 * Double.pi * u2
                    base.pointer[i] = round(Float(r * Foundation.cos(a)) * std, storage)
                    if i + 1 < end { base.pointer[i + 1] = round(Float(r * Foundation.sin(a)) * std, storage) }
                    i += 2
                }
            }
            n = count
        }
    }

    /// The output buffer, shared by the chunks; each chunk writes only its own range.
    private struct OutputPointer: @unchecked Sendable { let pointer: UnsafeMutablePointer<Float> }

    /// `x` as stored in `storage` (bf16: round to nearest, ties to even).
    @inline(__always)
    public static func round(_ x: Float, _ storage: Storage) -> Float {
        guard storage == .bf16, x.isFinite else { return x }
        let b = x.bitPattern
        return Float(bitPattern: (b &+ 0x7FFF &+ ((b >> 16) & 1)) & 0xFFFF_0000)
    }
}
