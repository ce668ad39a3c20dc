import Foundation
import Testing
import TestSupport
@testable import Tracer

@Suite struct InterventionTests {
    static let goldens = InterventionGoldens.all()

    @Test func everyCaseWithInterventionsIsFound() {
        // Every case of the bundled copy has goldens (README §10: ten runs per case).
        let bundled = (try? FileManager.default.contentsOfDirectory(atPath: bundledReferenceRoot.appendingPathComponent("cases").path)) ?? []
        let withSpec = bundled.filter {
            FileManager.default.fileExists(atPath: bundledReferenceRoot.appendingPathComponent("cases/\($0)/interventions/spec.json").path)
        }
        #expect(!withSpec.isEmpty)
        #expect(Set(Self.goldens.map(\.run.caseName)).isSuperset(of: withSpec))
    }

    @Test(arguments: goldens)
    func everyModeMatchesCircuitTracer(golden: InterventionGoldens) throws {
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        // Quirk of the goldens: `base_logits.npy` of a softcapped model (Gemma-2) has the cap applied
        // twice (TransformerLens's forward caps, and the golden script capped again); the runs'
        // `logits.npy` (from circuit-tracer's logit hook) are capped once, as ours are.
        let base = softcapped(clean.logits, m.model.config.finalLogitSoftcap)
        let baseLogits = withinGoldenBound(base, try golden.run.array("base_logits").floats)
        #expect(baseLogits.ok, "\(golden) base_logits: \(baseLogits.detail)")
        let baseActs = withinGoldenBound(clean.activations.flatMap { $0 }, try golden.run.array("base_activations").floats)
        #expect(baseActs.ok, "\(golden) base_activations: \(baseActs.detail)")
        #expect(golden.runs.count >= 4)
        for r in golden.runs {
            let mode = try golden.mode(r, nLayers: m.model.config.nLayers)
            let out = try m.intervene(clean, [r.interventions], mode: mode, recording: .activations)[0]
            let logits = withinGoldenBound(out.logits, try golden.run.array(r.name + "/logits").floats)
            #expect(logits.ok, "\(golden) \(r.name) logits: \(logits.detail)")
            let acts = withinGoldenBound(out.activations.flatMap { $0 }, try golden.run.array(r.name + "/activations").floats)
            #expect(acts.ok, "\(golden) \(r.name) activations: \(acts.detail)")
        }
    }

    /// Batching packs the sets as segments of one pass: each equals its own single run.
    @Test(arguments: goldens.prefix(2))
    func batchedSetsEqualSingleRuns(golden: InterventionGoldens) throws {
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        for modeName in ["iterative", "frozen_attention", "constrained_all"] {
            let runs = golden.runs.filter { $0.mode == modeName }
            guard let first = runs.first else { continue }
            let mode = try golden.mode(first, nLayers: m.model.config.nLayers)
            let batched = try m.intervene(clean, runs.map(\.interventions) + [[]], mode: mode)
            for (r, b) in zip(runs, batched) {
                let single = try m.intervene(clean, [r.interventions], mode: mode)[0]
                let c = closeness(b.logits, single.logits, absScale: 1e-6, rel: 1e-5)
                #expect(c.ok, "\(golden) \(r.name) batched vs single: \(c)")
            }
            let none = closeness(batched.last!.logits, clean.logits, absScale: 1e-6, rel: 1e-5)
            #expect(none.ok, "\(golden) \(modeName) with no intervention vs the clean run: \(none)")
        }
    }

    /// The replacement model with nothing changed is the clean model, bit for bit: the frozen
    /// errors make it exact.
    @Test(arguments: goldens)
    func replacementWithoutInterventionIsExact(golden: InterventionGoldens) throws {
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        let out = try m.intervene(clean, [[]], mode: .replacement, recording: .activations)[0]
        #expect(out.logits == clean.logits)
        #expect(out.activations == clean.activations)
    }

    @Test func outOfRangeInterventionsAreNamed() throws {
        let golden = try #require(Self.goldens.first)
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        let L = m.transcoders.nLayers, dT = m.transcoders.dTranscoder, T = golden.tokens.count
        let bad: [(FeatureIntervention, String)] = [
            (FeatureIntervention(layer: L, position: 1, feature: 0, value: 0), "layer \(L)"),
            (FeatureIntervention(layer: 0, position: T, feature: 0, value: 0), "position \(T)"),
            (FeatureIntervention(layer: 0, position: 1, feature: dT, value: 0), "feature \(dT)"),
            (FeatureIntervention(layer: 0, position: 1, feature: 0, value: .nan), "not finite"),
        ]
        for (i, text) in bad {
            let e = #expect(throws: TracerError.self) { try m.intervene(clean, [[i]], mode: .iterative) }
            #expect(e?.description.contains(text) == true, "\(String(describing: e))")
        }
        let e = #expect(throws: TracerError.self) { try m.intervene(clean, [[]], mode: .constrained(0..<(L + 1))) }
        #expect(e?.description.contains("constrained layers") == true)
    }
}
