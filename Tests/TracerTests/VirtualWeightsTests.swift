// Virtual weights against a naive double-precision computation from the transcoder files, on
// every reference case (PLT and CLT; resid_mid, ln2.hook_normalized and mlp.hook_in readings).
import Foundation
import Storage
import Testing
import TestSupport
@testable import Tracer

@Suite struct VirtualWeightsTests {
    @Test(arguments: referenceCases())
    func matchNaiveDoublePrecision(run: ReferenceRun) throws {
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tc = replacement.transcoders
        var rng = SeededRandom(seed: 7)
        let targets = (1..<tc.nLayers).flatMap { l in (0..<4).map { _ in FeatureID(layer: l, feature: Int(rng.next() % UInt64(tc.dTranscoder))) } }
        let sources = VirtualWeights.allSources(below: targets, transcoders: tc)
        #expect(sources.count == (tc.nLayers - 1) * tc.dTranscoder)
        // Small blocks, so the blocking and the CLT's running sum over output layers are exercised.
        let v = try VirtualWeights.compute(targets: targets, sources: sources, transcoders: tc,
                                           reading: ResidualReading(replacement), blockSize: 100)
        var maxAbs = 0.0, maxErr = 0.0
        for (i, t) in targets.enumerated() {
            for (j, s) in sources.enumerated() {
                let expected = try naiveVirtualWeight(t, s, replacement: replacement)
                maxAbs = max(maxAbs, abs(expected))
                maxErr = max(maxErr, abs(Double(v[i * sources.count + j]) - expected))
                if s.layer >= t.layer { #expect(v[i * sources.count + j] == 0) }
            }
        }
        #expect(maxAbs > 0.01, "\(run): non-trivial weights")
        // Sources in any order (not contiguous per layer) and targets out of order give the same V.
        let reversed = try VirtualWeights.compute(targets: targets.reversed(), sources: sources.reversed(), transcoders: tc,
                                                  reading: ResidualReading(replacement), blockSize: 100)
        let nT = targets.count, nS = sources.count
        for i in 0..<nT {
            for j in 0..<nS {
                #expect(abs(reversed[(nT - 1 - i) * nS + (nS - 1 - j)] - v[i * nS + j]) <= 1e-6 * Float(maxAbs))
            }
        }
        #expect(maxErr <= 1e-5 * maxAbs, "\(run): max |ΔV| \(maxErr) of max |V| \(maxAbs)")
    }

    @Test func targetsOutsideTheTranscodersAreRejected() throws {
        let run = try #require(referenceCases().first)
        let replacement = try ReplacementModel(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        #expect(throws: TracerError.self) {
            try VirtualWeights.compute(targets: [FeatureID(layer: 99, feature: 0)], sources: [FeatureID(layer: 0, feature: 0)],
                                       transcoders: replacement.transcoders, reading: ResidualReading(replacement))
        }
    }
}
