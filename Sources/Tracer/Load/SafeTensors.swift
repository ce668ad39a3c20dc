import Foundation

/// A memory-mapped `.safetensors` file.
///
/// The header is parsed once; tensor payloads stay in the mapping and are converted to `Float`
/// only when read (`floats(_:)` for a whole tensor, `rows(_:_:)` for selected rows, which is how
/// decoder rows of active features are read lazily). Supported dtypes: F32, F16, BF16, F64.
///
/// Nothing read from the file is trusted: `init` checks the header (see there), whole tensors
/// are checked finite when read (`floats`, `slice`), and tensors read lazily by rows are checked
/// once by `checkFinite(_:)` at load.
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

    /// The largest header accepted, as the reference implementation (`safetensors`) limits it.
    public static let maximumHeaderLength = 100 << 20

    /// Maps `url` and reads its header.
    ///
    /// Every number of the header is checked before use, with overflow-checked arithmetic: the
    /// header length (at most `maximumHeaderLength` and inside the file), each shape (dimensions
    /// ≥ 0, element and byte counts without overflow), each tensor's `data_offsets` (inside the
    /// payload, `begin ≤ end`, `end − begin` = elements × dtype size), and no two tensors share
    /// bytes. A violation is a `TracerError.malformedFile` naming the file and the tensor.
    public init(_ url: URL) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TracerError.fileNotFound(url.path, what: "safetensors file")
        }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TracerError.malformedFile(url.path, "cannot map: \(error.localizedDescription)")
        }
        func bad(_ why: String) -> TracerError { .malformedFile(url.path, why) }
        guard data.count >= 8 else { throw bad("shorter than the 8-byte header length") }
        let rawLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard rawLength > 0, rawLength <= UInt64(data.count - 8) else {
            throw bad("header length \(rawLength) (the first 8 bytes) exceeds the file size \(data.count)")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= Self.maximumHeaderLength else {
            throw bad("header length \(headerLength) exceeds the limit of \(Self.maximumHeaderLength) bytes")
        }
        let header = data.subdata(in: 8..<(8 + headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw bad("header is not a JSON object")
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
            else { throw bad("bad header entry for tensor '\(name)' (needs dtype, shape and data_offsets [begin, end] as integers)") }
            guard let dtype = DType(rawValue: dt) else {
                throw TracerError.unsupportedDType(tensor: name, file: url.path, dtype: dt)
            }
            guard let bytes = Self.byteCount(shape: shape, dtype: dtype) else {
                throw bad("tensor '\(name)' has shape \(shape): dimensions must be ≥ 0 and their product × \(dtype.size) bytes must fit in \(Int.max)")
            }
            let begin = offsets[0], end = offsets[1]
            guard begin >= 0, begin <= end, end <= payloadSize else {
                throw bad("tensor '\(name)' data_offsets \(offsets) are not a range inside the \(payloadSize)-byte payload")
            }
            guard end - begin == bytes else {
                throw bad("tensor '\(name)' data_offsets \(offsets) hold \(end - begin) bytes but shape \(shape) × \(dt) needs \(bytes)")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        // No two tensors share bytes (empty tensors hold none).
        let ranges = tensors.filter { $0.value.end > $0.value.begin }.sorted { ($0.value.begin, $0.key) < ($1.value.begin, $1.key) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.value.begin < a.value.end {
            throw bad("tensors '\(a.key)' [\(a.value.begin), \(a.value.end)) and '\(b.key)' [\(b.value.begin), \(b.value.end)) overlap")
        }
        self.data = data
        self.payloadStart = 8 + headerLength
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Bytes of a tensor of `shape` and `dtype`, or nil for a negative dimension or an overflow.
    static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var n = dtype.size
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            n = product
        }
        return n
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
    /// - Throws: `TracerError.nonFiniteWeight` at the first NaN or ±Inf (after conversion, so an
    ///   F64 value beyond `Float`'s range counts), naming the tensor and the element.
    /// - Complexity: one pass over the tensor for the conversion and one for the check.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        let info = try self.info(name, shape: shape)
        let values = try convert(name, info, elementOffset: 0, count: info.count)
        try checkFinite(values, name, info, elementOffset: 0)
        return values
    }

    /// Checks, without converting or allocating, that every element of tensor `name` is finite
    /// as `Float`: for tensors read lazily (`rows`, `rowParts`: transcoder decoders), checked
    /// once when the file is loaded rather than on every row read.
    /// - Throws: `TracerError.nonFiniteWeight` naming the tensor and the first bad element.
    /// - Complexity: one pass over the tensor's bytes (pages in the mapping once).
    public func checkFinite(_ name: String) throws {
        let info = try self.info(name)
        // Positions of the exponent bits: all set is ±Inf or NaN.
        let found: Int? = data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + payloadStart + info.begin
            func scan<Bits: FixedWidthInteger>(_: Bits.Type, mask: Bits) -> Int? {
                let n = info.count, chunk = 4096
                for start in stride(from: 0, to: n, by: chunk) {
                    let end = min(start + chunk, n)
                    // Branch-free count over the chunk; the element is searched only when there is one.
                    var hits = 0
                    for i in start..<end { hits &+= (base.loadUnaligned(fromByteOffset: i * Bits.bitWidth / 8, as: Bits.self) & mask) == mask ? 1 : 0 }
                    if hits > 0 {
                        return (start..<end).first { (base.loadUnaligned(fromByteOffset: $0 * Bits.bitWidth / 8, as: Bits.self) & mask) == mask }
                    }
                }
                return nil
            }
            switch info.dtype {
            case .f32: return scan(UInt32.self, mask: 0x7F80_0000)
            case .bf16: return scan(UInt16.self, mask: 0x7F80)
            case .f16: return scan(UInt16.self, mask: 0x7C00)
            case .f64: return (0..<info.count).first { !Float(base.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)).isFinite }
            case .i64, .i32: return nil
            }
        }
        if let found {
            let value = try convert(name, info, elementOffset: found, count: 1)[0]
            throw TracerError.nonFiniteWeight(tensor: name, file: url.path, index: Self.index(of: found, in: info.shape), value: value)
        }
    }

    /// Throws at the first non-finite value of `values` (elements of `info` from `elementOffset`).
    private func checkFinite(_ values: [Float], _ name: String, _ info: TensorInfo, elementOffset: Int) throws {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw TracerError.nonFiniteWeight(tensor: name, file: url.path, index: Self.index(of: elementOffset + bad, in: info.shape), value: values[bad])
    }

    /// The multi-index of flat element `flat` in a row-major tensor of `shape`.
    static func index(of flat: Int, in shape: [Int]) -> [Int] {
        var rest = flat, out = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            out[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return out
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
        guard elementOffset >= 0, count >= 0, elementOffset <= info.count - count else {
            throw TracerError.invalidArgument("slice of \(count) elements from \(elementOffset) out of range for '\(name)' (\(info.count) elements) in \(url.path)")
        }
        let values = try convert(name, info, elementOffset: elementOffset, count: count)
        try checkFinite(values, name, info, elementOffset: elementOffset)
        return values
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
