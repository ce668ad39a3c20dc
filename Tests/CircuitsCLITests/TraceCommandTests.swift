import Foundation
import Testing
import TestSupport

/// `circuits trace` option checks: the same ranges as job specs and the engine
/// (`AttributionParameters` / `PruningParameters`), reported with the flag's name before any work.
@Suite struct TraceCommandTests {
    static let model = repositoryRoot.appendingPathComponent("models/interim/model").path
    static let transcoders = repositoryRoot.appendingPathComponent("models/interim/plt").path

    @Test(arguments: [
        (["--logit-prob", "0"], "--logit-prob must be a number in (0, 1] (got 0.0)"),
        (["--max-logits", "0"], "--max-logits must be an integer from 1 to 100000 (got 0)"),
        (["--batch-size=-3"], "--batch-size must be an integer from 1 to 100000 (got -3)"),
        (["--edge-threshold", "2"], "--edge-threshold must be a number in [0, 1] (got 2.0)"),
    ])
    func outOfRangeOptionsNameTheFlag(extra: [String], expected: String) throws {
        let folder = try ScratchFolder("trace-options")
        defer { folder.remove() }
        let r = try CircuitsProcess.run(["trace", "--model", Self.model, "--transcoders", Self.transcoders,
                                         "--prompt", "the cat", "--out", folder.file("g.h5").path] + extra, in: folder.url, seconds: 60)
        #expect(r.status != 0 && r.status != nil, "\(extra): status \(String(describing: r.status))")
        #expect(r.stderr.contains(expected), "\(extra): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("g.h5").path), "nothing written")
    }
}
