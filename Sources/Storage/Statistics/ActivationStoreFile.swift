/// Reads and writes `ActivationStore` as the `/stats/activations` group of a shard (written when
/// the job asks for `statistics.activations`, the input of `global-weights --all`).
public enum ActivationStoreFile {
    public static let group = "stats/activations"
    /// `[tokens + 1]` i64: position p owns entries `token_offset[p] ..< token_offset[p + 1]`.
    public static let tokenOffset = "token_offset"
    /// `[nnz]` i32: `layer · d_transcoder + feature`, ascending within a position.
    public static let feature = "feature"
    /// `[nnz]` f32: the activation.
    public static let value = "value"

    public static func write(_ s: ActivationStore, into f: HDF5File) throws {
        try f.createGroup(group)
        try f.setAttribute("n_layers", Int64(s.nLayers), at: group)
        try f.setAttribute("d_transcoder", Int64(s.dTranscoder), at: group)
        let z = s.keys.count > 1024 ? 4 : nil
        try f.write(s.offsets.map { Int64($0) }, shape: [s.offsets.count], at: "\(group)/\(tokenOffset)", compression: z)
        try f.write(s.keys, shape: [s.keys.count], at: "\(group)/\(feature)", compression: z)
        try f.write(s.values, shape: [s.values.count], at: "\(group)/\(value)", compression: z)
    }

    /// The activations of `f`, or nil when it has none; checked (`SchemaError` naming the file).
    public static func read(_ f: HDF5File) throws -> ActivationStore? {
        guard f.exists(group) else { return nil }
        let nLayers = Int(try f.attribute("n_layers", as: Int64.self, at: group))
        let dT = Int(try f.attribute("d_transcoder", as: Int64.self, at: group))
        guard nLayers > 0, dT > 0, nLayers * dT <= Int(Int32.max) else {
            throw SchemaError(file: f.path, object: group, detail: "n_layers \(nLayers) × d_transcoder \(dT) is not a transcoder shape")
        }
        return try ActivationStore(nLayers: nLayers, dTranscoder: dT,
                                   offsets: try f.read(Int64.self, at: "\(group)/\(tokenOffset)").values.map { Int($0) },
                                   keys: try f.read(Int32.self, at: "\(group)/\(feature)").values,
                                   values: try f.read(Float.self, at: "\(group)/\(value)").values, file: f.path, object: group)
    }
}
