/// The `/prompts` group of shards and of `aggregate.h5`: one row per prompt, columns as
/// datasets (see `docs/shard-schema.md`). Written by workers, concatenated by the merge, read by
/// the report, the export and the coordinator's shard verification.
public struct PromptTable: Sendable {
    /// Dataset names of the columns, `[n]` each.
    public enum Column {
        /// str: corpus id.
        public static let id = "id"
        /// str: the prompt text.
        public static let prompt = "prompt"
        /// i8: 1 traced (or measured), 0 failed.
        public static let status = "status"
        /// str: why it failed ("" when traced).
        public static let reason = "reason"
        /// i64: the task (aggregate only; −1 for invalid corpus lines).
        public static let task = "task_id"
        /// str: the corpus label ("" for none); aggregate only, when the corpus has labels.
        public static let label = "label"
        /// f64
        public static let replacement = "replacement_score"
        /// f64
        public static let completeness = "completeness_score"
        /// i64: tokens attributed, BOS included.
        public static let nTokens = "n_tokens"
        /// i64
        public static let nActive = "n_active_features"
        /// i64
        public static let nodes = "n_pruned_nodes"
        /// i64
        public static let edges = "n_pruned_edges"
        /// f64: trace time.
        public static let seconds = "seconds"
    }

    /// One prompt's row.
    public struct Row: Sendable {
        public var id: String, prompt: String
        /// 1 traced (or measured), 0 failed.
        public var status: Int8
        public var reason: String = ""
        /// The task the prompt belongs to (aggregate only; −1 for invalid corpus lines).
        public var task: Int64 = -1
        public var replacement: Double = .nan, completeness: Double = .nan
        public var nTokens: Int64 = 0, nActive: Int64 = 0, nodes: Int64 = 0, edges: Int64 = 0
        public var seconds: Double = 0

        public init(id: String, prompt: String, status: Int8) { self.id = id; self.prompt = prompt; self.status = status }

        /// A failed prompt and why.
        public static func failed(id: String, prompt: String, reason: String, task: Int64 = -1) -> Row {
            var r = Row(id: id, prompt: prompt, status: 0)
            r.reason = reason
            r.task = task
            return r
        }
    }

    public var id: [String] = [], prompt: [String] = [], status: [Int8] = [], reason: [String] = [], task: [Int64] = []
    public var replacement: [Double] = [], completeness: [Double] = []
    public var nTokens: [Int64] = [], nActive: [Int64] = [], nodes: [Int64] = [], edges: [Int64] = []
    public var seconds: [Double] = []
    /// Each prompt's corpus label, or nil for no `label` column. A whole column, set after the
    /// rows (`append` leaves it alone).
    public var label: [String]?

    public init() {}

    public var count: Int { id.count }
    public var doneCount: Int { status.reduce(0) { $0 + Int($1) } }

    public subscript(k: Int) -> Row {
        var r = Row(id: id[k], prompt: prompt[k], status: status[k])
        r.reason = reason[k]; r.task = task[k]; r.replacement = replacement[k]; r.completeness = completeness[k]
        r.nTokens = nTokens[k]; r.nActive = nActive[k]; r.nodes = nodes[k]; r.edges = edges[k]; r.seconds = seconds[k]
        return r
    }

    public mutating func append(_ r: Row) {
        id.append(r.id); prompt.append(r.prompt); status.append(r.status); reason.append(r.reason); task.append(r.task)
        replacement.append(r.replacement); completeness.append(r.completeness)
        nTokens.append(r.nTokens); nActive.append(r.nActive); nodes.append(r.nodes); edges.append(r.edges); seconds.append(r.seconds)
    }

    /// Reads the table at `group` (`task_id` and `label` are optional: shards have neither).
    /// - Throws: `HDF5Error` (`.notFound` naming the file and dataset) when a column is missing;
    ///   `SchemaError` when a column's length differs from `id`'s.
    public init(_ f: HDF5File, at group: String = ShardSchema.prompts) throws {
        typealias C = Column
        let g = group
        id = try f.readStrings(at: "\(g)/\(C.id)")
        prompt = try f.readStrings(at: "\(g)/\(C.prompt)")
        status = try f.read(Int8.self, at: "\(g)/\(C.status)").values
        reason = try f.readStrings(at: "\(g)/\(C.reason)")
        task = f.exists("\(g)/\(C.task)") ? try f.read(Int64.self, at: "\(g)/\(C.task)").values : Array(repeating: -1, count: id.count)
        label = f.exists("\(g)/\(C.label)") ? try f.readStrings(at: "\(g)/\(C.label)") : nil
        replacement = try f.read(Double.self, at: "\(g)/\(C.replacement)").values
        completeness = try f.read(Double.self, at: "\(g)/\(C.completeness)").values
        nTokens = try f.read(Int64.self, at: "\(g)/\(C.nTokens)").values
        nActive = try f.read(Int64.self, at: "\(g)/\(C.nActive)").values
        nodes = try f.read(Int64.self, at: "\(g)/\(C.nodes)").values
        edges = try f.read(Int64.self, at: "\(g)/\(C.edges)").values
        seconds = try f.read(Double.self, at: "\(g)/\(C.seconds)").values
        let lengths = [(C.prompt, prompt.count), (C.status, status.count), (C.reason, reason.count), (C.task, task.count),
                       (C.label, label?.count ?? id.count), (C.replacement, replacement.count), (C.completeness, completeness.count),
                       (C.nTokens, nTokens.count), (C.nActive, nActive.count), (C.nodes, nodes.count), (C.edges, edges.count),
                       (C.seconds, seconds.count)]
        if let (name, n) = lengths.first(where: { $0.1 != id.count }) {
            throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(n) entries, but \(C.id) has \(id.count)")
        }
    }

    /// The prompt ids of the table at `group`, without reading the other columns (verification).
    public static func readIDs(_ f: HDF5File, at group: String = ShardSchema.prompts) throws -> [String] {
        try f.readStrings(at: "\(group)/\(Column.id)")
    }

    /// Writes the table at `group`; `withTask` adds the `task_id` column (aggregate), and a
    /// non-nil `label` the `label` column.
    public func write(into f: HDF5File, at group: String = ShardSchema.prompts, withTask: Bool) throws {
        typealias C = Column
        let g = group, n = count
        try f.writeStrings(id, at: "\(g)/\(C.id)")
        try f.writeStrings(prompt, at: "\(g)/\(C.prompt)")
        try f.write(status, shape: [n], at: "\(g)/\(C.status)")
        try f.writeStrings(reason, at: "\(g)/\(C.reason)")
        if withTask { try f.write(task, shape: [n], at: "\(g)/\(C.task)") }
        try f.write(replacement, shape: [n], at: "\(g)/\(C.replacement)")
        try f.write(completeness, shape: [n], at: "\(g)/\(C.completeness)")
        try f.write(nTokens, shape: [n], at: "\(g)/\(C.nTokens)")
        try f.write(nActive, shape: [n], at: "\(g)/\(C.nActive)")
        try f.write(nodes, shape: [n], at: "\(g)/\(C.nodes)")
        try f.write(edges, shape: [n], at: "\(g)/\(C.edges)")
        try f.write(seconds, shape: [n], at: "\(g)/\(C.seconds)")
        if let label { try f.writeStrings(label, at: "\(g)/\(C.label)") }
    }
}
