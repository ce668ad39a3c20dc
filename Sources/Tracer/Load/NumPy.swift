import Foundation

/// A NumPy `.npy` array (format versions 1–3, little-endian, C order), read whole.
///
/// Used to read reference goldens and token-id files; weights come from safetensors.
public struct NumPyArray: Sendable {
    public enum DType: String, Sendable { case f16 = "<f2", f32 = "<f4", f64 = "<f8", i64 = "<i8", i32 = "<i4", i8 = "|i1", u8 = "|u1", bool = "|b1" }
    public let dtype: DType
    public let shape: [Int]
    /// Raw little-endian payload, `shape.reduce(1, *)` elements of `dtype`.
    public let payload: Data

    public var count: Int { shape.reduce(1, *) }

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TracerError.fileNotFound(url.path, what: "NumPy array")
        }
        try self.init(data: data, source: url.path)
    }

    public init(data: Data, source: String = "<memory>") throws {
        func bad(_ why: String) -> TracerError { .malformedFile(source, why) }
        guard data.count >= 10, data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else { throw bad("not a .npy file (bad magic)") }
        let major = data[data.startIndex + 6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            headerStart = 10
        } else {
            guard data.count >= 12 else { throw bad("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard data.count >= headerStart + headerLength else { throw bad("truncated header") }
        let header = String(decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.field("descr", in: header), let dtype = DType(rawValue: descr) else {
            throw bad("unsupported dtype in header \(header)")
        }
        guard Self.field("fortran_order", in: header) == "False" else { throw bad("Fortran order is not supported") }
        guard let shapeText = Self.field("shape", in: header) else { throw bad("no shape in header") }
        let dims = shapeText.split(whereSeparator: { ",() ".contains($0) })
        let shape = dims.compactMap { Int($0) }
        // Every dimension a whole number ≥ 0 and the byte count without overflow, before slicing.
        var bytes = dtype.size
        for dim in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow else { throw bad("shape \(shapeText) has a negative dimension or more elements than fit in memory") }
            bytes = product
        }
        guard shape.count == dims.count else { throw bad("shape \(shapeText) is not a tuple of whole numbers") }
        self.dtype = dtype
        self.shape = shape
        let start = data.startIndex + headerStart + headerLength
        guard data.count - (headerStart + headerLength) >= bytes else { throw bad("payload shorter than shape \(shape)") }
        self.payload = data[start..<(start + bytes)]
    }

    private static func field(_ name: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(name)':") else { return nil }
        var rest = header[r.upperBound...].drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            return String(rest.prefix(while: { $0 != "'" }))
        }
        return String(rest.prefix(while: { $0 != "," && $0 != "}" })).trimmingCharacters(in: .whitespaces)
    }

    /// The values as `Float` (any numeric dtype converts; f32 is copied as is).
    public var floats: [Float] {
        guard dtype == .f32 else { return doubles.map { Float($0) } }
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            if count > 0 { payload.withUnsafeBytes { raw in _ = memcpy(buf.baseAddress!, raw.baseAddress!, count * 4) } }
            n = count
        }
    }

    /// The values as `Double`.
    public var doubles: [Double] {
        payload.withUnsafeBytes { raw -> [Double] in
            let n = count
            switch dtype {
            case .f16: return (0..<n).map { Double(Float(halfBits: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .f32: return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self)) }
            case .f64: return (0..<n).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) }
            case .i64: return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            case .i32: return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case .i8: return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: $0, as: Int8.self)) }
            case .u8, .bool: return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: $0, as: UInt8.self)) }
            }
        }
    }

    /// The values as `Int`. Floats are truncated toward zero; NaN reads as 0 and values beyond
    /// `Int`'s range (±∞ included) saturate to `Int.min` / `Int.max`, so that no file can trap.
    public var ints: [Int] {
        payload.withUnsafeBytes { raw -> [Int] in
            let n = count
            switch dtype {
            case .i64: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            case .i32: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case .i8: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: $0, as: Int8.self)) }
            case .u8, .bool: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: $0, as: UInt8.self)) }
            case .f16, .f32, .f64: return doubles.map(Self.saturatingInt)
            }
        }
    }

    /// `Int(x)` without its trap: NaN → 0, x ≥ 2⁶³ → `Int.max`, x < −2⁶³ → `Int.min`.
    static func saturatingInt(_ x: Double) -> Int {
        if x.isNaN { return 0 }
        if x >= 0x1p63 { return .max }
        if x < -0x1p63 { return .min }
        return Int(x)
    }

    /// The values as `Bool` (non-zero is true).
    public var bools: [Bool] { ints.map { $0 != 0 } }
}

extension NumPyArray.DType {
    var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}
