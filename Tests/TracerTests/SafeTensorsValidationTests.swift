import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Malformed safetensors headers: every size and offset is checked before use, and a bad one is
/// one `malformedFile` error naming the file and the tensor, never a trap.
@Suite struct SafeTensorsValidationTests {
    /// Writes `bytes` to a scratch file, opens it and returns the error's description.
    static func openError(_ bytes: Data) throws -> (path: String, error: TracerError?) {
        let folder = try ScratchFolder("st-validation")
        defer { folder.remove() }
        let url = folder.file("bad.safetensors")
        try bytes.write(to: url)
        do {
            _ = try SafeTensorsFile(url)
            return (url.path, nil)
        } catch let error as TracerError {
            return (url.path, error)
        }
    }

    static func expectMalformed(_ bytes: Data, mentioning needles: [String]) throws {
        let (path, error) = try openError(bytes)
        guard case let .malformedFile(file, why)? = error else {
            Issue.record("expected malformedFile, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        for needle in needles { #expect(why.contains(needle), "'\(needle)' not in: \(why)") }
    }

    /// Finding 1: a header length of 2^63 − 8 or more (the first 8 bytes) used to trap converting
    /// to `Int` or adding 8; any length beyond the file is refused.
    @Test(arguments: [UInt64(1) << 63 - 8, UInt64(1) << 63, UInt64.max, 1 << 40, 75])
    func headerLengthBeyondTheFile(length: UInt64) throws {
        try Self.expectMalformed(CorruptFixtures.safeTensorsBytes(headerLength: length, header: "{}", payload: [0, 0, 0, 0]),
                                 mentioning: ["header length \(length)", "exceeds the file size"])
    }

    /// Finding 2: shapes whose element count overflows, negative dimensions, offsets outside the
    /// payload, end before begin, and offsets that disagree with shape × dtype size.
    @Test(arguments: [
        (#"{"t":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}}"#, ["'t'", "shape"]),
        (#"{"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}"#, ["'t'", "shape"]),
        (#"{"t":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}"#, ["'t'", "≥ 0"]),
        (#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,1000]}}"#, ["'t'", "inside the 16-byte payload"]),
        (#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}"#, ["'t'", "[16, 0]"]),
        (#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}}"#, ["'t'", "[-16, 0]"]),
        (#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#, ["'t'", "hold 8 bytes", "needs 16"]),
        (#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,9223372036854775807]}}"#, ["'t'"]),
        (#"{"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}}"#, ["'t'", "integers"]),
    ])
    func shapesAndOffsetsAreChecked(header: String, needles: [String]) throws {
        try Self.expectMalformed(CorruptFixtures.safeTensorsBytes(header: header, payload: Array(repeating: 0, count: 16)), mentioning: needles)
    }

    /// Finding 7: two tensors sharing bytes.
    @Test func overlappingTensorsAreRefused() throws {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        try Self.expectMalformed(CorruptFixtures.safeTensorsBytes(header: header, payload: Array(repeating: 0, count: 16)),
                                 mentioning: ["'a'", "'b'", "overlap"])
    }

    /// Finding 6: NaN and ±Inf are refused with the tensor and the element named, when read
    /// whole (`floats`) and when checked in place for lazily read tensors (`checkFinite`), in
    /// every float dtype.
    @Test(arguments: [("F32", [UInt8](Self.le(Float.nan.bitPattern))), ("F32", Self.le(Float.infinity.bitPattern)),
                      ("F16", Self.le(UInt16(0x7C00))), ("F16", Self.le(UInt16(0x7E00))),
                      ("BF16", Self.le(UInt16(0xFF80))), ("BF16", Self.le(UInt16(0x7FC0)))])
    func nonFiniteValuesNameTheTensorAndElement(dtype: String, bad: [UInt8]) throws {
        let size = bad.count
        // [2, 3]: the bad value is element [1, 2] (flat 5); the others are 0.
        var payload = [UInt8](repeating: 0, count: 6 * size)
        payload.replaceSubrange((5 * size)..<(6 * size), with: bad)
        let header = #"{"w":{"dtype":"\#(dtype)","shape":[2,3],"data_offsets":[0,\#(6 * size)]}}"#
        let folder = try ScratchFolder("st-finite")
        defer { folder.remove() }
        let url = folder.file("w.safetensors")
        try CorruptFixtures.safeTensorsBytes(header: header, payload: payload).write(to: url)
        let file = try SafeTensorsFile(url)
        for read in [{ _ = try file.floats("w") }, { try file.checkFinite("w") }] {
            do {
                try read()
                Issue.record("\(dtype): non-finite value accepted")
            } catch let TracerError.nonFiniteWeight(tensor, path, index, value) {
                #expect(tensor == "w" && path == url.path && index == [1, 2] && !value.isFinite)
            }
        }
        #expect(try file.rows("w", [0]) == [0, 0, 0], "rows read lazily are not rechecked")
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}
