import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Inputs that crashed the fuzz targets of `Fuzz/` (docs/fuzzing.md), minimised and committed
/// under `Fuzz/Regressions/<target>/`, fed to the same APIs as the targets: each is now refused
/// with a `TracerError` (or read), never a trap.
@Suite struct FuzzRegressionTests {
    /// Writes input `name` of `target` as `fileName` in a fresh folder and runs `body` on it.
    private func withInput(_ target: String, _ name: String, as fileName: String, _ body: (URL) throws -> Void) throws {
        let scratch = try ScratchFolder("fuzz-regression")
        defer { scratch.remove() }
        try body(try FuzzRegressions.write(target, name, into: scratch.url, as: fileName))
    }

    @Test(arguments: FuzzRegressions.names("FuzzSafeTensors"))
    func safeTensorsIsRefused(name: String) throws {
        try withInput("FuzzSafeTensors", name, as: "model.safetensors") { url in
            #expect(throws: TracerError.self) { try SafeTensorsFile(url) }
        }
    }

    @Test(arguments: FuzzRegressions.names("FuzzModelConfig"))
    func modelConfigIsRefused(name: String) throws {
        try withInput("FuzzModelConfig", name, as: "config.json") { url in
            #expect(throws: TracerError.self) { try ModelConfig(directory: url.deletingLastPathComponent()) }
        }
    }

    @Test(arguments: FuzzRegressions.names("FuzzTranscoderConfig"))
    func transcoderConfigIsRefused(name: String) throws {
        try withInput("FuzzTranscoderConfig", name, as: "config.yaml") { url in
            #expect(throws: TracerError.self) { try TranscoderConfig(directory: url.deletingLastPathComponent()) }
        }
    }

    /// Archives whose directory or entries lie: the archive or the entry is refused.
    @Test(arguments: FuzzRegressions.names("FuzzZip"))
    func zipIsRefused(name: String) throws {
        try withInput("FuzzZip", name, as: "params.npz") { url in
            #expect(throws: TracerError.self) {
                let zip = try ZipArchive(url)
                for entry in zip.entries { _ = try NumPyArray(data: try zip.contents(of: entry)) }
            }
        }
    }

    /// Committed `.npy` inputs that are valid arrays (their conversions trapped); the rest must be refused.
    static let readableNumPy: Set = ["f16-infinity-as-ints.npy"]

    @Test(arguments: FuzzRegressions.names("FuzzNumPy").filter { !readableNumPy.contains($0) })
    func numPyIsRefused(name: String) throws {
        let data = try FuzzRegressions.input("FuzzNumPy", name)
        #expect(throws: TracerError.self) { try NumPyArray(data: data) }
    }

    /// A float16 array holding +∞ read as integers: saturates instead of trapping in `Int(_:)`.
    @Test func numPyInfinityAsInts() throws {
        let array = try NumPyArray(data: try FuzzRegressions.input("FuzzNumPy", "f16-infinity-as-ints.npy"))
        #expect(array.dtype == .f16 && array.shape == [2, 2])
        #expect(array.ints == [1, 0, Int.max, 0])
        #expect(array.bools == [true, false, true, false])
    }

    @Test(arguments: [(Double.nan, 0), (.infinity, Int.max), (-.infinity, Int.min), (0x1p63, Int.max),
                      (-0x1p63, Int.min), (-0x1p64, Int.min), (-2.9, -2), (2.9, 2), (1e18, 1_000_000_000_000_000_000)])
    func saturatingInt(value: Double, expected: Int) {
        #expect(NumPyArray.saturatingInt(value) == expected)
    }
}
