import Foundation

/// A memory-mapped `.safetensors` file.
///
/// The header is parsed once; tensor payloads stay in the mapping and are converted to `Float`
/// only when read (`floats(_:)` for a whole tensor, `rows(_:_:)` for selected rows, which is how
/// decoder rows of active features are read lazily). Supported dtypes: F32, F16, BF16.
public final class SafeTensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable { case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i64 = "I64", i32 = "I32" }

    public struct TensorInfo: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range inside the payload (after the header).
        public let begin: Int
        public let end: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let url: URL
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    // Immutable after init; read concurrently.
    private let data: Data
    private let payloadStart: Int

    public init(_ url: URL) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TracerError.fileNotFound(url.path, what: "safetensors file")
        }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TracerError.malformedFile(url.path, "cannot map: \(error.localizedDescription)")
        }
        guard data.count >= 8 else { throw TracerError.malformedFile(url.path, "shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard headerLength > 0, 8 + headerLength <= data.count else {
            throw TracerError.malformedFile(url.path, "header length \(headerLength) exceeds file size \(data.count)")
        }
        let header = data.subdata(in: 8..<(8 + headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw TracerError.malformedFile(url.path, "header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        let payloadSize = data.count - 8 - headerLength
        for (name, value) in json {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dt = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw TracerError.malformedFile(url.path, "bad header entry for tensor '\(name)'") }
            guard let dtype = DType(rawValue: dt) else {
                throw TracerError.unsupportedDType(tensor: name, file: url.path, dtype: dt)
            }
            let info = TensorInfo(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
            guard info.begin >= 0, info.end <= payloadSize, info.end - info.begin == info.count * dtype.size else {
                throw TracerError.malformedFile(url.path, "tensor '\(name)' offsets \(offsets) do not match shape \(shape) × \(dt) or the file size")
            }
            tensors[name] = info
        }
        self.data = data
        self.payloadStart = 8 + headerLength
        self.tensors = tensors
        self.metadata = metadata
    }

    public func has(_ name: String) -> Bool { tensors[name] != nil }

    /// The info of tensor `name`, checking its shape when `shape` is given.
    public func info(_ name: String, shape expected: [Int]? = nil) throws -> TensorInfo {
        guard let info = tensors[name] else { throw TracerError.missingTensor(name, file: url.path) }
        if let expected, expected != info.shape {
            throw TracerError.shapeMismatch(tensor: name, file: url.path, expected: expected, actual: info.shape)
        }
        return info
    }

    /// The whole tensor as `Float`, row-major.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        let info = try self.info(name, shape: shape)
        return try convert(name, info, elementOffset: 0, count: info.count)
    }

    /// Rows of a tensor viewed as `[shape[0], rowLength]`, in the order given, each cut to
    /// `columns` (default: the whole row); only those bytes are touched. `[rows.count, columns.count]`
    public func rows(_ name: String, _ rows: [Int], columns: Range<Int>? = nil) throws -> [Float] {
        let info = try self.info(name)
        guard let nRows = info.shape.first, nRows > 0 else { return [] }
        let rowLength = info.count / nRows
        let cols = columns ?? 0..<rowLength
        guard cols.lowerBound >= 0, cols.upperBound <= rowLength else {
            throw TracerError.invalidArgument("columns \(cols) out of range for tensor '\(name)' with rows of \(rowLength) in \(url.path)")
        }
        let width = cols.count
        var out = [Float](repeating: 0, count: rows.count * width)
        try out.withUnsafeMutableBufferPointer { dst in
            for (i, r) in rows.enumerated() {
                guard r >= 0, r < nRows else {
                    throw TracerError.invalidArgument("row \(r) out of range for tensor '\(name)' with \(nRows) rows in \(url.path)")
                }
                convert(info, elementOffset: r * rowLength + cols.lowerBound, count: width, into: dst.baseAddress! + i * width)
            }
        }
        return out
    }

    /// Elements `[elementOffset, elementOffset + count)` of each of `rows` (rows of a tensor
    /// already checked by `info(_:shape:)`, viewed as `[shape[0], rowLength]`) into `out`.
    /// No allocation; for the hot path of lazily read decoder rows. `out`: `[rows.count, count]`
    func rowParts(_ info: TensorInfo, rows: some Sequence<Int>, elementOffset: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        let rowLength = info.count / max(info.shape.first ?? 1, 1)
        precondition(elementOffset >= 0 && elementOffset + count <= rowLength, "row part out of range")
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && r < (info.shape.first ?? 0), "row \(r) out of range in \(url.path)")
            convert(info, elementOffset: r * rowLength + elementOffset, count: count, into: out + i * count)
        }
    }

    /// A contiguous element range of a tensor as `Float`.
    public func slice(_ name: String, elementOffset: Int, count: Int) throws -> [Float] {
        let info = try self.info(name)
        guard elementOffset >= 0, elementOffset + count <= info.count else {
            throw TracerError.invalidArgument("slice \(elementOffset)..<\(elementOffset + count) out of range for '\(name)' in \(url.path)")
        }
        return try convert(name, info, elementOffset: elementOffset, count: count)
    }

    private func convert(_ name: String, _ info: TensorInfo, elementOffset: Int, count: Int) throws -> [Float] {
        guard [.f32, .f16, .bf16, .f64].contains(info.dtype) else {
            throw TracerError.unsupportedDType(tensor: name, file: url.path, dtype: info.dtype.rawValue)
        }
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            convert(info, elementOffset: elementOffset, count: count, into: buf.baseAddress!)
            n = count
        }
    }

    /// Converts `count` elements starting at `elementOffset` into `dst`. Float dtypes only.
    private func convert(_ info: TensorInfo, elementOffset: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + payloadStart + info.begin + elementOffset * info.dtype.size
            switch info.dtype {
            case .f32:
                memcpy(dst, base, count * 4)
            case .f64:
                for i in 0..<count { dst[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
                    dst[i] = Float(bitPattern: bits)
                }
            case .f16:
                for i in 0..<count { dst[i] = Float(halfBits: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .i64, .i32:
                break
            }
        }
    }
}

extension SafeTensorsFile.DType {
    var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .f64, .i64: return 8
        }
    }
}

extension Float {
    /// IEEE 754 binary16 → binary32 (exact; handles subnormals, infinities, NaN).
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            // zero or subnormal: mant · 2^-24
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
        }
    }
}
