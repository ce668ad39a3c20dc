import Foundation
import Testing
@testable import Tracer

/// The safetensors reader on files built byte by byte: dtypes, row reads, bad headers.
@Suite struct SafeTensorsTests {
    /// Writes a safetensors file with the given (name, dtype, shape, raw bytes) tensors.
    static func file(_ tensors: [(String, String, [Int], [UInt8])], header override: String? = nil) throws -> URL {
        var entries: [String] = [], payload: [UInt8] = []
        for (name, dtype, shape, bytes) in tensors {
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(payload.count),\(payload.count + bytes.count)]}")
            payload += bytes
        }
        let header = Array((override ?? "{" + entries.joined(separator: ",") + "}").utf8)
        var data = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        data += header + payload
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-st-\(UUID().uuidString).safetensors")
        try Data(data).write(to: url)
        return url
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    @Test func convertsEveryFloatDType() throws {
        let f32: [Float] = [1.5, -2.25, 0, 3.1415927]
        // f16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +inf
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00]
        // bf16: the top halves of float32 values
        let bfValues: [Float] = [1.0, -3.5, 1e-20, 1024]
        let bf16 = bfValues.map { UInt16($0.bitPattern >> 16) }
        let url = try Self.file([("a", "F32", [2, 2], Self.bytes(f32)), ("h", "F16", [5], Self.bytes(f16)),
                                 ("b", "BF16", [4], Self.bytes(bf16))])
        defer { try? FileManager.default.removeItem(at: url) }
        let st = try SafeTensorsFile(url)
        #expect(try st.floats("a", shape: [2, 2]) == f32)
        // +inf converts exactly when read by rows; read whole, a weight that is not finite is refused.
        #expect(try st.rows("h", Array(0..<5)) == [1, -2, 65504, Float(sign: .plus, exponent: -24, significand: 1), .infinity])
        #expect(throws: TracerError.nonFiniteWeight(tensor: "h", file: url.path, index: [4], value: .infinity)) { try st.floats("h") }
        #expect(try st.floats("b") == bfValues.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
        #expect(try st.rows("a", [1, 0]) == [0, 3.1415927, 1.5, -2.25])
    }

    @Test func errorsNameTheTensorAndFile() throws {
        let url = try Self.file([("a", "F32", [2], Self.bytes([Float(1), 2]))])
        defer { try? FileManager.default.removeItem(at: url) }
        let st = try SafeTensorsFile(url)
        #expect(throws: TracerError.missingTensor("w", file: url.path)) { try st.floats("w") }
        #expect(throws: TracerError.shapeMismatch(tensor: "a", file: url.path, expected: [3], actual: [2])) { try st.floats("a", shape: [3]) }
        let bad = try Self.file([], header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}")
        defer { try? FileManager.default.removeItem(at: bad) }
        #expect(throws: TracerError.self) { try SafeTensorsFile(bad) }
        let i8 = try Self.file([("q", "I8", [1], [1])])
        defer { try? FileManager.default.removeItem(at: i8) }
        #expect(throws: TracerError.unsupportedDType(tensor: "q", file: i8.path, dtype: "I8")) { try SafeTensorsFile(i8) }
    }
}
