import Foundation
import Testing
@testable import Tracer

/// `RowStore`'s packed rows against dense edge rows: what it keeps, where, and how it unpacks
/// them into graph rows, in memory and in the temporary file.
@Suite struct RowStoreTests {
    /// 3 layers × 4 positions; active features per (layer, pos), some slots empty.
    static let nLayers = 3, nPos = 4
    static let perSlot = [[1, 2, 0, 3], [2, 0, 1, 1], [0, 3, 2, 1]]

    static var activeFeatures: [ActiveFeature] {
        var out: [ActiveFeature] = []
        for l in 0..<nLayers { for p in 0..<nPos { for k in 0..<perSlot[l][p] { out.append(ActiveFeature(layer: l, pos: p, index: 10 * k + p)) } } }
        return out
    }

    static var slotStart: [Int] { [0] + perSlot.joined().reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) } }

    /// Every target shape, a logit's (nLayers, nPos − 1) included.
    static var shapes: [(layer: Int, pos: Int)] { (0...nLayers).flatMap { l in (0..<nPos).map { (l, $0) } } }

    /// A dense edge row with every entry non-zero. `[nActive + (nLayers+1)·nPos]`
    static func denseRow(_ r: Int, nColumns: Int) -> [Float] {
        (0..<nColumns).map { j in Float(j + 1) * (j % 2 == 0 ? 0.5 : -0.25) + Float(r) }
    }

    /// `values` zeroed where a target at (l, p) cannot read: features and errors of layers ≥ l
    /// or positions > p, tokens at positions > p. Stated column by column, not by ranges.
    static func reachable(_ values: [Float], layer l: Int, pos p: Int) -> [Float] {
        let features = activeFeatures, nActive = features.count
        return values.indices.map { j in
            let keep: Bool
            if j < nActive { keep = features[j].layer < l && features[j].pos <= p }
            else if j < nActive + nLayers * nPos { let e = j - nActive; keep = e / nPos < l && e % nPos <= p }
            else { keep = j - nActive - nLayers * nPos <= p }
            return keep ? values[j] : 0
        }
    }

    /// Memory budgets: everything in memory, everything in the file, and a split.
    @Test(arguments: [1 << 20, 0, 160])
    func packUnpackRoundTrip(memoryBytes: Int) throws {
        let features = Self.activeFeatures, nActive = features.count
        let nColumns = nActive + (Self.nLayers + 1) * Self.nPos
        let store = RowStore(nLayers: Self.nLayers, nPos: Self.nPos, slotStart: Self.slotStart, capacity: Self.shapes.count,
                             memoryBytes: memoryBytes)
        for (l, p) in Self.shapes { _ = try store.append(layer: l, pos: p) }
        for r in 0..<store.count { Self.denseRow(r, nColumns: nColumns).withUnsafeBufferPointer { store.write(row: r, values: $0.baseAddress!) } }
        if memoryBytes == 0 { #expect(store.bytesInMemory == 0 && store.bytesInFile > 0, "every row in the file") }
        if memoryBytes == 160 { #expect(store.bytesInMemory > 0 && store.bytesInFile > 0, "rows in memory and in the file") }

        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: nColumns)
        defer { scratch.deallocate() }
        let subset = features.indices.filter { $0 % 2 == 1 }
        for (r, (l, p)) in Self.shapes.enumerated() {
            let expected = Self.reachable(Self.denseRow(r, nColumns: nColumns), layer: l, pos: p)
            let packed = store.packedLayout(ofRow: r)
            #expect(packed.length == store.packedLength(layer: l, pos: p), "row \(r) at (\(l), \(p)): packed length")
            #expect(store.absSums[r] == expected.reduce(0) { $0 + abs($1) }, "row \(r) at (\(l), \(p)): Σ|A[r, ·]|")

            // Every feature column: kept exactly where reachable, at the entry holding its value.
            store.withRow(r, scratch: scratch) { row in
                for f in 0..<nActive {
                    let k = packed.packedIndex(ofFeature: f, at: features[f])
                    #expect((k != nil) == (expected[f] != 0), "row \(r) at (\(l), \(p)), feature \(f): kept")
                    if let k { #expect(row[k] == expected[f], "row \(r) at (\(l), \(p)), feature \(f): value") }
                }
            }

            // All features selected: the graph columns are the edge columns, so the graph row is the dense row.
            let all = NodeLayout(nFeatures: nActive, nLayers: Self.nLayers, nPos: Self.nPos, nLogits: 1)
            var graphRow = [Float](repeating: 0, count: all.count)
            graphRow.withUnsafeMutableBufferPointer {
                store.unpack(row: r, into: $0.baseAddress!, layout: all, selected: Array(0..<nActive), activeFeatures: features, scratch: scratch)
            }
            #expect(Array(graphRow[..<nColumns]) == expected && graphRow[nColumns...].allSatisfy { $0 == 0 }, "row \(r) at (\(l), \(p)): all features")

            // A subset selected: feature node i reads column subset[i]; errors and tokens at their nodes.
            let some = NodeLayout(nFeatures: subset.count, nLayers: Self.nLayers, nPos: Self.nPos, nLogits: 1)
            var subsetRow = [Float](repeating: 0, count: some.count)
            subsetRow.withUnsafeMutableBufferPointer {
                store.unpack(row: r, into: $0.baseAddress!, layout: some, selected: subset, activeFeatures: features, scratch: scratch)
            }
            let want = subset.map { expected[$0] } + expected[nActive...] + [0]
            #expect(subsetRow == want, "row \(r) at (\(l), \(p)): selected subset")
        }
    }
}
