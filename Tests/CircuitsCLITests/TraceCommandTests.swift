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

/// `circuits trace --out` never deletes or replaces a folder, a link or anything but a file.
@Suite struct TraceOutputTests {
    func trace(out: String, json: String? = nil, in folder: ScratchFolder) throws -> (status: Int32?, stdout: String, stderr: String) {
        try CircuitsProcess.run(["trace", "--model", TraceCommandTests.model, "--transcoders", TraceCommandTests.transcoders,
                                 "--prompt", "the cat", "--out", out] + (json.map { ["--json", $0] } ?? []), in: folder.url, seconds: 60)
    }

    @Test func anExistingFolderIsRefusedAndKept() throws {
        let folder = try ScratchFolder("trace-out-dir")
        defer { folder.remove() }
        let precious = folder.file("results")
        try FileManager.default.createDirectory(at: precious, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: precious.appendingPathComponent("notes.txt"))
        for (out, json) in [(precious.path, nil), (folder.file("g.h5").path, precious.path)] as [(String, String?)] {
            let r = try trace(out: out, json: json, in: folder)
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.stderr.hasPrefix("error: cannot write the graph") && r.stderr.hasSuffix("at \(precious.path): it is a folder (give the path of a file; nothing in the folder was touched)\n"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(try String(contentsOf: precious.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("g.h5").path))
    }

    @Test func aFileAsParentFolderAndALinkAreRefused() throws {
        let folder = try ScratchFolder("trace-out-file")
        defer { folder.remove() }
        try Data("x".utf8).write(to: folder.file("plain"))
        var r = try trace(out: folder.file("plain/g.h5").path, in: folder)
        #expect(r.status == 2 && r.stderr.contains("\(folder.file("plain").path) is a file, not a folder"), "\(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain"))
        try FileManager.default.createSymbolicLink(at: folder.file("link.h5"), withDestinationURL: folder.file("plain"))
        r = try trace(out: folder.file("link.h5").path, in: folder)
        #expect(r.status == 2 && r.stderr.contains("symbolic link"), "\(r.stderr)")
        #expect(try String(contentsOf: folder.file("plain"), encoding: .utf8) == "x")
    }

    @Test func anExistingGraphFileIsReplacedWhole() throws {
        let folder = try ScratchFolder("trace-out-replace")
        defer { folder.remove() }
        try Data("old".utf8).write(to: folder.file("g.h5"))
        let r = try trace(out: folder.file("g.h5").path, json: folder.file("g.json").path, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let magic = try Data(contentsOf: folder.file("g.h5")).prefix(8)
        #expect(magic == Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), "an HDF5 file")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
