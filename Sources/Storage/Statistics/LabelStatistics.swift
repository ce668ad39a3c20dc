/// Per-label feature statistics: for each corpus label (a concept the prompts are about), how
/// many of its prompts activate each feature (at any non-BOS position) and the sum of the
/// feature's largest activation in each. Sparse: only features active in some prompt of the
/// label. Written to shards and summed by the merge as `/stats/labels`.
public struct LabelStatistics: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var activePrompts: Int64 = 0
        public var sumMaxActivation: Double = 0
        public init(activePrompts: Int64 = 0, sumMaxActivation: Double = 0) {
            self.activePrompts = activePrompts; self.sumMaxActivation = sumMaxActivation
        }
    }

    /// Prompts seen per label.
    public private(set) var prompts: [String: Int64] = [:]
    /// (label, feature) → entry.
    public private(set) var entries: [String: [FeatureID: Entry]] = [:]

    public init() {}

    public var isEmpty: Bool { prompts.isEmpty }

    /// Adds one prompt of `label` with its active features (layer, index) and values.
    public mutating func add(label: String, features: [(layer: Int, index: Int)], values: [Float]) {
        prompts[label, default: 0] += 1
        var peak: [FeatureID: Float] = [:]
        for (f, v) in zip(features, values) where v > 0 {
            let id = FeatureID(layer: f.layer, feature: f.index)
            peak[id] = max(peak[id] ?? 0, v)
        }
        var table = entries[label] ?? [:]
        for (id, v) in peak {
            var e = table[id] ?? Entry()
            e.activePrompts += 1
            e.sumMaxActivation += Double(v)
            table[id] = e
        }
        entries[label] = table
    }

    public mutating func add(_ other: LabelStatistics) {
        for (label, n) in other.prompts { prompts[label, default: 0] += n }
        for (label, table) in other.entries {
            var mine = entries[label] ?? [:]
            for (id, e) in table {
                var m = mine[id] ?? Entry()
                m.activePrompts += e.activePrompts
                m.sumMaxActivation += e.sumMaxActivation
                mine[id] = m
            }
            entries[label] = mine
        }
    }

    /// Features that respond to `label`: active in at least `minShare` of its prompts, and
    /// whose mean peak activation over the label's prompts (a prompt where the feature is off
    /// counting 0) is at least `selectivity` times its mean over the prompts of any other single
    /// label. A feature of a whole family of labels, such as a template word, does not respond to
    /// one; a feature active for every entity of a family but strongest for one does (on the demo
    /// model, entities are carried at the last position by such features as much as by features
    /// that fire for one entity only: a rule on presence alone missed them, and swapping the
    /// entity by intervention failed).
    public func responding(to label: String, minShare: Double = 0.5, selectivity: Double = 2) -> [FeatureID] {
        guard let n = prompts[label], n > 0, let table = entries[label] else { return [] }
        let others = prompts.filter { $0.key != label && $0.value > 0 }.map { (entries[$0.key] ?? [:], Double($0.value)) }
        return table.compactMap { id, e in
            let share = Double(e.activePrompts) / Double(n)
            let inside = e.sumMaxActivation / Double(n)
            let outside = others.map { table, count in (table[id]?.sumMaxActivation ?? 0) / count }.max() ?? 0
            return share >= minShare && inside >= selectivity * outside ? id : nil
        }.sorted()
    }

    /// The rule of `responding(to:)` with its default thresholds, in words (for reports).
    public static let respondingRule = "A feature responds to a label when it is active in at least half of the label's prompts and its mean peak activation over them (0 where it is off) is at least 2× its mean over the prompts of any other single label (corpus statistics)."

    // MARK: HDF5 (`/stats/labels`)

    public static let group = "stats/labels"

    public func write(into f: HDF5File) throws {
        let g = Self.group
        let labels = prompts.keys.sorted()
        var labelIndex: [Int32] = [], feature: [Int64] = [], active: [Int64] = [], sum: [Double] = []
        for (k, label) in labels.enumerated() {
            for (id, e) in (entries[label] ?? [:]).sorted(by: { $0.key < $1.key }) {
                labelIndex.append(Int32(k)); feature += [Int64(id.layer), Int64(id.feature)]
                active.append(e.activePrompts); sum.append(e.sumMaxActivation)
            }
        }
        try f.createGroup(g)
        try f.writeStrings(labels, at: "\(g)/labels")
        try f.write(labels.map { prompts[$0]! }, shape: [labels.count], at: "\(g)/prompts")
        let n = labelIndex.count, z = n > 512 ? 4 : nil
        try f.write(labelIndex, shape: [n], at: "\(g)/label_index", compression: z)
        try f.write(feature, shape: [n, 2], at: "\(g)/feature", compression: z)
        try f.write(active, shape: [n], at: "\(g)/active_prompts", compression: z)
        try f.write(sum, shape: [n], at: "\(g)/sum_max_activation", compression: z)
    }

    /// The label statistics of `f`, or nil when it has none.
    public static func read(_ f: HDF5File) throws -> LabelStatistics? {
        let g = group
        guard f.exists(g) else { return nil }
        var s = LabelStatistics()
        let labels = try f.readStrings(at: "\(g)/labels")
        let counts = try f.read(Int64.self, at: "\(g)/prompts").values
        for (label, n) in zip(labels, counts) { s.prompts[label] = n }
        let index = try f.read(Int32.self, at: "\(g)/label_index").values
        let feature = try f.read(Int64.self, at: "\(g)/feature").values
        let active = try f.read(Int64.self, at: "\(g)/active_prompts").values
        let sum = try f.read(Double.self, at: "\(g)/sum_max_activation").values
        for k in index.indices {
            let id = FeatureID(layer: Int(feature[2 * k]), feature: Int(feature[2 * k + 1]))
            s.entries[labels[Int(index[k])], default: [:]][id] = Entry(activePrompts: active[k], sumMaxActivation: sum[k])
        }
        return s
    }
}
