/// The root attributes of `aggregate.h5`: the job it merges, prompt and shard counts, versions
/// (see `docs/shard-schema.md`). Written by the coordinator's merge, read by the report.
public struct AggregateMeta: Sendable, Equatable {
    /// Attribute names (on the root group).
    public enum Attribute {
        public static let jobHash = "job_hash"
        public static let promptsTotal = "prompts_total"
        public static let promptsDone = "prompts_done"
        public static let promptsFailed = "prompts_failed"
        public static let shards = "shards"
        public static let formatVersion = "format_version"
        public static let circuitsVersion = "circuits_version"
    }

    public var jobHash: String
    /// Prompts of the corpus, each exactly once (invalid lines included).
    public var promptsTotal: Int
    public var promptsDone: Int
    public var promptsFailed: Int
    /// Shards merged.
    public var shards: Int
    public var formatVersion: Int = ShardSchema.formatVersion
    public var circuitsVersion: String = CircuitsVersion.string

    /// The meta of an aggregate written now by this version of circuits.
    public init(jobHash: String, promptsTotal: Int, promptsDone: Int, promptsFailed: Int, shards: Int) {
        self.jobHash = jobHash; self.promptsTotal = promptsTotal; self.promptsDone = promptsDone
        self.promptsFailed = promptsFailed; self.shards = shards
    }

    /// Reads the root attributes of `f`.
    /// - Throws: `HDF5Error` (`.notFound` naming the file and `/@name`) when one is missing.
    public init(_ f: HDF5File) throws {
        jobHash = try f.stringAttribute(Attribute.jobHash)
        promptsTotal = Int(try f.attribute(Attribute.promptsTotal, as: Int64.self))
        promptsDone = Int(try f.attribute(Attribute.promptsDone, as: Int64.self))
        promptsFailed = Int(try f.attribute(Attribute.promptsFailed, as: Int64.self))
        shards = Int(try f.attribute(Attribute.shards, as: Int64.self))
        formatVersion = Int(try f.attribute(Attribute.formatVersion, as: Int64.self))
        circuitsVersion = try f.stringAttribute(Attribute.circuitsVersion)
    }

    /// Sets these attributes on the root group of `f`.
    public func write(into f: HDF5File) throws {
        try f.setAttribute(Attribute.jobHash, jobHash)
        try f.setAttribute(Attribute.promptsTotal, Int64(promptsTotal))
        try f.setAttribute(Attribute.promptsDone, Int64(promptsDone))
        try f.setAttribute(Attribute.promptsFailed, Int64(promptsFailed))
        try f.setAttribute(Attribute.shards, Int64(shards))
        try f.setAttribute(Attribute.formatVersion, Int64(formatVersion))
        try f.setAttribute(Attribute.circuitsVersion, circuitsVersion)
    }
}
