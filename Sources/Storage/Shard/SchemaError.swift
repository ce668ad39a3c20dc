/// A shard or `aggregate.h5` whose content does not match the schema (`ShardSchema`): the
/// objects are there, but their shapes or lengths disagree. A missing dataset or attribute is an
/// `HDF5Error` of kind `.notFound`, which names the file and object the same way.
///
/// `description` is meant to be printed as is, e.g.
/// `/run/shards/task-000003.h5: stats/features/sum_activation: shape [4, 16], expected [4, 32]`.
public struct SchemaError: Error, CustomStringConvertible, Sendable {
    /// Path of the HDF5 file on disk.
    public let file: String
    /// The dataset, group or attribute inside the file (`stats/features/sum_activation`).
    public let object: String
    /// What disagrees, with the shapes or counts found and expected.
    public let detail: String

    public init(file: String, object: String, detail: String) {
        self.file = file; self.object = object; self.detail = detail
    }

    public var description: String { "\(file): \(object): \(detail)" }
}
