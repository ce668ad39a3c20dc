import Foundation

/// Writes `.safetensors` files: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`, optional
/// `"__metadata__"` of strings) padded with spaces to a multiple of 8 bytes, then the payload.
/// Float32 only, little-endian, tensors laid out in the order given.
public enum SafeTensorsWriter {
    /// One tensor: a name, a shape and `shape.reduce(1, *)` values, row-major.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var values: ArraySlice<Float>
        public init(_ name: String, _ shape: [Int], _ values: ArraySlice<Float>) {
            precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
            self.name = name; self.shape = shape; self.values = values
        }
        public init(_ name: String, _ shape: [Int], _ values: [Float]) { self.init(name, shape, values[...]) }
    }

    /// The file's bytes.
    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            guard header[t.name] == nil, t.name != "__metadata__" else {
                throw TrainingError.invalidOption("safetensors", "duplicate or reserved tensor name '\(t.name)'")
            }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buf in
                #if _endian(big)
                for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #else
                out.append(UnsafeBufferPointer(start: buf.baseAddress, count: buf.count))
                #endif
            }
        }
        return out
    }

    /// Writes the file atomically.
    public static func write(_ tensors: [Tensor], to url: URL, metadata: [String: String] = [:]) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }
}
