// The evaluation tables: `/evaluation` (per-prompt graph evaluation, NaN for missing metrics)
// and `/bridge_swap` written and read back; inconsistent shapes name the file and dataset.
import Foundation
import Storage
import Testing

@Suite struct EvaluationTableTests {
    static func sample() -> EvaluationTable {
        var t = EvaluationTable(nLayers: 3, features: 10)
        var a = EvaluationTable.Row(nLayers: 3)
        a.pathLengthShares = [0.1, 0.6, 0.3]; a.pathLengthMean = 2.2
        a.fidelityCosine = [1, 0.9, .nan]; a.fidelityNMSE = [0, 0.2, .nan]; a.fidelityFeatures = 10
        a.causalRankCorrelation = 0.5; a.causalFeatures = 10; a.seconds = 0.25
        t.append(a)
        t.appendMissing(1)
        var b = EvaluationTable.Row(nLayers: 3)
        b.pathLengthShares = [0, 1]; b.pathLengthMean = 2                  // a graph whose only paths have length 2
        b.fidelityCosine = [1, 0.8, 0.7]; b.fidelityNMSE = [0, 0.3, 0.5]; b.fidelityFeatures = 2
        t.append(b)                                                         // causal check skipped: NaN, 0
        return t
    }

    /// Bitwise comparison: NaN equals NaN.
    static func same(_ x: [Double], _ y: [Double]) -> Bool { x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) } }

    @Test func roundTripKeepsNaNAndShareLengths() throws {
        let t = Self.sample()
        let read = try writeThenRead("evaluation", write: { try t.write(into: $0) }, read: { f in
            #expect(try f.shape(of: "evaluation/path_length_shares") == [3, 3])
            #expect(try f.shape(of: "evaluation/fidelity_cosine") == [3, 3])
            return try #require(try EvaluationTable.read(f))
        })
        #expect(read.nLayers == 3 && read.features == 10 && read.count == 3)
        for (r, e) in zip(read.rows, t.rows) {
            #expect(r.pathLengthShares == e.pathLengthShares)
            #expect(Self.same([r.pathLengthMean, r.causalRankCorrelation], [e.pathLengthMean, e.causalRankCorrelation]))
            #expect(Self.same(r.fidelityCosine, e.fidelityCosine) && Self.same(r.fidelityNMSE, e.fidelityNMSE))
            #expect(r.fidelityFeatures == e.fidelityFeatures && r.causalFeatures == e.causalFeatures && r.isEvaluated == e.isEvaluated)
            #expect(r.seconds == e.seconds)
        }
        #expect(!read.rows[1].isEvaluated && read.rows[1].pathLengthShares.isEmpty)
    }

    @Test func absentGroupIsNilAndBadShapesAreNamed() throws {
        #expect(try writeThenRead("evaluation-none", write: { try $0.createGroup("prompts") }, read: { try EvaluationTable.read($0) }) == nil)
        typealias C = EvaluationTable.Column
        let error = try writeThenRead("evaluation-short", write: { f in
            // Three rows, but a causal column of two.
            try f.createGroup("evaluation")
            try f.setAttribute(C.features, Int64(10), at: "evaluation")
            try f.write([2.0, 2.5, .nan], shape: [3], at: "evaluation/\(C.pathLengthMean)")
            try f.write([Double](repeating: 0.5, count: 6), shape: [3, 2], at: "evaluation/\(C.pathLengthShares)")
            for name in [C.fidelityCosine, C.fidelityNMSE] { try f.write([Double](repeating: 1, count: 12), shape: [3, 4], at: "evaluation/\(name)") }
            for name in [C.fidelityFeatures, C.causalFeatures] { try f.write([Int64](repeating: 1, count: 3), shape: [3], at: "evaluation/\(name)") }
            try f.write([0.1, 0.2], shape: [2], at: "evaluation/\(C.causalRankCorrelation)")
            try f.write([0.1, 0.2, 0], shape: [3], at: "evaluation/\(C.seconds)")
        }, read: { f -> SchemaError? in
            do { _ = try EvaluationTable.read(f); return nil } catch let e as SchemaError { return e }
        })
        #expect(error?.object == "evaluation/\(C.causalRankCorrelation)" && error?.detail.contains("2 entries") == true, "\(String(describing: error))")
    }

    @Test func bridgeSwapRoundTrip() throws {
        var done = BridgeSwapTable.Row(id: "csc-000", prompt: "fact : the capital of the state containing dallas is", bridge: "texas",
                                       target: "california", answer: "austin", targetAnswer: "sacramento")
        done.status = 1; done.answerProbability = 0.99; done.ablatedAnswerProbability = 0.1
        done.swappedTopToken = "sacramento"; done.swappedTopProbability = 0.8; done.success = 1
        done.bridgeFeatures = 3; done.targetFeatures = 6; done.ablations = 5; done.settings = 12
        var failed = BridgeSwapTable.Row(id: "x", prompt: "é", bridge: "a", target: "b", answer: "c", targetAnswer: "d")
        failed.reason = "unknown word"
        let t = BridgeSwapTable(rows: [done, failed])
        let read = try writeThenRead("bridge-swap", write: { try t.write(into: $0) }, read: { f in
            #expect(try BridgeSwapTable.readIDs(f) == ["csc-000", "x"])
            return try #require(try BridgeSwapTable.read(f))
        })
        #expect(read.rows[0] == done)
        #expect(read.rows[1].reason == "unknown word" && read.rows[1].status == 0 && read.rows[1].answerProbability.isNaN)
    }
}
