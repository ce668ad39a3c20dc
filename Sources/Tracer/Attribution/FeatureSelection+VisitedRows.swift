extension FeatureSelection {
    /// Who a stored row belongs to: a logit target or an active feature.
    enum RowOwner: Equatable {
        /// The `rank`-th logit target.
        case logit(rank: Int)
        /// Active feature `index` (into `FeatureActivations.activeFeatures`).
        case feature(index: Int)
    }

    /// The rows visited so far, in store order: the owner of each, and the row of each visited
    /// feature.
    struct VisitedRows {
        /// Owner of each stored row. `[rows]`
        private(set) var owners: [RowOwner] = []
        /// The row of each active feature; nil while it is unvisited. `[nActive]`
        private(set) var rowOfFeature: [Int?]
        /// The visited features with their rows, in visiting order. `[visited features]`
        private(set) var features: [(feature: Int, row: Int)] = []

        init(nActive: Int) { rowOfFeature = Array(repeating: nil, count: nActive) }

        /// Records that stored row `row` (the next one) belongs to `owner`.
        mutating func record(_ owner: RowOwner, row: Int) {
            precondition(row == owners.count, "rows are recorded in store order")
            owners.append(owner)
            if case let .feature(f) = owner {
                rowOfFeature[f] = row
                features.append((f, row))
            }
        }

        /// The visited features, ascending: the graph's selected features.
        var selected: [Int] { features.map(\.feature).sorted() }
    }
}
