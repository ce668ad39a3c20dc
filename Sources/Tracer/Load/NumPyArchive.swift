import Foundation

/// A NumPy `.npz` file (a zip of `.npy` arrays, stored or deflated), read whole into memory:
/// GemmaScope v1 transcoders ship their `params.npz` this way.
public struct NumPyArchive: Sendable {
    public let url: URL
    /// Arrays by key (the entry name without `.npy`).
    public let arrays: [String: NumPyArray]

    public init(_ url: URL) throws {
        self.url = url
        let zip = try ZipArchive(url)
        var arrays: [String: NumPyArray] = [:]
        for entry in zip.entries where !entry.name.hasSuffix("/") {
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            arrays[key] = try NumPyArray(data: try zip.contents(of: entry), source: "\(url.path) (\(entry.name))")
        }
        self.arrays = arrays
    }

    public func has(_ key: String) -> Bool { arrays[key] != nil }

    /// Array `key` as `Float`, checking its shape when `shape` is given.
    /// - Throws: `TracerError.nonFiniteWeight` at the first NaN or ±Inf, naming the array.
    public func floats(_ key: String, shape expected: [Int]? = nil) throws -> [Float] {
        let a = try array(key)
        if let expected, expected != a.shape {
            throw TracerError.shapeMismatch(tensor: key, file: url.path, expected: expected, actual: a.shape)
        }
        let values = a.floats
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw TracerError.nonFiniteWeight(tensor: key, file: url.path, index: SafeTensorsFile.index(of: bad, in: a.shape), value: values[bad])
        }
        return values
    }

    /// Array `key`, or an error naming the archive.
    public func array(_ key: String) throws -> NumPyArray {
        guard let a = arrays[key] else { throw TracerError.missingTensor(key, file: url.path) }
        return a
    }
}
