/// The `/bridge_swap` group of a bridge-swap shard (the evaluation's second phase) and of
/// `aggregate.h5`: one row per two-hop prompt, what ablating the features that respond to its
/// bridge entity X, and swapping them for those of another entity Y, did to the model's answer.
/// Written by workers, concatenated by the merge, read by the coordinator's verification and the
/// report (see `docs/shard-schema.md`).
public struct BridgeSwapTable: Sendable {
    public static let group = "bridge_swap"

    /// Dataset names, `[n]` each.
    public enum Column {
        /// str: corpus id, prompt text.
        public static let id = "id", prompt = "prompt"
        /// str: X (the prompt's bridge label), Y (the entity swapped in), X's answer and Y's answer.
        public static let bridge = "bridge", target = "target", answer = "answer", targetAnswer = "target_answer"
        /// i8: 1 ran, 0 failed; str: why it failed.
        public static let status = "status", reason = "reason"
        /// f64: p(answer) unpatched, and with X's features ablated.
        public static let answerProbability = "answer_probability", ablatedAnswerProbability = "ablated_answer_probability"
        /// str, f64: the top token after the swap and its probability.
        public static let swappedTopToken = "swapped_top_token", swappedTopProbability = "swapped_top_probability"
        /// i8: the swapped top token is Y's answer.
        public static let success = "success"
        /// i64: responding features of X and of Y; feature ablations and settings made.
        public static let bridgeFeatures = "n_bridge_features", targetFeatures = "n_target_features"
        public static let ablations = "n_ablations", settings = "n_settings"
    }

    public struct Row: Sendable, Equatable {
        public var id: String, prompt: String
        public var bridge: String, target: String, answer: String, targetAnswer: String
        public var status: Int8 = 0
        public var reason: String = ""
        public var answerProbability: Double = .nan, ablatedAnswerProbability: Double = .nan
        public var swappedTopToken: String = "", swappedTopProbability: Double = .nan
        public var success: Int8 = 0
        public var bridgeFeatures: Int64 = 0, targetFeatures: Int64 = 0, ablations: Int64 = 0, settings: Int64 = 0

        public init(id: String, prompt: String, bridge: String, target: String, answer: String, targetAnswer: String) {
            self.id = id; self.prompt = prompt; self.bridge = bridge; self.target = target
            self.answer = answer; self.targetAnswer = targetAnswer
        }
    }

    public var rows: [Row] = []
    public init(rows: [Row] = []) { self.rows = rows }

    public func write(into f: HDF5File) throws {
        typealias C = Column
        let g = Self.group, n = rows.count
        try f.createGroup(g)
        let strings: [(String, KeyPath<Row, String>)] = [(C.id, \.id), (C.prompt, \.prompt), (C.bridge, \.bridge), (C.target, \.target),
                                                         (C.answer, \.answer), (C.targetAnswer, \.targetAnswer), (C.reason, \.reason),
                                                         (C.swappedTopToken, \.swappedTopToken)]
        for (name, key) in strings { try f.writeStrings(rows.map { $0[keyPath: key] }, at: "\(g)/\(name)") }
        for (name, key) in Self.flags { try f.write(rows.map { $0[keyPath: key] }, shape: [n], at: "\(g)/\(name)") }
        for (name, key) in Self.reals { try f.write(rows.map { $0[keyPath: key] }, shape: [n], at: "\(g)/\(name)") }
        for (name, key) in Self.counts { try f.write(rows.map { $0[keyPath: key] }, shape: [n], at: "\(g)/\(name)") }
    }

    static var flags: [(String, WritableKeyPath<Row, Int8>)] { [(Column.status, \.status), (Column.success, \.success)] }
    static var reals: [(String, WritableKeyPath<Row, Double>)] { [
        (Column.answerProbability, \.answerProbability), (Column.ablatedAnswerProbability, \.ablatedAnswerProbability),
        (Column.swappedTopProbability, \.swappedTopProbability)] }
    static var counts: [(String, WritableKeyPath<Row, Int64>)] { [
        (Column.bridgeFeatures, \.bridgeFeatures), (Column.targetFeatures, \.targetFeatures),
        (Column.ablations, \.ablations), (Column.settings, \.settings)] }

    /// The prompt ids of the table of `f`, without reading the other columns (verification).
    public static func readIDs(_ f: HDF5File) throws -> [String] { try f.readStrings(at: "\(group)/\(Column.id)") }

    /// The table of `f`, or nil when it has none.
    /// - Throws: `HDF5Error` when a dataset is missing; `SchemaError` when a column's length differs from `id`'s.
    public static func read(_ f: HDF5File) throws -> BridgeSwapTable? {
        typealias C = Column
        let g = group
        guard f.exists(g) else { return nil }
        func strings(_ name: String) throws -> [String] { try f.readStrings(at: "\(g)/\(name)") }
        let id = try strings(C.id)
        let columns = try [C.prompt, C.bridge, C.target, C.answer, C.targetAnswer, C.reason, C.swappedTopToken].map { try ($0, strings($0)) }
        func check(_ name: String, _ count: Int) throws {
            if count != id.count { throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(count) entries, but \(C.id) has \(id.count)") }
        }
        for (name, c) in columns { try check(name, c.count) }
        let s = Dictionary(uniqueKeysWithValues: columns)
        var rows = id.indices.map { k in
            var r = Row(id: id[k], prompt: s[C.prompt]![k], bridge: s[C.bridge]![k], target: s[C.target]![k],
                        answer: s[C.answer]![k], targetAnswer: s[C.targetAnswer]![k])
            r.reason = s[C.reason]![k]; r.swappedTopToken = s[C.swappedTopToken]![k]
            return r
        }
        func fill<T: HDF5Element>(_ fields: [(String, WritableKeyPath<Row, T>)]) throws {
            for (name, key) in fields {
                let v = try f.read(T.self, at: "\(g)/\(name)").values
                try check(name, v.count)
                for k in rows.indices { rows[k][keyPath: key] = v[k] }
            }
        }
        try fill(flags); try fill(reals); try fill(counts)
        return BridgeSwapTable(rows: rows)
    }
}
