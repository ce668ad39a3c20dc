import Foundation

/// The catalog of the served path, reloaded when the run's `aggregate.h5` (or
/// `global_weights.h5`) changes, so that `/` shows the run as it is now; and small caches of
/// re-pruned graphs (moving a threshold back and forth does not prune twice) and of encoded
/// feature answers.
public final class LiveCatalog: @unchecked Sendable {
    public let path: URL
    private let lock = NSLock()
    private var catalog: Catalog
    private var stamp: [Date?]
    private var pruned: [String: ServedGraph] = [:]
    private var prunedOrder: [String] = []
    private var answers: [String: ViewerResponse] = [:]
    static let cacheSize = 32, answerCacheSize = 4096

    public init(path: URL) throws {
        self.path = path
        catalog = try Catalog(path: path)
        stamp = Self.stamp(path)
    }

    /// The catalog, reloaded first when the run's files changed (kept as it is when the reload fails).
    public func current() -> Catalog {
        lock.lock(); defer { lock.unlock() }
        let now = Self.stamp(path)
        if now != stamp, let fresh = try? Catalog(path: path) {
            catalog = fresh
            stamp = now
            pruned = [:]
            prunedOrder = []
            answers = [:]
        }
        return catalog
    }

    /// The answer under `key` for the current catalog, computed by `make` the first time
    /// (answers that depend on the catalog alone, such as `/api/feature/...`).
    public func cachedAnswer(_ key: String, _ make: (Catalog) throws -> ViewerResponse) throws -> ViewerResponse {
        let c = current()
        lock.lock()
        if let a = answers[key] { lock.unlock(); return a }
        lock.unlock()
        let a = try make(c)
        lock.lock(); defer { lock.unlock() }
        if answers.count >= Self.answerCacheSize { answers = [:] }
        answers[key] = a
        return a
    }

    /// `graph` re-pruned at the thresholds, from the cache when it was asked for recently.
    public func repruned(_ graph: ServedGraph, nodeThreshold: Double, edgeThreshold: Double) throws -> ServedGraph {
        let key = "\(graph.id)\u{0}\(nodeThreshold)\u{0}\(edgeThreshold)"
        lock.lock()
        if let g = pruned[key] { lock.unlock(); return g }
        lock.unlock()
        let g = try graph.repruned(nodeThreshold: nodeThreshold, edgeThreshold: edgeThreshold)
        lock.lock(); defer { lock.unlock() }
        if pruned[key] == nil {
            pruned[key] = g
            prunedOrder.append(key)
            if prunedOrder.count > Self.cacheSize { pruned[prunedOrder.removeFirst()] = nil }
        }
        return g
    }

    private static func stamp(_ path: URL) -> [Date?] {
        ["aggregate.h5", "global_weights.h5"].map {
            (try? FileManager.default.attributesOfItem(atPath: path.appendingPathComponent($0).path))?[.modificationDate] as? Date
        }
    }
}
