/// An `[N, N]` matrix over the nodes of a graph, indexed `[target, source]`, that stores only
/// the rows of nodes with inputs: feature nodes and logit nodes. Error and token nodes read
/// nothing, so their rows are the constant `fill` and take no memory.
///
/// That is what keeps long prompts in bounded memory: a 4,096-token prompt on a 12-layer model
/// with 8,192 feature nodes has N ≈ 61.5k nodes (a dense f32 `[N, N]` is 15 GB) but only
/// ≈ 8.2k rows that can be non-zero (2 GB).
///
/// Storage: `storage` is `[nFeatures + nLogits, N]` row-major, feature rows first (slot =
/// node index), then logit rows (slot = nFeatures + rank).
public struct TargetRows<Element: Equatable & Sendable>: Equatable, Sendable {
    public let layout: NodeLayout
    /// The value of every entry in a row that is not stored.
    public let fill: Element
    /// The stored rows. `[nFeatures + nLogits, N]`
    public var storage: [Element]

    /// All entries `fill`.
    public init(layout: NodeLayout, fill: Element) {
        self.init(layout: layout, fill: fill, storage: [Element](repeating: fill, count: Self.storedRowCount(layout) * layout.count))
    }

    /// From the stored rows, `[nFeatures + nLogits, N]`.
    public init(layout: NodeLayout, fill: Element, storage: [Element]) {
        precondition(storage.count == Self.storedRowCount(layout) * layout.count,
                     "stored rows must be [nFeatures + nLogits, N] = [\(Self.storedRowCount(layout)), \(layout.count)], got \(storage.count) entries")
        self.layout = layout
        self.fill = fill
        self.storage = storage
    }

    /// From a dense `[N, N]` matrix whose error and token rows all equal `fill`.
    ///
    /// - Throws: `TracerError.invalidArgument` naming the first error or token row that holds
    ///   another value (such a matrix is not an attribution graph).
    public init(dense: [Element], layout: NodeLayout, fill: Element) throws {
        let n = layout.count
        guard dense.count == n * n else {
            throw TracerError.invalidArgument("a dense [N, N] matrix needs \(n * n) entries for N = \(n) nodes, got \(dense.count)")
        }
        for i in layout.errorRange.lowerBound..<layout.logitRange.lowerBound {
            if let j = (0..<n).first(where: { dense[i * n + $0] != fill }) {
                throw TracerError.invalidArgument("\(layout.node(at: i)) has an input from \(layout.node(at: j)); "
                                                  + "error and token nodes have no inputs in an attribution graph")
            }
        }
        var storage = [Element]()
        storage.reserveCapacity(Self.storedRowCount(layout) * n)
        for i in Self.storedNodes(layout) { storage += dense[(i * n)..<(i * n + n)] }
        self.init(layout: layout, fill: fill, storage: storage)
    }

    /// Nodes whose rows are stored, in storage order: features, then logits.
    public static func storedNodes(_ layout: NodeLayout) -> [Int] { Array(layout.featureRange) + Array(layout.logitRange) }

    static func storedRowCount(_ layout: NodeLayout) -> Int { layout.nFeatures + layout.nLogits }

    /// The storage slot of `target`'s row, or nil for an error or token node.
    @inline(__always)
    public func slot(ofRow target: Int) -> Int? { Self.slot(ofRow: target, in: layout) }

    /// The storage slot of node `target`'s row under `layout`: the one place that knows the
    /// storage order (features, then logits). Nil for an error or token node.
    @inline(__always)
    public static func slot(ofRow target: Int, in layout: NodeLayout) -> Int? {
        if target < layout.nFeatures { return target }
        let logit = target - layout.logitRange.lowerBound
        return logit >= 0 ? layout.nFeatures + logit : nil
    }

    /// `M[target, source]`. Setting an entry of a row that is not stored to anything but `fill`
    /// is a programming error.
    public subscript(target: Int, source: Int) -> Element {
        get {
            guard let s = slot(ofRow: target) else { return fill }
            return storage[s * layout.count + source]
        }
        set {
            guard let s = slot(ofRow: target) else {
                precondition(newValue == fill, "\(layout.node(at: target)) has no stored row")
                return
            }
            storage[s * layout.count + source] = newValue
        }
    }

    /// Calls `body` with `target`'s row `[N]`, or returns nil when the row is not stored (all `fill`).
    public func withRow<R>(_ target: Int, _ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R? {
        guard let s = slot(ofRow: target) else { return nil }
        let n = layout.count
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[(s * n)..<(s * n + n)])) }
    }

    /// The whole `[N, N]` matrix (N² entries: for tests and small graphs).
    public func dense() -> [Element] {
        let n = layout.count
        var out = [Element](repeating: fill, count: n * n)
        for (s, i) in Self.storedNodes(layout).enumerated() {
            out.replaceSubrange((i * n)..<(i * n + n), with: storage[(s * n)..<(s * n + n)])
        }
        return out
    }

    /// How many of the N² entries satisfy `predicate`.
    public func count(where predicate: (Element) -> Bool) -> Int {
        let n = layout.count
        let unstored = (n - Self.storedRowCount(layout)) * n
        return storage.reduce(0) { predicate($1) ? $0 + 1 : $0 } + (predicate(fill) ? unstored : 0)
    }
}

/// `A[target, source]`: the direct effect of each source node on each target node. Only feature
/// and logit rows are stored; the rest are 0.
public typealias Adjacency = TargetRows<Float>

/// Kept edges, `[target, source]`, as pruning leaves them.
public typealias EdgeMask = TargetRows<Bool>

extension TargetRows where Element == Float {
    /// All zero.
    public init(layout: NodeLayout) { self.init(layout: layout, fill: 0) }
}
