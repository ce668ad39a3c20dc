// Tests of Sources/Storage/EAP: the ground truth (exact threshold, truth files), the evaluation
// built from summed scores, the pair table, and the whole output file read back.
import Foundation
import Storage
import Testing

@Suite struct EdgeTruthTests {
    /// Threshold 1 % of the mean |total effect| (here 2.0 → 0.02), inclusive, on |mean ΔL|.
    @Test func exactThresholdIsOnePercentOfTheMeanTotalEffect() {
        let t = EdgeTruth.exact(meanExact: [0.5, -0.02, 0.0199, 0.02, -0.03, 0], meanAbsoluteTotalEffect: 2.0)
        #expect(t.threshold == 0.02)
        #expect(t.mask == [true, true, false, true, true, false])
        #expect(t.count == 4 && t.source == "exact")
        #expect(EdgeTruth.exactFraction == 0.01)
    }

    static let edges = ["input->a0.h0<q>", "input->m0", "a0.h0->m0", "m0->logits"]

    @Test func fileNamesEdgesWithCommentsAndBlankLines() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("truth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("truth.txt")
        try Data("# the circuit\n  a0.h0->m0 \n\nm0->logits\n".utf8).write(to: url)
        let t = try EdgeTruth.read(url, edges: Self.edges)
        #expect(t.mask == [false, false, true, true] && t.source == url.path && t.threshold == nil)

        try Data("m0->logits\nm0->a0.h0<q>\n".utf8).write(to: url)
        #expect(throws: EdgeTruthError(file: url.path, line: 2, reason: "'m0->a0.h0<q>' is not an edge of this model (edges are named like input->a0.h0<q>; see /eap/edges of an output file)")) {
            try EdgeTruth.read(url, edges: Self.edges)
        }
        try Data("m0->logits\n\nm0->logits\n".utf8).write(to: url)
        #expect(throws: EdgeTruthError(file: url.path, line: 3, reason: "'m0->logits' is listed twice")) { try EdgeTruth.read(url, edges: Self.edges) }
        let missing = folder.appendingPathComponent("none.txt")
        #expect(throws: EdgeTruthError(file: missing.path, line: nil, reason: "no such file")) { try EdgeTruth.read(missing, edges: Self.edges) }
    }
}

@Suite struct EAPEvaluationTests {
    /// Two pairs with EAP and exact: means are sums / 2; the truth is exact's edges over 1 % of
    /// the mean |total effect|; EAP gets a curve, exact (the truth's source) none.
    static func sums() throws -> EdgeScoreSums {
        var s = EdgeScoreSums(edges: ["e0", "e1", "e2", "e3"], metric: "logit-diff", igSteps: 0, methods: [.eap, .exact])
        try s.add(cleanMetric: 3, corruptMetric: -1, scores: [.eap: [1.0, 0.1, -0.5, 0], .exact: [0.8, 0.0, -0.6, 0.001]])
        try s.add(cleanMetric: 2, corruptMetric: 0, scores: [.eap: [0.6, 0.0, -0.1, 0.02], .exact: [0.6, 0.02, -0.2, 0.001]])
        return s
    }

    @Test func truthAndCurvesFromExactPatching() throws {
        let e = try EAPEvaluation(sums: try Self.sums(), seconds: [.eap: 0.5, .exact: 3], truthFile: nil)
        let mean: [Double] = [(1.0 + 0.6) / 2, (0.1 + 0.0) / 2, (-0.5 + -0.1) / 2, (0 + 0.02) / 2]
        #expect(e.means[.eap] == mean)
        let truth = try #require(e.truth)
        // mean |L(clean) − L(corrupt)| = (4 + 2) / 2 = 3 → threshold 0.03; mean exact [0.7, 0.01, -0.4, 0.001].
        #expect(abs(truth.threshold! - 0.03) < 1e-15)
        #expect(truth.mask == [true, false, true, false])
        #expect(e.curves[.exact] == nil)
        let c = try #require(e.curves[.eap])
        #expect(c == ROCCurve(scores: mean, truth: [true, false, true, false]))
        #expect(c.auc == 1)
    }

    @Test func theOutputFileReadsBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eap-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sums = try Self.sums()
        let e = try EAPEvaluation(sums: sums, seconds: [.eap: 0.5, .exact: 3], truthFile: nil)
        let table = EAPPairTable(rows: [.init(line: 1, id: "a", reason: nil, cleanMetric: 3, corruptMetric: -1),
                                        .init(line: 2, id: "line-2", reason: "not a JSON object"),
                                        .init(line: 4, id: "b", reason: nil, cleanMetric: 2, corruptMetric: 0)])
        let url = folder.appendingPathComponent("eap.h5")
        try EAPResultFile.write(sums: sums, evaluation: e, table: table, model: "m", pairsFile: "p.jsonl", to: url)
        let back = try EAPResultFile.read(url)
        #expect(back.sums == sums)
        #expect(back.evaluation.means == e.means && back.evaluation.seconds == e.seconds && back.evaluation.truth == e.truth)
        #expect(back.evaluation.curves == e.curves)
        #expect(back.table.rows.count == 3 && back.table.skipped == 1)
        #expect(back.table.rows[1].reason == "not a JSON object" && back.table.rows[1].cleanMetric.isNaN)
        #expect(back.table.rows[2] == table.rows[2] && back.table.rows[0] == table.rows[0])
    }

    @Test func plotHasOneLinePerCurveAndTheAUCsInTheLegend() throws {
        let c = try #require(ROCCurve(scores: [3, -2, 2, 1], truth: [true, true, false, false]))
        let svg = ROCPlot.svg([.init(label: "EAP", curve: c), .init(label: "EAP-IG", curve: c)], title: "t <1>", subtitle: "s & s")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("EAP: AUC 0.875 (pessimistic 0.750)") && svg.contains("EAP-IG: AUC 0.875"))
        #expect(svg.contains("t &lt;1&gt;") && svg.contains("s &amp; s"))
        // (0,0) at the lower left of the 400-pixel square whose corner is (70, 70); (½,1) at x 270, y 70.
        #expect(svg.contains("points=\"70.00,470.00 70.00,270.00 270.00,70.00 470.00,70.00\""))
    }
}
