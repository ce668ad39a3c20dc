import Foundation
import Testing
import TestSupport
@testable import Tracer

/// `InterventionSpec`: the `--set` and JSON forms, and their resolution against a clean run.
@Suite struct InterventionSpecTests {
    @Test func parsesTheCommandLineForms() throws {
        #expect(try InterventionSpec(parsing: "3:-1:72=0") == InterventionSpec(layer: 3, position: .index(-1), feature: 72, value: .absolute(0)))
        #expect(try InterventionSpec(parsing: "0:all:5=*2.5") == InterventionSpec(layer: 0, position: .all, feature: 5, value: .scale(2.5)))
        #expect(try InterventionSpec(parsing: "1:4:9=-3e-1") == InterventionSpec(layer: 1, position: .index(4), feature: 9, value: .absolute(-0.3)))
        for bad in ["3:1:72", "3:1=0", "3:1:2:4=0", "a:1:2=0", "1:x:2=0", "1:1:2=*", "1:1:2=nan", "1:1:2=inf", "1:1:2="] {
            #expect(throws: TracerError.self, "\(bad)") { try InterventionSpec(parsing: bad) }
        }
    }

    @Test func parsesJSONFiles() throws {
        let list = try InterventionSpec.list(json: Data(#"[[3, 11, 72, 0.0], [2, -1, 83, 1.5], [0, "all", 7, "*0.5"]]"#.utf8))
        #expect(list == [InterventionSpec(layer: 3, position: .index(11), feature: 72, value: .absolute(0)),
                         InterventionSpec(layer: 2, position: .index(-1), feature: 83, value: .absolute(1.5)),
                         InterventionSpec(layer: 0, position: .all, feature: 7, value: .scale(0.5))])
        for (bad, text) in [("[[1, 2, 3]]", "entry 0"), ("[[1.5, 2, 3, 0]]", "layer 1.5"), ("{}", "JSON array"), ("[", "not JSON"),
                            ("[[0, 1, 2, 0], [0, 1, 2, null]]", "entry 1")] {
            let e = #expect(throws: TracerError.self) { try InterventionSpec.list(json: Data(bad.utf8)) }
            #expect(e?.description.contains(text) == true, "\(bad): \(String(describing: e))")
        }
    }

    @Test func resolvesAgainstTheCleanRun() throws {
        let golden = try #require(InterventionGoldens.all().first { $0.run.caseName == "clt_jumprelu" })
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        let L = m.transcoders.nLayers, dT = m.transcoders.dTranscoder, T = clean.nPos
        func resolve(_ s: String, prompt: Int? = nil) throws -> [FeatureIntervention] {
            try InterventionSpec(parsing: s).resolve(against: clean, promptLength: prompt, nLayers: L, dTranscoder: dT)
        }
        // The goldens' "every active position" run is `all` of that feature.
        #expect(try resolve("3:all:72=0") == golden.runs.first { $0.name == "ablate_all_positions_iterative" }!.interventions)
        let a = clean.activations[2][(T - 1) * dT + 83]
        #expect(try resolve("2:-1:83=*3") == [FeatureIntervention(layer: 2, position: T - 1, feature: 83, value: 3 * a)])
        #expect(try resolve("2:-1:83=1", prompt: T - 2) == [FeatureIntervention(layer: 2, position: T - 3, feature: 83, value: 1)])
        for (bad, text) in [("\(L):1:0=0", "layer \(L)"), ("0:1:\(dT)=0", "feature \(dT)"), ("0:\(T):0=0", "position \(T)"),
                            ("0:-\(T + 1):0=0", "position -\(T + 1)")] {
            let e = #expect(throws: TracerError.self) { try resolve(bad) }
            #expect(e?.description.contains(text) == true, "\(bad): \(String(describing: e))")
        }
    }
}
