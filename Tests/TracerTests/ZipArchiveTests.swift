import Foundation
import Testing
import TestSupport
@testable import Tracer

/// The zip / `.npz` reader against files NumPy wrote (`Tests/Fixtures/npz/make_npz.py`) and
/// archives written here, stored and deflated.
@Suite struct ZipArchiveTests {
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/npz")

    @Test(arguments: ["stored.npz", "compressed.npz"])
    func readsNumPyArchives(name: String) throws {
        let z = try NumPyArchive(Self.fixtures.appendingPathComponent(name))
        // The formulas of make_npz.py, recomputed.
        let wEnc = try z.array("W_enc")
        #expect(wEnc.shape == [5, 12] && wEnc.dtype == .f32)
        var expectedEnc: [Float] = []
        for i in 0..<5 { for j in 0..<12 { expectedEnc.append(Float(Double(i * 7 + j) / 16 - 3)) } }
        #expect(wEnc.floats == expectedEnc)
        let bEnc = try z.array("b_enc")
        let expectedBias: [Double] = (0..<12).map { Double($0) / 4 - 1 }
        #expect(bEnc.dtype == .f64 && bEnc.doubles == expectedBias)
        let thr = try z.array("threshold")
        let expectedThreshold: [Float] = (0..<12).map { Float($0) / 8 }
        #expect(thr.dtype == .f16 && thr.floats == expectedThreshold)
        if name == "compressed.npz" {
            let big = try z.floats("big", shape: [20000])
            let expected: [Float] = (0..<20000).map { Float(sin(Double($0))) }
            #expect(big == expected)
        }
        #expect(throws: TracerError.shapeMismatch(tensor: "b_enc", file: z.url.path, expected: [3], actual: [12])) { try z.floats("b_enc", shape: [3]) }
    }

    @Test(arguments: [false, true])
    func roundTripsWrittenArchives(deflate: Bool) throws {
        let scratch = try ScratchFolder("zip"), dir = scratch.url
        defer { scratch.remove() }
        var rng = SeededRandom(seed: 3)
        let a = rng.normals(3000, std: 1), b = rng.normals(7, std: 2)
        let url = dir.appendingPathComponent("params.npz")
        try writeNPZ(url, [("a", [30, 100], a), ("b", [7], b)], deflate: deflate)
        let zip = try ZipArchive(url)
        #expect(zip.entries.map(\.name) == ["a.npy", "b.npy"])
        #expect(zip.entries.allSatisfy { $0.method == (deflate ? 8 : 0) })
        let z = try NumPyArchive(url)
        #expect(try z.floats("a", shape: [30, 100]) == a)
        #expect(try z.floats("b") == b)
    }

    @Test func corruptArchivesNameTheFileAndEntry() throws {
        let scratch = try ScratchFolder("zipbad"), dir = scratch.url
        defer { scratch.remove() }
        let url = dir.appendingPathComponent("params.npz")
        try writeNPZ(url, [("W_dec", [4, 64], (0..<256).map { Float($0) })], deflate: true)
        // Flip a byte inside the deflated payload: the CRC or the stream must fail.
        var bytes = try Data(contentsOf: url)
        bytes[80] ^= 0xFF
        try bytes.write(to: url)
        #expect { try NumPyArchive(url) } throws: { e in "\(e)".contains(url.path) && "\(e)".contains("W_dec.npy") }
        try Data([0x50, 0x4B, 0x03, 0x04]).write(to: url)
        #expect { try ZipArchive(url) } throws: { e in "\(e)".contains(url.path) }
    }
}
