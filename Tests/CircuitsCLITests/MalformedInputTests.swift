import Foundation
import Testing
import TestSupport

/// "No crash on any input": the real `circuits trace` on corrupted copies of the interim model
/// and transcoders exits with status 2 and exactly one `error: ` line naming the file and the
/// field or tensor, instead of trapping (SIGILL) or printing raw Foundation errors.
@Suite struct MalformedInputTests {
    enum Corruption: String, CaseIterable, CustomTestStringConvertible {
        case headerLength2e63, zeroHeads, nanEncoder, nonUTF8PromptFile, outputParentIsAFile, jsonParentIsAFile
        var testDescription: String { rawValue }
    }

    @Test(arguments: Corruption.allCases)
    func exitsWithOneErrorLine(corruption: Corruption) throws {
        let folder = try ScratchFolder("cli-malformed")
        defer { folder.remove() }
        let (model, plt) = try CorruptFixtures.copyInterim(into: folder.url)
        var prompt = ["--prompt", "the cat"], out = folder.file("g.h5").path, extra: [String] = []
        let expected: [String]
        switch corruption {
        case .headerLength2e63:
            let weights = model.appendingPathComponent("model.safetensors")
            var bytes = try Data(contentsOf: weights)
            withUnsafeBytes(of: (UInt64(1) << 63).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            try bytes.write(to: weights)
            expected = [weights.path, "header length 9223372036854775808"]
        case .zeroHeads:
            let config = model.appendingPathComponent("config.json")
            try CorruptFixtures.editJSON(config) { $0["n_head"] = 0 }
            expected = [config.path, "n_head is 0"]
        case .nanEncoder:
            let layer = plt.appendingPathComponent("layer_3.safetensors")
            try CorruptFixtures.poison(layer, tensor: "W_enc", index: 5)
            expected = [layer.path, "'W_enc'", "non-finite"]
        case .nonUTF8PromptFile:
            let file = folder.file("prompt.txt")
            try Data([0x74, 0x68, 0x65, 0x20, 0xE9, 0x74, 0xE9]).write(to: file)   // "the été" in Latin-1
            prompt = ["--prompt-file", file.path]
            expected = [file.path, "not UTF-8", "offset 4"]
        case .outputParentIsAFile:
            let blocker = folder.file("not-a-folder")
            try Data("x".utf8).write(to: blocker)
            out = blocker.appendingPathComponent("g.h5").path
            expected = ["--out", blocker.path, "is a file, not a folder"]
        case .jsonParentIsAFile:
            let blocker = folder.file("not-a-folder")
            try Data("x".utf8).write(to: blocker)
            extra = ["--json", blocker.appendingPathComponent("g.json").path]
            expected = ["--json", blocker.path, "is a file, not a folder"]
        }
        let r = try CircuitsProcess.run(["trace", "--model", model.path, "--transcoders", plt.path, "--out", out] + prompt + extra,
                                        in: folder.url, seconds: 120)
        #expect(r.status == 2, "status \(String(describing: r.status)); stderr: \(r.stderr)")
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1, "\(r.stderr)")
        for needle in expected { #expect(errors.first?.contains(needle) == true, "'\(needle)' not in: \(r.stderr)") }
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("Fatal error"), "\(r.stderr)")
    }
}
