import Foundation
import Testing
import TestSupport
@testable import Tracer

/// A case's intervention goldens (`interventions/`, reference README §10): circuit-tracer
/// 0.5.0's `feature_intervention` in every patching mode.
struct InterventionGoldens: CustomStringConvertible, Sendable {
    let run: ReferenceRun
    var description: String { run.caseName }

    struct Run {
        var name: String
        var mode: String
        var constrained: [Int]?
        var interventions: [FeatureIntervention]
    }

    var tokens: [Int]
    var runs: [Run]

    init(run: ReferenceRun) throws {
        self.run = run
        let url = run.outputs.appendingPathComponent("spec.json")
        guard let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any],
              let tokens = spec["input_tokens"] as? [Int], let runs = spec["runs"] as? [[String: Any]] else {
            throw MissingFixture("\(url.path): input_tokens and runs")
        }
        self.tokens = tokens
        self.runs = try runs.map { r in
            guard let name = r["name"] as? String, let mode = r["mode"] as? String, let list = r["interventions"] as? [[Double]] else {
                throw MissingFixture("\(url.path): a run's name, mode and interventions")
            }
            return Run(name: name, mode: mode, constrained: r["constrained"] as? [Int],
                       interventions: list.map { FeatureIntervention(layer: Int($0[0]), position: Int($0[1]), feature: Int($0[2]), value: Float($0[3])) })
        }
    }

    /// The cases that have intervention goldens, from every reference root.
    static func all() -> [InterventionGoldens] {
        referenceCases().compactMap { c in
            let run = ReferenceRun(caseDir: c.caseDir, runName: "interventions")
            guard FileManager.default.fileExists(atPath: run.outputs.appendingPathComponent("spec.json").path) else { return nil }
            return try? InterventionGoldens(run: run)
        }
    }

    func mode(_ r: Run, nLayers: Int) throws -> InterventionMode {
        switch r.mode {
        case "iterative": return .iterative
        case "frozen_attention": return .frozenAttention
        case "constrained_all": return .constrained(0..<nLayers)
        case "constrained_range":
            guard let c = r.constrained, c.count == 2 else { throw MissingFixture("\(run): run \(r.name) has no constrained range") }
            return .constrained(c[0]..<c[1])
        default: throw MissingFixture("\(run): run \(r.name) has unknown mode \(r.mode)")
        }
    }
}

/// `|a − b| ≤ 1e-4 · max(1, max|b|)` everywhere: the bound for intervention goldens.
func withinGoldenBound(_ ours: [Float], _ golden: [Float]) -> (ok: Bool, detail: String) {
    let c = closeness(ours, golden, absScale: 0, rel: 0)
    let bound = 1e-4 * max(1, c.maxRef)
    return (!c.countMismatch && c.maxAbsDiff <= bound, "\(c); bound \(bound)")
}

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
