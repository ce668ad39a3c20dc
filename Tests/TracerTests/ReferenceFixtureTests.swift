import Foundation
import Testing
import TestSupport
import Tracer

/// The golden cases the parity tests run on: discovered from both places (the bundled copy in
/// `Tests/Fixtures/reference`, and `../shared/reference` or `$CIRCUITS_REFERENCE`), the newer
/// place winning, and the bundled copy faithful to its source.
@Suite struct ReferenceFixtureTests {
    static func caseNames(under root: URL) -> [String] {
        let dir = root.appendingPathComponent("cases")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("\($0)/manifest.json").path)
        }.sorted()
    }

    @Test("reference cases are present and every case folder is discovered")
    func everyCaseDiscovered() throws {
        let bundled = Self.caseNames(under: bundledReferenceRoot)
        #expect(!bundled.isEmpty, "\(MissingFixture("bundled reference cases under \(bundledReferenceRoot.path)/cases"))")
        let discovered = Set(referenceCases().map(\.caseName))
        for name in bundled { #expect(discovered.contains(name), "bundled case \(name) not discovered") }
        for name in Self.caseNames(under: referenceRoot) {
            let run = try #require(referenceCases().first { $0.caseName == name }, "case \(name) under \(referenceRoot.path) not discovered")
            #expect(run.caseDir.path.hasPrefix(referenceRoot.path), "\(name) should come from \(referenceRoot.path), the newer copy")
        }
    }

    /// Each bundled array equals the `.npy` it was packed from, wherever `../shared` has it.
    @Test("the bundled copy holds the same arrays as ../shared",
          .enabled(if: !caseNames(under: referenceRoot).isEmpty, "no ../shared/reference beside the checkout"))
    func bundledCopyIsFaithful() throws {
        let fm = FileManager.default
        for name in Self.caseNames(under: bundledReferenceRoot) {
            let bundledCase = bundledReferenceRoot.appendingPathComponent("cases/\(name)")
            let sourceCase = referenceRoot.appendingPathComponent("cases/\(name)")
            guard fm.fileExists(atPath: sourceCase.path) else { continue }
            for sub in try fm.contentsOfDirectory(atPath: bundledCase.path) where sub == "outputs" || sub.hasPrefix("variant_") {
                let packed = ReferenceRun(caseDir: bundledCase, runName: sub), source = ReferenceRun(caseDir: sourceCase, runName: sub)
                for array in ["input_tokens", "active_features", "adjacency_matrix", "prune/edge_mask"] where source.hasArray(array) {
                    let a = try packed.array(array), b = try source.array(array)
                    #expect(a.shape == b.shape && a.floats == b.floats, "\(packed) \(array): bundled copy differs from \(sourceCase.path)")
                }
            }
        }
    }

    @Test func missingArrayNamesWhatIsMissing() throws {
        let run = try firstReferenceRun()
        #expect { try run.array("no_such_array") } throws: { "\($0)".contains("no_such_array.npy") && "\($0)".contains("missing test fixture") }
    }
}
