import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

/// The row-sparse `[N, N]` matrices (`Adjacency`, `EdgeMask`) against their dense form.
@Suite struct TargetRowsTests {
    /// 2 features, 2 layers × 2 positions of errors, 2 tokens, 1 logit: N = 9, 3 stored rows.
    let layout = NodeLayout(nFeatures: 2, nLayers: 2, nPos: 2, nLogits: 1)

    func denseExample() -> [Float] {
        let n = layout.count
        var a = [Float](repeating: 0, count: n * n)
        for (target, source, v) in [(0, 6, Float(1.5)), (1, 0, -2), (1, 3, 0.25), (8, 1, 4), (8, 7, -0.5)] { a[target * n + source] = v }
        return a
    }

    @Test func denseRoundTripAndSubscripts() throws {
        let n = layout.count, dense = denseExample()
        let a = try Adjacency(dense: dense, layout: layout, fill: 0)
        #expect(a.storage.count == 3 * n, "only feature and logit rows are stored")
        #expect(a.dense() == dense)
        for t in 0..<n { for s in 0..<n { #expect(a[t, s] == dense[t * n + s]) } }
        #expect(a.count { $0 != 0 } == 5)
        #expect(a.slot(ofRow: 8) == 2 && a.slot(ofRow: 2) == nil && a.slot(ofRow: 7) == nil)
        #expect(a.withRow(4) { _ in 0 } == nil)
        #expect(a.withRow(8) { Array($0) } == Array(dense[(8 * n)..<(9 * n)]))

        var b = Adjacency(layout: layout)
        for (t, s, v) in [(0, 6, Float(1.5)), (1, 0, -2), (1, 3, 0.25), (8, 1, 4), (8, 7, -0.5)] { b[t, s] = v }
        b[5, 2] = 0   // an unstored row takes its fill value
        #expect(b == a)
    }

    @Test func errorAndTokenRowsMustBeEmpty() throws {
        let n = layout.count
        var dense = denseExample()
        dense[2 * n + 0] = 1   // error node (layer 0, pos 0) reading feature 0
        do {
            _ = try Adjacency(dense: dense, layout: layout, fill: 0)
            Issue.record("an error row with an input was accepted")
        } catch let TracerError.invalidArgument(why) {
            #expect(why.contains("error(layer: 0, pos: 0)") && why.contains("feature(selected: 0)"), "\(why)")
        }
        #expect(throws: TracerError.self) { try Adjacency(dense: [1, 2, 3], layout: layout, fill: 0) }
    }

    @Test func edgeMaskCountsUnstoredRowsByFill() {
        let n = layout.count
        #expect(EdgeMask(layout: layout, fill: true).count { $0 } == n * n)
        #expect(EdgeMask(layout: layout, fill: false).count { $0 } == 0)
        #expect(EdgeMask(layout: layout, fill: true).dense() == [Bool](repeating: true, count: n * n))
    }

    /// When the edge cut falls to 0 (circuit-tracer's `find_threshold` clamping to a zero score),
    /// every entry is kept, error and token rows included. graph.h5 writes those rows densely, as
    /// circuit-tracer would, and reads the same mask back.
    @Test func graphFileKeepsEveryEntryMask() throws {
        let run = try firstReferenceRun()
        var (graph, pruning) = try goldenGraph(run)
        pruning.edgeMask = EdgeMask(layout: graph.layout, fill: true)
        let result = TraceResult(graph: graph, pruning: pruning, scores: try GraphScores(graph), timings: PhaseTimings(),
                                 nodeThreshold: 0.8, edgeThreshold: 1)
        let folder = try ScratchFolder("target-rows")
        defer { folder.remove() }
        let url = folder.file("graph.h5")
        try GraphFile.write(result, prompt: run.prompt, to: url)
        let back = try GraphFile.read(url).result
        #expect(back.pruning.edgeMask == pruning.edgeMask && back.graph.adjacency == graph.adjacency)
        let f = try HDF5File.open(url)
        defer { f.close() }
        let stored = try f.readBools(at: "prune/edge_mask")
        #expect(stored.shape == [graph.layout.count, graph.layout.count] && !stored.values.contains(false))
    }
}
