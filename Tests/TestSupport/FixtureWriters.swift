import CZlib
import Foundation
import Tracer

/// Writers for fixtures made at test time: safetensors files (F32, F16, BF16) and NumPy `.npz`
/// archives (stored or deflated entries, as `np.savez` / `np.savez_compressed` write them).

/// One tensor to write. `values` row-major, `shape.reduce(1, *)` of them.
public struct FixtureTensor: Sendable {
    public enum DType: String, Sendable { case f32 = "F32", f16 = "F16", bf16 = "BF16" }
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public var dtype: DType
    public init(_ name: String, _ shape: [Int], _ values: [Float], dtype: DType = .f32) {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        self.name = name; self.shape = shape; self.values = values; self.dtype = dtype
    }
}

/// Float → bfloat16 bits, round to nearest even (what `torch.Tensor.to(torch.bfloat16)` does).
public func bfloat16Bits(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    if x.isNaN { return 0x7FC0 }
    let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
    return UInt16(rounded >> 16)
}

/// Writes `tensors` as a safetensors file (header keys in the given order's sorted form).
public func writeSafeTensors(_ url: URL, _ tensors: [FixtureTensor]) throws {
    var payload = Data()
    var header: [String: Any] = [:]
    for t in tensors {
        let begin = payload.count
        switch t.dtype {
        case .f32: t.values.withUnsafeBytes { payload.append(contentsOf: $0) }
        case .bf16: t.values.map(bfloat16Bits).withUnsafeBytes { payload.append(contentsOf: $0) }
        case .f16: t.values.map { Float16($0).bitPattern }.withUnsafeBytes { payload.append(contentsOf: $0) }
        }
        header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [begin, payload.count]]
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var out = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(payload)
    try out.write(to: url)
}

/// The `.npy` (format 1.0, `<f4`, C order) bytes of one array.
public func npyBytes(shape: [Int], values: [Float]) -> Data {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var out = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
    withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(Data(header.utf8))
    values.withUnsafeBytes { out.append(contentsOf: $0) }
    return out
}

/// Writes a zip archive of `entries` (name, bytes): stored, or raw-deflated when `deflate`.
/// Every entry carries a zip64 extra field in its local header, as NumPy writes them.
public func writeZip(_ url: URL, _ entries: [(String, Data)], deflate: Bool) throws {
    var out = Data(), central = Data()
    func le16(_ v: Int, _ d: inout Data) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
    func le32(_ v: Int, _ d: inout Data) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { d.append(contentsOf: $0) } }
    func le64(_ v: Int, _ d: inout Data) { withUnsafeBytes(of: UInt64(v).littleEndian) { d.append(contentsOf: $0) } }
    for (name, bytes) in entries {
        let crc = bytes.withUnsafeBytes { Int(crc32(0, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count))) }
        let body = deflate ? try deflateRaw(bytes) : bytes
        let offset = out.count
        let nameBytes = Data(name.utf8)
        // Local header with zip64 sizes.
        le32(0x0403_4B50, &out); le16(45, &out); le16(0, &out); le16(deflate ? 8 : 0, &out); le16(0, &out); le16(0x21, &out)
        le32(crc, &out); le32(0xFFFF_FFFF, &out); le32(0xFFFF_FFFF, &out)
        le16(nameBytes.count, &out); le16(20, &out)
        out.append(nameBytes)
        le16(1, &out); le16(16, &out); le64(bytes.count, &out); le64(body.count, &out)
        out.append(body)
        // Central directory entry (32-bit sizes suffice here).
        le32(0x0201_4B50, &central); le16(45, &central); le16(45, &central); le16(0, &central); le16(deflate ? 8 : 0, &central)
        le16(0, &central); le16(0x21, &central)
        le32(crc, &central); le32(body.count, &central); le32(bytes.count, &central)
        le16(nameBytes.count, &central); le16(0, &central); le16(0, &central); le16(0, &central); le16(0, &central)
        le32(0, &central); le32(offset, &central)
        central.append(nameBytes)
    }
    let dirOffset = out.count
    out.append(central)
    le32(0x0605_4B50, &out); le16(0, &out); le16(0, &out); le16(entries.count, &out); le16(entries.count, &out)
    le32(central.count, &out); le32(dirOffset, &out); le16(0, &out)
    try out.write(to: url)
}

/// Writes a NumPy `.npz` of float32 arrays.
public func writeNPZ(_ url: URL, _ arrays: [(String, [Int], [Float])], deflate: Bool) throws {
    try writeZip(url, arrays.map { ($0.0 + ".npy", npyBytes(shape: $0.1, values: $0.2)) }, deflate: deflate)
}

private func deflateRaw(_ input: Data) throws -> Data {
    var stream = z_stream()
    guard circuits_deflate_init_raw(&stream, 6) == Z_OK else { throw TracerError.invalidArgument("zlib deflateInit2 failed") }
    defer { deflateEnd(&stream) }
    var out = Data(count: Int(deflateBound(&stream, uLong(input.count))) + 64)
    let status: Int32 = input.withUnsafeBytes { src in
        out.withUnsafeMutableBytes { dst in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(dst.count)
            return CZlib.deflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else { throw TracerError.invalidArgument("zlib deflate failed (\(status))") }
    return out.prefix(Int(stream.total_out))
}
