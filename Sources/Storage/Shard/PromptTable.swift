/// The `/prompts` group of shards and of `aggregate.h5`: one row per prompt, columns as
/// datasets (see `docs/shard-schema.md`). Written by workers, concatenated by the merge, read by
/// the report.
public struct PromptTable: Sendable {
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

    /// Reads the table at `group` (`task_id` is optional: shards have none).
    public init(_ f: HDF5File, at group: String = ShardSchema.prompts) throws {
        let g = group
        id = try f.readStrings(at: "\(g)/id")
        prompt = try f.readStrings(at: "\(g)/prompt")
        status = try f.read(Int8.self, at: "\(g)/status").values
        reason = try f.readStrings(at: "\(g)/reason")
        task = f.exists("\(g)/task_id") ? try f.read(Int64.self, at: "\(g)/task_id").values : Array(repeating: -1, count: id.count)
        replacement = try f.read(Double.self, at: "\(g)/replacement_score").values
        completeness = try f.read(Double.self, at: "\(g)/completeness_score").values
        nTokens = try f.read(Int64.self, at: "\(g)/n_tokens").values
        nActive = try f.read(Int64.self, at: "\(g)/n_active_features").values
        nodes = try f.read(Int64.self, at: "\(g)/n_pruned_nodes").values
        edges = try f.read(Int64.self, at: "\(g)/n_pruned_edges").values
        seconds = try f.read(Double.self, at: "\(g)/seconds").values
    }

    /// Writes the table at `group`; `withTask` adds the `task_id` column (aggregate).
    public func write(into f: HDF5File, at group: String = ShardSchema.prompts, withTask: Bool) throws {
        let g = group, n = count
        try f.writeStrings(id, at: "\(g)/id")
        try f.writeStrings(prompt, at: "\(g)/prompt")
        try f.write(status, shape: [n], at: "\(g)/status")
        try f.writeStrings(reason, at: "\(g)/reason")
        if withTask { try f.write(task, shape: [n], at: "\(g)/task_id") }
        try f.write(replacement, shape: [n], at: "\(g)/replacement_score")
        try f.write(completeness, shape: [n], at: "\(g)/completeness_score")
        try f.write(nTokens, shape: [n], at: "\(g)/n_tokens")
        try f.write(nActive, shape: [n], at: "\(g)/n_active_features")
        try f.write(nodes, shape: [n], at: "\(g)/n_pruned_nodes")
        try f.write(edges, shape: [n], at: "\(g)/n_pruned_edges")
        try f.write(seconds, shape: [n], at: "\(g)/seconds")
    }
}
