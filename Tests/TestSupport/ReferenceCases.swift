import Foundation
import Tracer

/// The repository root (the folder holding Package.swift).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The project's own copy of the golden data the tests read (`tools/fixtures/vendor_reference.py`
/// makes it from `../shared/reference`): a clone alone passes the tests.
public let bundledReferenceRoot: URL = repositoryRoot.appendingPathComponent("Tests/Fixtures/reference")

/// `$CIRCUITS_REFERENCE` when set, else `../shared/reference` beside the checkout: the team's
/// golden cases, which may be newer than the bundled copy. It need not exist.
public let referenceRoot: URL = {
    if let env = ProcessInfo.processInfo.environment["CIRCUITS_REFERENCE"] { return URL(fileURLWithPath: env) }
    return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
}()

/// Where golden data is looked up, first match wins: `referenceRoot`, then the bundled copy.
public let referenceRoots: [URL] = [referenceRoot, bundledReferenceRoot]

/// The golden file or folder at `relative` (e.g. `tokenizers/bytelevel_bpe`) from the first
/// reference root that has it; the bundled path when none does, so a test's error names it.
public func referencePath(_ relative: String) -> URL {
    for root in referenceRoots where FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path) {
        return root.appendingPathComponent(relative)
    }
    return bundledReferenceRoot.appendingPathComponent(relative)
}

/// A golden fixture is missing: the message names what and where it was looked for.
public struct MissingFixture: Error, CustomStringConvertible {
    public var what: String
    public var description: String {
        "missing test fixture: \(what) (looked in \(referenceRoots.map(\.path).joined(separator: " and ")); "
            + "run tools/fixtures/vendor_reference.py to refresh the bundled copy)"
    }
    public init(_ what: String) { self.what = what }
}

/// One golden run of circuit-tracer: a case folder and one of its output folders
/// (`outputs/` or `variant_<name>/`).
public struct ReferenceRun: CustomStringConvertible, Sendable {
    /// The case folder (`model/`, `transcoders/`, `prompt.txt`, `manifest.json`).
    public let caseDir: URL
    /// `outputs` or `variant_<name>`.
    public let runName: String

    public init(caseDir: URL, runName: String) {
        self.caseDir = caseDir
        self.runName = runName
    }

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

    /// `outputs/<name>.npy`, e.g. `array("adjacency_matrix")`, `array("prune/node_mask")`: the
    /// file itself (`../shared`) or the same entry of the run's `arrays.npz` (the bundled copy).
    public func array(_ name: String) throws -> NumPyArray {
        let file = outputs.appendingPathComponent(name + ".npy")
        if FileManager.default.fileExists(atPath: file.path) { return try NumPyArray(contentsOf: file) }
        guard let archive = packedArrays, let entry = archive.entry(name + ".npy") else {
            throw MissingFixture("\(self): array \(name).npy (neither \(file.path) nor an entry of \(outputs.path)/arrays.npz)")
        }
        return try NumPyArray(data: archive.contents(of: entry), source: "\(archive.url.path):\(entry.name)")
    }

    public func hasArray(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: outputs.appendingPathComponent(name + ".npy").path)
            || packedArrays?.entry(name + ".npy") != nil
    }

    /// `arrays.npz` of the run folder (bundled copies pack their arrays there), if present.
    var packedArrays: ZipArchive? { try? ZipArchive(outputs.appendingPathComponent("arrays.npz")) }

    /// The prompt string.
    public var prompt: String {
        (try? String(contentsOf: caseDir.appendingPathComponent("prompt.txt"), encoding: .utf8)) ?? ""
    }
}

/// Every golden run, discovered from the folders: each case's `outputs/` and each `variant_*/`,
/// from every reference root. A case present in both is taken from `referenceRoot` (the newer);
/// a case dropped into either folder is picked up with no code change.
public func referenceRuns() -> [ReferenceRun] {
    let fm = FileManager.default
    var caseDirs: [String: URL] = [:]
    for root in referenceRoots.reversed() {   // later roots first, so the first root wins
        let casesDir = root.appendingPathComponent("cases")
        for name in (try? fm.contentsOfDirectory(atPath: casesDir.path)) ?? [] {
            let dir = casesDir.appendingPathComponent(name)
            if fm.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) { caseDirs[name] = dir }
        }
    }
    var runs: [ReferenceRun] = []
    for (_, dir) in caseDirs.sorted(by: { $0.key < $1.key }) {
        let subdirs = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        for sub in subdirs where sub == "outputs" || sub.hasPrefix("variant_") {
            runs.append(ReferenceRun(caseDir: dir, runName: sub))
        }
    }
    return runs
}

/// The main run (`outputs/`) of every reference case.
public func referenceCases() -> [ReferenceRun] { referenceRuns().filter { $0.runName == "outputs" } }

/// The first golden run, for tests that need one graph; throws `MissingFixture` when there is none.
public func firstReferenceRun() throws -> ReferenceRun {
    guard let run = referenceRuns().first else { throw MissingFixture("reference cases (cases/<name>/manifest.json)") }
    return run
}
