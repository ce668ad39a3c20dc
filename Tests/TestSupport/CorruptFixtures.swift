import Foundation
import Tracer

/// Malformed inputs for the "no crash on any input" tests: copies of the bundled interim model
/// and transcoders to corrupt, and safetensors files written byte by byte.
public enum CorruptFixtures {
    /// Copies `models/interim/model` and `models/interim/plt` into `folder` (`model/`, `plt/`).
    public static func copyInterim(into folder: URL) throws -> (model: URL, transcoders: URL) {
        let model = folder.appendingPathComponent("model"), plt = folder.appendingPathComponent("plt")
        try FileManager.default.copyItem(at: InterimModel.model, to: model)
        try FileManager.default.copyItem(at: InterimModel.transcoders, to: plt)
        return (model, plt)
    }

    /// Rewrites the (F32, finite) safetensors file `url` after `edit` changes its tensors.
    public static func rewriteSafeTensors(_ url: URL, _ edit: (inout [FixtureTensor]) -> Void) throws {
        let file = try SafeTensorsFile(url)
        var tensors = try file.tensors.keys.sorted().map { FixtureTensor($0, file.tensors[$0]!.shape, try file.floats($0)) }
        edit(&tensors)
        try writeSafeTensors(url, tensors)
    }

    /// Sets element `index` (flat) of tensor `name` in the safetensors file `url` to `value`.
    public static func poison(_ url: URL, tensor name: String, index: Int = 0, value: Float = .nan) throws {
        try rewriteSafeTensors(url) { tensors in
            let t = tensors.firstIndex { $0.name == name }!
            tensors[t].values[index] = value
        }
    }

    /// Safetensors bytes with the given 8-byte header length (whatever the header's real
    /// length), header text and payload.
    public static func safeTensorsBytes(headerLength: UInt64? = nil, header: String, payload: [UInt8] = []) -> Data {
        let json = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        out.append(contentsOf: payload)
        return out
    }

    /// Edits the JSON object in `url` (a `config.json`).
    public static func editJSON(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
    }
}
