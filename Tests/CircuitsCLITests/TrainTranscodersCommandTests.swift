import Foundation
import Testing
import TestSupport

/// `circuits train-transcoders` as a process: a short run writes loadable transcoders, a
/// checkpoint and the report, `--resume` continues it, and bad input gives one `error:` line
/// naming the file or option, with exit status 2.
@Suite struct TrainTranscodersCommandTests {
    static func corpus(in folder: ScratchFolder) throws -> URL {
        let words = ["the", "cat", "dog", "sat", "on", "mat", "because", "it", "was", "very", "tired", "happy", "red", "rug"]
        let lines = (0..<40).map { i in
            "{\"id\": \"c\(i)\", \"prompt\": \"" + (0..<(5 + i % 7)).map { words[($0 * 7 + i * 3) % words.count] }.joined(separator: " ") + "\"}"
        }
        let url = folder.file("corpus.jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func base(_ corpus: URL, out: URL) -> [String] {
        ["train-transcoders", "--model", InterimModel.model.path, "--corpus", corpus.path, "--out", out.path,
         "--batch-tokens", "64", "--buffer-tokens", "256", "--eval-tokens", "256", "--log-every", "5"]
    }

    @Test func trainsWritesAndResumes() throws {
        let folder = try ScratchFolder("train-cli")
        defer { folder.remove() }
        let corpus = try Self.corpus(in: folder)
        let out = folder.file("plt")
        let args = base(corpus, out: out) + ["--kind", "plt", "--width", "32", "--activation", "jumprelu", "--skip"]
        let first = try CircuitsProcess.run(args + ["--steps", "10"], in: folder.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("step 10/10 · loss "), "\(first.stderr)")
        #expect(first.stdout.contains("mean L0"), "\(first.stdout)")
        for name in ["config.yaml", "layer_0.safetensors", "layer_3.safetensors", "training_report.json", "checkpoint/state.json", "checkpoint/tensors.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "missing \(name)")
        }
        let again = try CircuitsProcess.run(args + ["--steps", "10"], in: folder.url)
        #expect(again.status == 2 && again.stderr.contains("--resume"), "\(again.stderr)")

        let resumed = try CircuitsProcess.run(args + ["--steps", "15", "--resume"], in: folder.url)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at step 10") && resumed.stderr.contains("step 15/15"), "\(resumed.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("training_report.json"))) as? [String: Any]
        #expect(report?["steps"] as? Int == 15)
        #expect((report?["layers"] as? [Any])?.count == 4)

        // The trained folder traces.
        let trace = try CircuitsProcess.run(["trace", "--model", InterimModel.model.path, "--transcoders", out.path,
                                             "--prompt", "the cat sat on the mat", "--out", folder.file("g.h5").path], in: folder.url)
        #expect(trace.status == 0, "\(trace.stderr)")
    }

    struct BadInput: CustomStringConvertible, Sendable {
        var label: String
        var arguments: [String]
        var mentions: String
        var description: String { label }
    }

    static let badInputs: [BadInput] = [
        BadInput(label: "missing corpus", arguments: ["--corpus", "/nonexistent/corpus.jsonl", "--kind", "plt", "--width", "8", "--activation", "relu"],
                 mentions: "/nonexistent/corpus.jsonl"),
        BadInput(label: "width 0", arguments: ["--kind", "plt", "--width", "0", "--activation", "relu"], mentions: "--width"),
        BadInput(label: "unknown activation", arguments: ["--kind", "plt", "--width", "8", "--activation", "gelu"], mentions: "--activation 'gelu'"),
        BadInput(label: "topk without k", arguments: ["--kind", "plt", "--width", "8", "--activation", "topk"], mentions: "--k"),
        BadInput(label: "unknown kind", arguments: ["--kind", "sae", "--width", "8", "--activation", "relu"], mentions: "--kind 'sae'"),
        BadInput(label: "clt skip", arguments: ["--kind", "clt", "--width", "8", "--activation", "relu", "--skip"], mentions: "--skip"),
        BadInput(label: "unknown hook", arguments: ["--kind", "plt", "--width", "8", "--activation", "relu", "--input-hook", "resid"], mentions: "--input-hook"),
        BadInput(label: "resume without checkpoint", arguments: ["--kind", "plt", "--width", "8", "--activation", "relu", "--resume"], mentions: "checkpoint"),
    ]

    @Test(arguments: badInputs)
    func badInputGivesOneErrorLineAndStatus2(_ bad: BadInput) throws {
        let folder = try ScratchFolder("train-cli-bad")
        defer { folder.remove() }
        let corpus = try Self.corpus(in: folder)
        var args = base(corpus, out: folder.file("out"))
        // A later --corpus overrides the first (ArgumentParser keeps the last value).
        args += bad.arguments
        let r = try CircuitsProcess.run(args, in: folder.url)
        #expect(r.status == 2, "\(bad): status \(String(describing: r.status)), stderr \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && r.stderr.contains(bad.mentions), "\(bad): \(r.stderr)")
    }
}
