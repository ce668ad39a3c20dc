import Foundation
import Testing
import TestSupport
import Tracer
@testable import Training

/// The writer against the engine's reader, and the header layout the format prescribes.
@Suite struct SafeTensorsWriterTests {
    @Test func roundTripsThroughTheEngineReader() throws {
        let scratch = try ScratchFolder("safetensors-writer")
        defer { scratch.remove() }
        let a: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }
        let b: [Float] = [.pi, -0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-30]
        let url = scratch.file("t.safetensors")
        try SafeTensorsWriter.write([.init("W_dec_3", [2, 3, 2], a), .init("activation_function.threshold", [5], b),
                                     .init("s", [1], [7])], to: url, metadata: ["format": "pt"])
        let file = try SafeTensorsFile(url)
        #expect(try file.floats("W_dec_3", shape: [2, 3, 2]) == a)
        #expect(try file.floats("activation_function.threshold", shape: [5]).map(\.bitPattern) == b.map(\.bitPattern))
        #expect(try file.floats("s") == [7])
        #expect(file.metadata == ["format": "pt"])

        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        #expect(data.count == 8 + headerLength + 4 * (12 + 5 + 1))
        #expect(String(data: data.subdata(in: 8..<(8 + headerLength)), encoding: .utf8)!.hasPrefix("{"))
    }

    @Test func rejectsDuplicateNames() {
        #expect(throws: TrainingError.self) {
            _ = try SafeTensorsWriter.encode([.init("x", [1], [1]), .init("x", [1], [2])])
        }
    }
}
