import Foundation
import Tracer

/// A case's intervention goldens (`interventions/`, reference README §10): circuit-tracer
/// 0.5.0's `feature_intervention` in every patching mode.
public struct InterventionGoldens: CustomStringConvertible, Sendable {
    public let run: ReferenceRun
    public var description: String { run.caseName }

    public struct Run: Sendable {
        public var name: String
        public var mode: String
        public var constrained: [Int]?
        public var interventions: [FeatureIntervention]
    }

    public var tokens: [Int]
    public var runs: [Run]

    public init(run: ReferenceRun) throws {
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
    public static func all() -> [InterventionGoldens] {
        referenceCases().compactMap { c in
            let run = ReferenceRun(caseDir: c.caseDir, runName: "interventions")
            guard FileManager.default.fileExists(atPath: run.outputs.appendingPathComponent("spec.json").path) else { return nil }
            return try? InterventionGoldens(run: run)
        }
    }

    public func mode(_ r: Run, nLayers: Int) throws -> InterventionMode {
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
public func withinGoldenBound(_ ours: [Float], _ golden: [Float]) -> (ok: Bool, detail: String) {
    let c = closeness(ours, golden, absScale: 0, rel: 0)
    let bound = 1e-4 * max(1, c.maxRef)
    return (!c.countMismatch && c.maxAbsDiff <= bound, "\(c); bound \(bound)")
}
