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

    /// A pass recomputes only the positions from its first intervened one on, the earlier ones
    /// taken from the clean run: it equals the pass over the whole prompt, which a no-op at the
    /// BOS (a feature set to its clean value 0 there) forces. Every run of every case and mode,
    /// the recorded activations and residuals included.
    @Test(arguments: goldens)
    func laterPositionsAloneEqualTheWholePrompt(golden: InterventionGoldens) throws {
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        let bosNoOp = FeatureIntervention(layer: 0, position: 0, feature: 0, value: 0)
        for r in golden.runs {
            let mode = try golden.mode(r, nLayers: m.model.config.nLayers)
            #expect(r.interventions.allSatisfy { $0.position > 0 }, "\(golden) \(r.name) intervenes at the BOS")
            let pair = try m.intervene(clean, [r.interventions, [bosNoOp] + r.interventions], mode: mode,
                                       recording: [.activations, .residuals])
            let logits = closeness(pair[0].logits, pair[1].logits, absScale: 1e-6, rel: 1e-5)
            #expect(logits.ok, "\(golden) \(r.name) logits: \(logits)")
            let acts = closeness(pair[0].activations.flatMap { $0 }, pair[1].activations.flatMap { $0 }, absScale: 1e-6, rel: 1e-5)
            #expect(acts.ok, "\(golden) \(r.name) activations: \(acts)")
            let resid = closeness(pair[0].residuals.flatMap { $0 }, pair[1].residuals.flatMap { $0 }, absScale: 1e-6, rel: 1e-5)
            #expect(resid.ok, "\(golden) \(r.name) residuals: \(resid)")
        }
    }

    /// The replacement model with nothing changed is the clean model: the frozen errors make it
    /// exact (up to the round-off of recomputing). A feature set to its own clean value at
    /// position 1 makes the pass recompute every position after the BOS.
    @Test(arguments: goldens)
    func replacementWithoutChangeIsExact(golden: InterventionGoldens) throws {
        let m = try ReplacementModel(modelDirectory: golden.run.modelDir, transcoderDirectory: golden.run.transcoderDir)
        let clean = try m.cleanRun(tokens: golden.tokens)
        let dT = m.transcoders.dTranscoder
        let f = try #require((0..<dT).first { clean.activations[0][dT + $0] > 0 }, "no feature active at position 1")
        let same = FeatureIntervention(layer: 0, position: 1, feature: f, value: clean.activations[0][dT + f])
        for set in [[same], []] {
            let out = try m.intervene(clean, [set], mode: .replacement, recording: .activations)[0]
            let logits = closeness(out.logits, clean.logits, absScale: 1e-6, rel: 1e-5)
            #expect(logits.ok, "\(golden) \(set): \(logits)")
            for l in 0..<m.transcoders.nLayers {
                let acts = closeness(out.activations[l], clean.activations[l], absScale: 1e-6, rel: 1e-5)
                #expect(acts.ok, "\(golden) \(set) layer \(l) activations: \(acts)")
            }
        }
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
