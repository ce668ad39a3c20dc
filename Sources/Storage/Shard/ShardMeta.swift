import Foundation

/// The `/meta` attributes of a shard: which job, task and worker wrote it, from which model and
/// transcoders, with which version of circuits (see `docs/shard-schema.md`). Written by the
/// worker's `ShardWriter`; read by the coordinator's verification and the merge.
public struct ShardMeta: Sendable, Equatable {
    /// Attribute names of the `/meta` group.
    public enum Attribute {
        public static let jobHash = "job_hash"
        public static let taskID = "task_id"
        public static let workerID = "worker_id"
        public static let modelChecksum = "model_checksum"
        public static let transcoderChecksum = "transcoder_checksum"
        public static let formatVersion = "format_version"
        public static let circuitsVersion = "circuits_version"
        public static let created = "created"
    }

    /// sha256 of the job spec (`JobSpec.hash`).
    public var jobHash: String
    public var taskID: Int
    public var workerID: String
    /// sha256 over the sorted (relative path, sha256) of every file of the model folder.
    public var modelChecksum: String
    /// The same for the transcoder folder.
    public var transcoderChecksum: String
    public var formatVersion: Int = ShardSchema.formatVersion
    public var circuitsVersion: String = CircuitsVersion.string
    /// ISO 8601 time of writing.
    public var created: String

    /// The meta of a shard written now by this version of circuits.
    public init(jobHash: String, taskID: Int, workerID: String, modelChecksum: String, transcoderChecksum: String,
                created: Date = Date()) {
        self.jobHash = jobHash; self.taskID = taskID; self.workerID = workerID
        self.modelChecksum = modelChecksum; self.transcoderChecksum = transcoderChecksum
        self.created = ISO8601DateFormatter().string(from: created)
    }

    /// Reads `/meta` of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and `/meta@name`) when an attribute is missing.
    public init(_ f: HDF5File) throws {
        let m = ShardSchema.meta
        jobHash = try f.stringAttribute(Attribute.jobHash, at: m)
        taskID = Int(try f.attribute(Attribute.taskID, as: Int64.self, at: m))
        workerID = try f.stringAttribute(Attribute.workerID, at: m)
        modelChecksum = try f.stringAttribute(Attribute.modelChecksum, at: m)
        transcoderChecksum = try f.stringAttribute(Attribute.transcoderChecksum, at: m)
        formatVersion = Int(try f.attribute(Attribute.formatVersion, as: Int64.self, at: m))
        circuitsVersion = try f.stringAttribute(Attribute.circuitsVersion, at: m)
        created = try f.stringAttribute(Attribute.created, at: m)
    }

    /// Creates `/meta` in `f` with these attributes.
    public func write(into f: HDF5File) throws {
        let m = ShardSchema.meta
        try f.createGroup(m)
        try f.setAttribute(Attribute.jobHash, jobHash, at: m)
        try f.setAttribute(Attribute.taskID, Int64(taskID), at: m)
        try f.setAttribute(Attribute.workerID, workerID, at: m)
        try f.setAttribute(Attribute.modelChecksum, modelChecksum, at: m)
        try f.setAttribute(Attribute.transcoderChecksum, transcoderChecksum, at: m)
        try f.setAttribute(Attribute.formatVersion, Int64(formatVersion), at: m)
        try f.setAttribute(Attribute.circuitsVersion, circuitsVersion, at: m)
        try f.setAttribute(Attribute.created, created, at: m)
    }
}
