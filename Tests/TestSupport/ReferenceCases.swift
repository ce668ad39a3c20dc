import Foundation
import Tracer

/// The repository root (the folder holding Package.swift).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `../shared/reference` beside the checkout, or `$CIRCUITS_REFERENCE` when set.
public let referenceRoot: URL = {
    if let env = ProcessInfo.processInfo.environment["CIRCUITS_REFERENCE"] { return URL(fileURLWithPath: env) }
    return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
}()

/// One golden run of circuit-tracer: a case folder and one of its output folders
/// (`outputs/` or `variant_<name>/`).
public struct ReferenceRun: CustomStringConvertible, Sendable {
    /// The case folder (`model/`, `transcoders/`, `prompt.txt`, `manifest.json`).
    public let caseDir: URL
    /// `outputs` or `variant_<name>`.
    public let runName: String

    public var outputs: URL { caseDir.appendingPathComponent(runName) }
    public var caseName: String { caseDir.lastPathComponent }
    public var description: String { runName == "outputs" ? caseName : "\(caseName)/\(runName)" }
    public var modelDir: URL { caseDir.appendingPathComponent("model") }
    public var transcoderDir: URL { caseDir.appendingPathComponent("transcoders") }

    /// The run's `results` object from `manifest.json` (`attribute_kwargs`, scores, ...).
    public var results: [String: Any] {
        let manifest = (try? JSONSerialization.jsonObject(with: Data(contentsOf: caseDir.appendingPathComponent("manifest.json")))) as? [String: Any]
        let all = manifest?["results"] as? [String: Any]
        return all?[runName] as? [String: Any] ?? [:]
    }

    /// The `model` object of `manifest.json`.
    public var modelManifest: [String: Any] {
        let manifest = (try? JSONSerialization.jsonObject(with: Data(contentsOf: caseDir.appendingPathComponent("manifest.json")))) as? [String: Any]
        return manifest?["model"] as? [String: Any] ?? [:]
    }

    /// `outputs/<name>.npy`, e.g. `array("adjacency_matrix")`, `array("prune/node_mask")`.
    public func array(_ name: String) throws -> NumPyArray {
        try NumPyArray(contentsOf: outputs.appendingPathComponent(name + ".npy"))
    }

    public func hasArray(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: outputs.appendingPathComponent(name + ".npy").path)
    }

    /// The prompt string.
    public var prompt: String {
        (try? String(contentsOf: caseDir.appendingPathComponent("prompt.txt"), encoding: .utf8)) ?? ""
    }
}

/// Every golden run under `referenceRoot/cases`, discovered from the folder: each case's
/// `outputs/` and each `variant_*/`. A case dropped into the folder is picked up with no code change.
public func referenceRuns() -> [ReferenceRun] {
    let fm = FileManager.default
    let casesDir = referenceRoot.appendingPathComponent("cases")
    guard let names = try? fm.contentsOfDirectory(atPath: casesDir.path) else { return [] }
    var runs: [ReferenceRun] = []
    for name in names.sorted() {
        let dir = casesDir.appendingPathComponent(name)
        guard fm.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) else { continue }
        let subdirs = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        for sub in subdirs where sub == "outputs" || sub.hasPrefix("variant_") {
            runs.append(ReferenceRun(caseDir: dir, runName: sub))
        }
    }
    return runs
}

/// The main run (`outputs/`) of every reference case.
public func referenceCases() -> [ReferenceRun] { referenceRuns().filter { $0.runName == "outputs" } }
